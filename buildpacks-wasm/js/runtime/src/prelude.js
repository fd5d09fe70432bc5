// The web platform a fetch-handler app expects (Workers, Deno Deploy,
// Spin), written over the few native functions of `__wf` (host.rs).
// Evaluated once when the runtime starts, before the app; at staging that
// is inside the pre-initialisation, so instances start with it in memory.
(() => {
  'use strict';
  const wf = globalThis.__wf;
  const define = (name, value) =>
    Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });

  // ---- console: one line per call, to the app's log ----
  const inspect = (value, depth = 0) => {
    if (typeof value === 'string') return depth ? JSON.stringify(value) : value;
    if (value instanceof Error) return value.stack ? `${value.name}: ${value.message}\n${value.stack}`.trimEnd() : String(value);
    if (typeof value === 'function') return `[Function ${value.name || '(anonymous)'}]`;
    if (typeof value === 'bigint') return `${value}n`;
    if (value === null || typeof value !== 'object') return String(value);
    if (depth > 3) return Array.isArray(value) ? '[Array]' : '[Object]';
    if (Array.isArray(value)) return `[ ${value.map((v) => inspect(v, depth + 1)).join(', ')} ]`;
    if (value instanceof Headers || value instanceof URLSearchParams || value instanceof Map)
      return `${value.constructor.name} { ${[...value].map(([k, v]) => `${inspect(k, 1)} => ${inspect(v, 1)}`).join(', ')} }`;
    if (value instanceof URL) return `URL ${value.href}`;
    const entries = Object.keys(value).map((k) => `${/^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k)}: ${inspect(value[k], depth + 1)}`);
    const name = value.constructor && value.constructor !== Object ? `${value.constructor.name} ` : '';
    return entries.length ? `${name}{ ${entries.join(', ')} }` : `${name}{}`;
  };
  const format = (args) => {
    // Most lines have no % at all: includes() costs less than the pattern.
    if (typeof args[0] === 'string' && args[0].includes('%') && /%[sdifjoO%]/.test(args[0])) {
      let i = 1;
      const head = args[0].replace(/%([sdifjoO%])/g, (m, f) => {
        if (f === '%') return '%';
        if (i >= args.length) return m;
        const v = args[i++];
        if (f === 's') return typeof v === 'string' ? v : inspect(v, 1);
        if (f === 'd' || f === 'i') return String(f === 'i' ? parseInt(v) : Number(v));
        if (f === 'f') return String(parseFloat(v));
        if (f === 'j') return JSON.stringify(v);
        return inspect(v, 1);
      });
      return [head, ...args.slice(i).map((a) => inspect(a))].join(' ');
    }
    return args.map((a) => inspect(a)).join(' ');
  };
  const out = (stream) => (...args) => wf.print(stream, format(args));
  define('console', {
    log: out(1), info: out(1), debug: out(1), trace: out(2), warn: out(2), error: out(2),
    dir: (v) => wf.print(1, inspect(v)),
  });

  // ---- process: the instance's environment ----
  // Read as the app loads (in a snapshot, the staging instance's), then
  // again before a store's first request: the instance's own. A store
  // belongs to one instance for its life, so once is enough.
  const env = {};
  const refreshEnv = () => {
    for (const k of Object.keys(env)) delete env[k];
    Object.assign(env, wf.env());
  };
  refreshEnv();
  let envIsInstances = false;
  const started = wf.now();
  // process is an event emitter (apps listen for SIGTERM), without
  // node:events: most apps never load it.
  const processListeners = new Map();
  const listenersFor = (name) => processListeners.get(name) || processListeners.set(name, []).get(name);
  // stdout and stderr: the app's log, a line per line written.
  const stdio = (fd) => {
    let pending = '';
    return {
      fd, isTTY: false, writable: true,
      write(chunk, encoding, cb) {
        const text = pending + (typeof chunk === 'string' ? chunk : wf.decodeUtf8(bytesOf(chunk), false));
        const lines = text.split('\n');
        pending = lines.pop();
        for (const line of lines) wf.print(fd, line);
        const done = typeof encoding === 'function' ? encoding : cb;
        if (done) queueMicrotask(done);
        return true;
      },
      end(chunk) { if (chunk) this.write(chunk); if (pending) { wf.print(fd, pending); pending = ''; } },
      on() { return this; }, once() { return this; }, emit() { return false; }, removeListener() { return this; },
      getColorDepth: () => 1, hasColors: () => false,
    };
  };
  const proc = {
    env, argv: ['wf-js', ...wf.args().slice(1)], argv0: 'node', execArgv: [], execPath: '/usr/bin/node',
    platform: 'wasi', arch: 'wasm32', version: 'v20.0.0', pid: 1, ppid: 0, title: 'node',
    versions: { node: '20.0.0', quickjs: '2025' }, release: { name: 'wasmfoundry' }, features: {}, config: { variables: {} },
    cwd: () => wf.home, chdir: () => { throw new Error('process.chdir is not available: an instance stays in its app directory'); },
    umask: () => 0o22, getuid: () => 0, getgid: () => 0, geteuid: () => 0, getegid: () => 0,
    exitCode: undefined,
    exit: (code = 0) => { throw new Error(`process.exit(${code}) is not available to a request handler`); },
    abort: () => { throw new Error('process.abort() called'); },
    kill: () => { throw new Error('process.kill is not available'); },
    nextTick: (fn, ...args) => queueMicrotask(() => fn(...args)),
    hrtime: Object.assign((prev) => {
      const n = wf.now(); const t = [Math.floor(n / 1e9), n % 1e9];
      if (!prev) return t;
      const d = (t[0] - prev[0]) * 1e9 + (t[1] - prev[1]);
      return [Math.floor(d / 1e9), d % 1e9];
    }, { bigint: () => BigInt(wf.now()) }),
    uptime: () => (wf.now() - started) / 1e9,
    memoryUsage: Object.assign(() => ({ rss: wf.memorySize(), heapTotal: wf.memorySize(), heapUsed: wf.memorySize(), external: 0, arrayBuffers: 0 }), { rss: () => wf.memorySize() }),
    cpuUsage: () => ({ user: 0, system: 0 }),
    emitWarning: (warning, type) => console.error(`(node) ${typeof type === 'string' ? type : 'Warning'}: ${warning instanceof Error ? warning.message : warning}`),
    binding: (name) => { throw new Error(`No such module: ${name}`); },
    stdout: stdio(1), stderr: stdio(2),
    stdin: { fd: 0, isTTY: false, on() { return this; }, once() { return this; }, resume() { return this; }, pause() { return this; } },
    on(name, fn) { listenersFor(name).push(fn); return proc; },
    once(name, fn) { const once = (...a) => { proc.off(name, once); fn(...a); }; once.listener = fn; return proc.on(name, once); },
    off(name, fn) { const l = listenersFor(name); const i = l.findIndex((f) => f === fn || f.listener === fn); if (i >= 0) l.splice(i, 1); return proc; },
    emit(name, ...args) { const l = [...listenersFor(name)]; for (const fn of l) fn(...args); return l.length > 0; },
    listeners: (name) => [...listenersFor(name)],
    listenerCount: (name) => listenersFor(name).length,
    removeAllListeners(name) { if (name === undefined) processListeners.clear(); else processListeners.delete(name); return proc; },
  };
  proc.addListener = proc.on;
  proc.removeListener = proc.off;
  proc.prependListener = proc.on;
  proc.setMaxListeners = () => proc;
  proc.getMaxListeners = () => 10;
  define('process', proc);
  define('global', globalThis);

  // ---- timers: run by the request's event loop ----
  let nextTimer = 1;
  const timers = new Map();
  const setTimer = (fn, ms, args, repeat) => {
    const id = nextTimer++;
    const delay = Math.max(0, Number(ms) || 0);
    timers.set(id, { fn, args, due: wf.now() / 1e6 + delay, repeat: repeat ? Math.max(1, delay) : 0 });
    return id;
  };
  define('setTimeout', (fn, ms, ...args) => setTimer(fn, ms, args, false));
  define('setInterval', (fn, ms, ...args) => setTimer(fn, ms, args, true));
  define('clearTimeout', (id) => { timers.delete(id); });
  define('clearInterval', (id) => { timers.delete(id); });
  define('setImmediate', (fn, ...args) => setTimer(fn, 0, args, false));
  define('clearImmediate', (id) => { timers.delete(id); });
  define('queueMicrotask', (fn) => { Promise.resolve().then(fn); });
  // Runs the earliest timer (waiting for it); false when none is left.
  const runTimer = () => {
    let first = null;
    for (const [id, t] of timers) if (!first || t.due < first[1].due) first = [id, t];
    if (!first) return false;
    const [id, t] = first;
    const wait = t.due - wf.now() / 1e6;
    if (wait > 0) wf.sleep(wait);
    if (t.repeat) t.due += t.repeat; else timers.delete(id);
    if (typeof t.fn === 'function') t.fn(...t.args);
    return true;
  };

  // ---- text, bytes and randomness ----
  class TextEncoder {
    get encoding() { return 'utf-8'; }
    encode(text = '') { return wf.encodeUtf8(String(text)); }
    encodeInto(text, into) { const b = this.encode(text); const n = Math.min(b.length, into.length); into.set(b.subarray(0, n)); return { read: n === b.length ? String(text).length : undefined, written: n }; }
  }
  class TextDecoder {
    constructor(label = 'utf-8', options = {}) {
      if (!/^utf-?8$/i.test(label)) throw new RangeError(`TextDecoder: only utf-8 is supported, not ${label}`);
      this.fatal = !!options.fatal;
    }
    get encoding() { return 'utf-8'; }
    decode(input) { return input === undefined ? '' : wf.decodeUtf8(bytesOf(input), this.fatal); }
  }
  const bytesOf = (input) => {
    if (input instanceof Uint8Array) return input;
    if (input instanceof ArrayBuffer) return new Uint8Array(input);
    if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    throw new TypeError('expected an ArrayBuffer or a typed array');
  };
  define('TextEncoder', TextEncoder);
  define('TextDecoder', TextDecoder);
  const b64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  define('btoa', (s) => {
    s = String(s); let r = '';
    for (let i = 0; i < s.length; i += 3) {
      const [a, b, c] = [s.charCodeAt(i), s.charCodeAt(i + 1), s.charCodeAt(i + 2)];
      if (a > 255 || b > 255 || c > 255) throw new Error('btoa: the string has characters outside Latin1');
      const n = (a << 16) | ((b || 0) << 8) | (c || 0);
      r += b64[n >> 18] + b64[(n >> 12) & 63] + (i + 1 < s.length ? b64[(n >> 6) & 63] : '=') + (i + 2 < s.length ? b64[n & 63] : '=');
    }
    return r;
  });
  define('atob', (s) => {
    s = String(s).replace(/[\s=]/g, ''); let r = ''; let bits = 0; let n = 0;
    for (const ch of s) {
      const v = b64.indexOf(ch);
      if (v < 0) throw new Error('atob: not base64');
      n = (n << 6) | v; bits += 6;
      if (bits >= 8) { bits -= 8; r += String.fromCharCode((n >> bits) & 255); }
    }
    return r;
  });
  const hex = (b) => b.toString(16).padStart(2, '0');
  define('crypto', {
    getRandomValues(array) { const b = wf.randomBytes(array.byteLength); new Uint8Array(array.buffer, array.byteOffset, array.byteLength).set(b); return array; },
    randomUUID() {
      const b = wf.randomBytes(16); b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
      const h = [...b].map(hex).join('');
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    },
  });
  // Every instance starts from the same snapshot: Math.random must not
  // replay the same numbers in each, so it draws from the host.
  Math.random = () => { const b = wf.randomBytes(7); let n = 0; for (let i = 0; i < 7; i++) n = n * 256 + b[i]; return (n / 2 ** 56); };

  // Globals a built-in module holds, loaded the first time one is used:
  // Node's Buffer, and the WHATWG streams of node:stream/web.
  const lazyGlobals = (module, names) => {
    for (const name of names) {
      Object.defineProperty(globalThis, name, {
        configurable: true, enumerable: false,
        get() { const exports = require(module); for (const n of names) define(n, exports[n]); return exports[name]; },
        set(value) { define(name, value); },
      });
    }
  };
  lazyGlobals('buffer', ['Buffer']);
  lazyGlobals('stream/web', ['ReadableStream', 'ReadableStreamDefaultReader', 'WritableStream', 'WritableStreamDefaultWriter', 'TransformStream', 'CountQueuingStrategy', 'TextEncoderStream', 'TextDecoderStream']);

  // ---- V8's stack trace API ----
  // QuickJS has Error.captureStackTrace and prepareStackTrace; its call
  // sites lack the methods packages ask of V8's (depd calls isEval).
  {
    const prepare = Error.prepareStackTrace;
    Error.prepareStackTrace = (_, sites) => sites;
    const sites = new Error().stack;
    Error.prepareStackTrace = prepare;
    const callSite = Array.isArray(sites) && sites.length ? Object.getPrototypeOf(sites[0]) : null;
    const missing = {
      isEval: () => false, isToplevel: () => false, isAsync: () => false, isPromiseAll: () => false,
      getEvalOrigin: () => undefined, getThis: () => undefined, getTypeName: () => null, getMethodName: () => null,
      getScriptNameOrSourceURL() { return this.getFileName(); }, getPromiseIndex: () => null,
    };
    if (callSite) for (const [name, fn] of Object.entries(missing)) if (!(name in callSite)) Object.defineProperty(callSite, name, { value: fn, configurable: true, writable: true });
  }

  // ---- URL and URLSearchParams (WHATWG, for http-like URLs) ----
  const encodeForm = (s) => encodeURIComponent(s).replace(/%20/g, '+').replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const decodeForm = (s) => { try { return decodeURIComponent(s.replace(/\+/g, ' ')); } catch { return s; } };
  class URLSearchParams {
    #list = [];
    #url = null;
    constructor(init = '') {
      if (typeof init === 'string') this.#parse(init);
      else if (init instanceof URLSearchParams) this.#list = [...init];
      else if (init && typeof init[Symbol.iterator] === 'function') for (const [k, v] of init) this.#list.push([String(k), String(v)]);
      else if (init && typeof init === 'object') for (const k of Object.keys(init)) this.#list.push([k, String(init[k])]);
    }
    #parse(s) {
      this.#list = [];
      for (const part of s.replace(/^\?/, '').split('&')) {
        if (!part) continue;
        const i = part.indexOf('=');
        this.#list.push(i < 0 ? [decodeForm(part), ''] : [decodeForm(part.slice(0, i)), decodeForm(part.slice(i + 1))]);
      }
    }
    static _bind(params, url) { params.#url = url; return params; }
    static _reparse(params, s) { params.#parse(s); }
    #update() { if (this.#url) this.#url._setSearch(this.toString()); }
    get size() { return this.#list.length; }
    append(k, v) { this.#list.push([String(k), String(v)]); this.#update(); }
    delete(k) { this.#list = this.#list.filter(([n]) => n !== String(k)); this.#update(); }
    get(k) { const e = this.#list.find(([n]) => n === String(k)); return e ? e[1] : null; }
    getAll(k) { return this.#list.filter(([n]) => n === String(k)).map(([, v]) => v); }
    has(k) { return this.#list.some(([n]) => n === String(k)); }
    set(k, v) {
      k = String(k); const i = this.#list.findIndex(([n]) => n === k);
      if (i < 0) this.#list.push([k, String(v)]);
      else { this.#list[i] = [k, String(v)]; this.#list = this.#list.filter(([n], j) => n !== k || j === i); }
      this.#update();
    }
    sort() { this.#list.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)); this.#update(); }
    forEach(fn, self) { for (const [k, v] of this.#list) fn.call(self, v, k, this); }
    keys() { return this.#list.map(([k]) => k)[Symbol.iterator](); }
    values() { return this.#list.map(([, v]) => v)[Symbol.iterator](); }
    entries() { return this.#list.map((e) => [...e])[Symbol.iterator](); }
    [Symbol.iterator]() { return this.entries(); }
    toString() { return this.#list.map(([k, v]) => `${encodeForm(k)}=${encodeForm(v)}`).join('&'); }
  }
  const special = { 'http:': '80', 'https:': '443', 'ws:': '80', 'wss:': '443', 'ftp:': '21', 'file:': '' };
  const normalizePath = (path) => {
    // Only a segment that is a dot or two (or %2e) changes anything.
    if (!/(^|\/)(\.|%2e)/i.test(path)) return path.startsWith('/') ? path : `/${path}`;
    const out = [];
    const parts = path.split('/');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      const last = i === parts.length - 1;
      if (p === '..' || /^%2e%2e$/i.test(p)) { if (out.length > 1) out.pop(); if (last) out.push(''); }
      else if (p === '.' || /^%2e$/i.test(p)) { if (last) out.push(''); }
      else out.push(p);
    }
    const joined = out.join('/');
    return joined.startsWith('/') ? joined : `/${joined}`;
  };
  // Percent-encodes the characters of a set, tested for first: most URLs
  // have none, and a test costs less than a replace that finds nothing.
  const encoder = (chars) => {
    const any = new RegExp(`[${chars}]`);
    const every = new RegExp(`[${chars}]`, 'g');
    return (s) => (any.test(s) ? s.replace(every, (c) => encodeURIComponent(c)) : s);
  };
  const encodePath = encoder('\\s"<>`{}');
  const encodeQuery = encoder('\\s"<>`');
  const parseURL = (input, base) => {
    input = String(input).trim();
    const m = /^([A-Za-z][A-Za-z0-9+.-]*):(.*)$/s.exec(input);
    if (m) {
      const protocol = `${m[1].toLowerCase()}:`;
      let rest = m[2];
      if (!(protocol in special)) {
        const [, path, query, hash] = /^([^?#]*)(\?[^#]*)?(#.*)?$/s.exec(rest);
        return { protocol, username: '', password: '', hostname: '', port: '', pathname: path, search: query && query.length > 1 ? query : '', hash: hash && hash.length > 1 ? hash : '', opaque: true };
      }
      if (rest.includes('\\')) rest = rest.replace(/\\/g, '/');
      if (!rest.startsWith('//')) {
        if (base && base.protocol === protocol) return parseRelative(rest, base);
        rest = `//${rest.replace(/^\/*/, '')}`;
      }
      const a = /^\/\/([^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$/s.exec(rest);
      let authority = a[1];
      let username = ''; let password = '';
      const at = authority.lastIndexOf('@');
      if (at >= 0) {
        const cred = authority.slice(0, at); authority = authority.slice(at + 1);
        const c = cred.indexOf(':');
        username = c < 0 ? cred : cred.slice(0, c); password = c < 0 ? '' : cred.slice(c + 1);
      }
      const hp = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(authority);
      if (!hp || (protocol !== 'file:' && !hp[1])) throw new TypeError(`Invalid URL: ${input}`);
      const hostname = hp[1].toLowerCase();
      if (/[\s<>^|%]/.test(hostname) && !hostname.startsWith('[')) throw new TypeError(`Invalid URL: ${input}`);
      let port = hp[2] || '';
      if (port && Number(port) > 65535) throw new TypeError(`Invalid URL: ${input}`);
      if (port) port = String(Number(port));
      if (port === special[protocol]) port = '';
      return {
        protocol, username, password, hostname, port,
        pathname: normalizePath(encodePath(a[2] || '/')),
        search: a[3] && a[3].length > 1 ? encodeQuery(a[3]) : '',
        hash: a[4] && a[4].length > 1 ? encodeQuery(a[4]) : '',
      };
    }
    if (!base) throw new TypeError(`Invalid URL: ${input}`);
    return parseRelative(input.replace(/\\/g, '/'), base);
  };
  const parseRelative = (input, base) => {
    if (input.startsWith('//')) return parseURL(base.protocol + input);
    const [, path, query, hash] = /^([^?#]*)(\?[^#]*)?(#.*)?$/s.exec(input);
    const r = { ...base, hash: hash && hash.length > 1 ? hash : '' };
    if (path) {
      const dir = base.pathname.slice(0, base.pathname.lastIndexOf('/') + 1);
      r.pathname = normalizePath(encodePath(path.startsWith('/') ? path : dir + path));
      r.search = query && query.length > 1 ? query : '';
    } else if (query !== undefined) r.search = query.length > 1 ? query : '';
    return r;
  };
  class URL {
    #p;
    #params = null; // made when first asked for
    constructor(input, base) {
      this.#p = parseURL(input, base === undefined ? undefined : parseURL(base instanceof URL ? base.href : base));
    }
    static canParse(input, base) { try { new URL(input, base); return true; } catch { return false; } }
    _setSearch(s) { this.#p.search = s ? `?${s}` : ''; }
    get protocol() { return this.#p.protocol; }
    set protocol(v) { const p = `${String(v).replace(/:.*$/, '').toLowerCase()}:`; if (p in special) this.#p.protocol = p; }
    get username() { return this.#p.username; }
    set username(v) { this.#p.username = String(v); }
    get password() { return this.#p.password; }
    set password(v) { this.#p.password = String(v); }
    get hostname() { return this.#p.hostname; }
    set hostname(v) { this.#p.hostname = String(v).toLowerCase(); }
    get port() { return this.#p.port; }
    set port(v) { v = String(v); this.#p.port = v === special[this.#p.protocol] ? '' : v; }
    get host() { return this.#p.port ? `${this.#p.hostname}:${this.#p.port}` : this.#p.hostname; }
    set host(v) { const [h, p] = String(v).split(':'); this.hostname = h; if (p !== undefined) this.port = p; }
    get origin() { return this.#p.opaque ? 'null' : `${this.protocol}//${this.host}`; }
    get pathname() { return this.#p.pathname; }
    set pathname(v) { this.#p.pathname = this.#p.opaque ? String(v) : normalizePath(encodePath(String(v))); }
    get search() { return this.#p.search; }
    set search(v) { v = String(v).replace(/^\?/, ''); this.#p.search = v ? `?${v}` : ''; if (this.#params) URLSearchParams._reparse(this.#params, v); }
    get searchParams() { return this.#params ??= URLSearchParams._bind(new URLSearchParams(this.#p.search), this); }
    get hash() { return this.#p.hash; }
    set hash(v) { v = String(v).replace(/^#/, ''); this.#p.hash = v ? `#${v}` : ''; }
    get href() {
      const p = this.#p;
      if (p.opaque) return `${p.protocol}${p.pathname}${p.search}${p.hash}`;
      const cred = p.username ? `${p.username}${p.password ? `:${p.password}` : ''}@` : '';
      return `${p.protocol}//${cred}${this.host}${p.pathname}${p.search}${p.hash}`;
    }
    set href(v) { this.#p = parseURL(v); if (this.#params) URLSearchParams._reparse(this.#params, this.#p.search); }
    toString() { return this.href; }
    toJSON() { return this.href; }
  }
  define('URL', URL);
  define('URLSearchParams', URLSearchParams);

  // ---- Headers, Request, Response ----
  // Names checked once: an app uses the same few again and again.
  const validNames = new Set();
  const headerName = (name) => {
    name = String(name).toLowerCase();
    if (validNames.has(name)) return name;
    if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(name)) throw new TypeError(`Invalid header name: ${name}`);
    if (validNames.size < 256) validNames.add(name);
    return name;
  };
  class Headers {
    #map = new Map();
    constructor(init) {
      if (init instanceof Headers) this.#map = new Map(init.#map);
      else if (Array.isArray(init)) for (const [k, v] of init) this.append(k, v);
      else if (init && typeof init === 'object') for (const k of Object.keys(init)) this.append(k, init[k]);
    }
    append(k, v) { this.#add(headerName(k), String(v).trim()); }
    #add(k, v) { const old = this.#map.get(k); this.#map.set(k, old === undefined ? v : k === 'set-cookie' ? `${old}\n${v}` : `${old}, ${v}`); }
    // Field lines wasi:http has checked already: lower-case names, trimmed values.
    static _fromLines(lines) { const h = new Headers(); for (const [k, v] of lines) h.#add(k, v); return h; }
    delete(k) { this.#map.delete(headerName(k)); }
    get(k) { k = headerName(k); const v = this.#map.get(k); return v === undefined ? null : k === 'set-cookie' ? v.replace(/\n/g, ', ') : v; }
    getSetCookie() { const v = this.#map.get('set-cookie'); return v === undefined ? [] : v.split('\n'); }
    has(k) { return this.#map.has(headerName(k)); }
    set(k, v) { this.#map.set(headerName(k), String(v).trim()); }
    forEach(fn, self) { for (const [k, v] of this.entries()) fn.call(self, v, k, this); }
    *entries() { for (const k of [...this.#map.keys()].sort()) yield [k, this.get(k)]; }
    keys() { return [...this.entries()].map(([k]) => k)[Symbol.iterator](); }
    values() { return [...this.entries()].map(([, v]) => v)[Symbol.iterator](); }
    [Symbol.iterator]() { return this.entries(); }
    // Every field line, a set-cookie per cookie: what goes on the wire.
    _lines() { const r = []; for (const [k, v] of this.#map) for (const one of v.split('\n')) r.push([k, one]); return r; }
  }
  define('Headers', Headers);

  // Form fields, in order, a name possibly more than once (string values).
  class FormData {
    #list = [];
    append(name, value) { this.#list.push([String(name), String(value)]); }
    delete(name) { this.#list = this.#list.filter(([n]) => n !== String(name)); }
    get(name) { const e = this.#list.find(([n]) => n === String(name)); return e ? e[1] : null; }
    getAll(name) { return this.#list.filter(([n]) => n === String(name)).map(([, v]) => v); }
    has(name) { return this.#list.some(([n]) => n === String(name)); }
    set(name, value) { this.delete(name); this.append(name, value); }
    forEach(fn, self) { for (const [k, v] of this.#list) fn.call(self, v, k, this); }
    entries() { return this.#list.map((e) => [...e])[Symbol.iterator](); }
    keys() { return this.#list.map(([k]) => k)[Symbol.iterator](); }
    values() { return this.#list.map(([, v]) => v)[Symbol.iterator](); }
    [Symbol.iterator]() { return this.entries(); }
  }
  define('FormData', FormData);

  const INCOMING = Symbol('incoming');
  const isStream = (body) => body !== null && typeof body === 'object' && typeof body.getReader === 'function';
  // A stream's chunk (bytes, or text) as bytes.
  const chunkBytes = (chunk) => (typeof chunk === 'string' ? wf.encodeUtf8(chunk) : bytesOf(chunk));
  // A stream's chunks as one Uint8Array.
  const readWhole = async (stream) => {
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunkBytes(chunk));
    const whole = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of chunks) { whole.set(c, at); at += c.length; }
    return whole;
  };
  // A body is kept as bytes (or a string until read as bytes), or as the
  // ReadableStream it was given.
  const bodyInit = (body, headers) => {
    if (body === undefined || body === null) return null;
    const type = (t) => { if (!headers.has('content-type')) headers.set('content-type', t); };
    if (typeof body === 'string') { type('text/plain;charset=UTF-8'); return body; }
    if (body instanceof URLSearchParams) { type('application/x-www-form-urlencoded;charset=UTF-8'); return body.toString(); }
    if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return new Uint8Array(bytesOf(body));
    if (isStream(body)) return body;
    type('text/plain;charset=UTF-8');
    return String(body);
  };
  class Body {
    _body = null;
    _used = false;
    get bodyUsed() { return this._used; }
    // The body as a stream (made from its bytes the first time it is asked for).
    get body() {
      if (this._body === null || isStream(this._body)) return this._body;
      const bytes = this._bytes();
      this._body = new ReadableStream({ start(c) { if (bytes.length) c.enqueue(bytes); c.close(); } });
      return this._body;
    }
    _bytes() { return typeof this._body === 'string' ? wf.encodeUtf8(this._body) : this._body || new Uint8Array(0); }
    async _take() {
      if (this._used) throw new TypeError('Body has already been used');
      this._used = true;
      return isStream(this._body) ? readWhole(this._body) : this._body;
    }
    async text() { const b = await this._take(); return b === null ? '' : typeof b === 'string' ? b : wf.decodeUtf8(b, false); }
    async json() { return JSON.parse(await this.text()); }
    async arrayBuffer() { const b = await this._take(); const bytes = typeof b === 'string' ? wf.encodeUtf8(b) : b || new Uint8Array(0); return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength); }
    async bytes() { return new Uint8Array(await this.arrayBuffer()); }
    // URL-encoded forms; multipart needs Blob and File, which are not here.
    async formData() {
      const type = (this.headers && this.headers.get('content-type')) || '';
      if (!/^application\/x-www-form-urlencoded\b/i.test(type)) throw new TypeError(`formData() reads application/x-www-form-urlencoded bodies, not ${type || 'a body without a Content-Type'}`);
      const form = new FormData();
      for (const [name, value] of new URLSearchParams(await this.text())) form.append(name, value);
      return form;
    }
  }
  class Request extends Body {
    // A request the router sent: its URL and fields are well-formed
    // already, and nothing else holds them, so none is parsed or copied.
    static _incoming(method, url, headers, body) {
      const request = new Request(INCOMING);
      Object.assign(request, { url, method, headers, redirect: 'follow', signal: null, _body: body });
      return request;
    }

    constructor(input, init = {}) {
      super();
      if (input === INCOMING) return;
      const from = input instanceof Request ? input : null;
      this.url = from ? from.url : new URL(String(input)).href;
      this.method = String(init.method || (from ? from.method : 'GET')).toUpperCase();
      this.headers = new Headers(init.headers || (from ? from.headers : undefined));
      this.redirect = init.redirect || 'follow';
      this.signal = init.signal || null;
      const body = init.body !== undefined ? init.body : from ? from._body : null;
      if (body !== null && body !== undefined && (this.method === 'GET' || this.method === 'HEAD')) throw new TypeError('Request with GET/HEAD method cannot have a body');
      this._body = bodyInit(body, this.headers);
    }
    clone() { return new Request(this); }
  }
  const statusTexts = { 200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content', 301: 'Moved Permanently', 302: 'Found', 303: 'See Other', 304: 'Not Modified', 307: 'Temporary Redirect', 308: 'Permanent Redirect', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 409: 'Conflict', 422: 'Unprocessable Entity', 429: 'Too Many Requests', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable' };
  class Response extends Body {
    constructor(body = null, init = {}) {
      super();
      this.status = init.status === undefined ? 200 : Number(init.status);
      if (!Number.isInteger(this.status) || this.status < 200 || this.status > 599) throw new RangeError(`Response status ${init.status} is not in 200-599`);
      this.statusText = init.statusText === undefined ? statusTexts[this.status] || '' : String(init.statusText);
      this.headers = new Headers(init.headers);
      this._body = bodyInit(body, this.headers);
      this.url = '';
      this.redirected = false;
      this.type = 'default';
    }
    get ok() { return this.status >= 200 && this.status < 300; }
    clone() {
      const r = new Response(null, this);
      if (isStream(this._body)) [this._body, r._body] = this._body.tee(); else r._body = this._body;
      return r;
    }
    static json(data, init = {}) {
      const body = JSON.stringify(data);
      if (body === undefined) throw new TypeError(`Response.json: ${inspect(data, 1)} is not JSON`);
      const response = new Response(null, init);
      if (!response.headers.has('content-type')) response.headers.set('content-type', 'application/json');
      response._body = body;
      return response;
    }
    static redirect(url, status = 302) { return new Response(null, { status, headers: { location: new URL(url).href } }); }
    static error() { const r = new Response(null, { status: 500 }); r.type = 'error'; return r; }
  }
  define('Request', Request);
  define('Response', Response);

  // ---- outgoing fetch: through wasi:http, held to the app's security groups ----
  define('fetch', async (input, init = {}) => {
    const request = input instanceof Request && !Object.keys(init).length ? input : new Request(input, init);
    let url = request.url;
    for (let hops = 0; ; hops++) {
      const body = request._body === null ? null : isStream(request._body) ? await readWhole(request._body) : typeof request._body === 'string' ? wf.encodeUtf8(request._body) : request._body;
      const [status, lines, bytes] = wf.fetch(request.method, url, request.headers._lines(), body);
      const headers = Headers._fromLines(lines);
      const location = headers.get('location');
      if ([301, 302, 303, 307, 308].includes(status) && location && request.redirect === 'follow' && hops < 20) {
        url = new URL(location, url).href;
        continue;
      }
      const response = new Response(null, { status: Math.max(200, status), headers });
      response.status = status;
      response._body = bytes;
      response.url = url;
      response.redirected = hops > 0;
      return response;
    }
  });

  // ---- the app's handler and the request's event loop ----
  // A fetch handler, fetch listeners, or a Node server (node/http.js calls
  // wf.serve when it listens).
  let handler = null;
  let server = null;
  const listeners = [];
  define('addEventListener', (type, listener) => { if (type === 'fetch') listeners.push(listener); });
  wf.setHandler = (fn) => { handler = fn; };
  wf.serve = (fn) => { server = fn; };
  wf.hasHandler = () => handler !== null || server !== null || listeners.length > 0;

  class FetchEvent {
    #responded = null;
    constructor(request, waits) { this.request = request; this.type = 'fetch'; this._waits = waits; }
    respondWith(r) { if (this.#responded) throw new Error('respondWith was already called'); this.#responded = Promise.resolve(r); }
    waitUntil(p) { this._waits.push(Promise.resolve(p)); }
    passThroughOnException() {}
    get _response() { return this.#responded; }
  }

  // Called by the runtime for each request. The answer goes out through
  // wf.respondHead / respondWrite / respondEnd (http.rs): a fetch
  // handler's Response at once, a Node server's as it writes.
  wf.dispatch = async (method, url, lines, body, encrypted) => {
    if (!envIsInstances) { refreshEnv(); envIsInstances = true; }
    wf.afterResponse = null;
    if (server) { await server(method, url, lines, body, encrypted); return; }
    const request = Request._incoming(method, url, Headers._fromLines(lines), body);
    const waits = [];
    const ctx = { waitUntil: (p) => waits.push(Promise.resolve(p)), passThroughOnException() {} };
    let response;
    if (handler) response = await handler(request, process.env, ctx);
    else {
      const event = new FetchEvent(request, waits);
      for (const listener of listeners) { listener(event); if (event._response) break; }
      if (!event._response) throw new Error('no fetch listener called event.respondWith()');
      response = await event._response;
    }
    if (!(response instanceof Response)) throw new TypeError(`the fetch handler returned ${inspect(response, 1)}, not a Response`);
    // waitUntil work goes on after the response is sent (http.rs).
    wf.afterResponse = waits.length ? Promise.all(waits) : null;
    wf.respondHead(response.status, response.headers._lines());
    if (isStream(response._body)) await respondStream(response._body);
    // Text goes as it is: the runtime encodes it once, on its way out.
    else if (response._body !== null) wf.respondWrite(response._body);
    wf.respondEnd();
  };
  // Each chunk goes out as the stream yields it; the stream is cancelled
  // if the client has gone. An error in it cuts the body off (http.rs).
  const respondStream = async (stream) => {
    const reader = stream.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      if (!wf.respondWrite(chunkBytes(value))) {
        await reader.cancel(new Error('the client has gone'));
        return;
      }
    }
  };
  wf.runTimer = runTimer;
  wf.inspect = inspect;
  wf.format = format;
})();
