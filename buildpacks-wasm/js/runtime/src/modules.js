// Modules as Node resolves them: ES modules (import) and CommonJS
// (require), relative paths, packages in node_modules with their
// package.json `exports` / `module` / `main`, JSON files, and the few
// built-in modules that make sense without a host OS. The runtime's module
// loader (lib.rs) asks `wf.resolve` and `wf.moduleSource` for every import.
(() => {
  'use strict';
  const wf = globalThis.__wf;

  const dirname = (p) => { const i = p.lastIndexOf('/'); return i <= 0 ? '/' : p.slice(0, i); };
  const normalize = (p) => {
    const out = [];
    for (const part of p.split('/')) {
      if (part === '..') out.pop();
      else if (part && part !== '.') out.push(part);
    }
    return `/${out.join('/')}`;
  };
  const join = (...parts) => normalize(parts.filter((p) => p !== '').join('/'));
  const resolvePath = (...parts) => {
    let r = '';
    for (const p of parts) r = p.startsWith('/') ? p : `${r}/${p}`;
    return normalize(r.startsWith('/') ? r : `${process.cwd()}/${r}`);
  };
  const basename = (p, ext) => { const b = p.replace(/\/+$/, '').split('/').pop(); return ext && b.endsWith(ext) ? b.slice(0, -ext.length) : b; };
  const extname = (p) => { const b = basename(p); const i = b.lastIndexOf('.'); return i <= 0 ? '' : b.slice(i); };
  const path = {
    sep: '/', delimiter: ':', dirname, basename, extname, normalize, join, resolve: resolvePath,
    isAbsolute: (p) => p.startsWith('/'),
    relative: (from, to) => {
      const a = resolvePath(from).split('/').filter(Boolean); const b = resolvePath(to).split('/').filter(Boolean);
      let i = 0; while (i < a.length && a[i] === b[i]) i++;
      return [...a.slice(i).map(() => '..'), ...b.slice(i)].join('/');
    },
  };
  path.posix = path;

  class EventEmitter {
    #listeners = new Map();
    on(name, fn) { (this.#listeners.get(name) || this.#listeners.set(name, []).get(name)).push(fn); return this; }
    addListener(name, fn) { return this.on(name, fn); }
    once(name, fn) { const once = (...a) => { this.off(name, once); fn.apply(this, a); }; return this.on(name, once); }
    off(name, fn) { const l = this.#listeners.get(name); if (l) this.#listeners.set(name, l.filter((f) => f !== fn)); return this; }
    removeListener(name, fn) { return this.off(name, fn); }
    removeAllListeners(name) { if (name === undefined) this.#listeners.clear(); else this.#listeners.delete(name); return this; }
    emit(name, ...args) { const l = this.#listeners.get(name); if (!l || !l.length) return false; for (const fn of [...l]) fn.apply(this, args); return true; }
    listenerCount(name) { return (this.#listeners.get(name) || []).length; }
  }
  const util = {
    format: (...args) => args.map((a) => wf.inspect(a, 0)).join(' '),
    inspect: (v) => wf.inspect(v, 0),
    promisify: (fn) => (...args) => new Promise((resolve, reject) => fn(...args, (err, value) => (err ? reject(err) : resolve(value)))),
    types: { isPromise: (v) => v instanceof Promise },
  };
  const builtins = {
    path, events: Object.assign(EventEmitter, { EventEmitter }), util, process,
    url: { URL, URLSearchParams },
  };
  const builtinName = (spec) => {
    const name = spec.startsWith('node:') ? spec.slice(5) : spec;
    return Object.prototype.hasOwnProperty.call(builtins, name) ? name : null;
  };
  const nodeOnly = new Set(['fs', 'http', 'https', 'net', 'child_process', 'os', 'crypto', 'stream', 'zlib', 'tls', 'dns', 'cluster', 'worker_threads', 'buffer', 'assert', 'fs/promises', 'readline', 'vm']);

  const packageJson = (dir) => {
    const file = `${dir}/package.json`;
    if (!wf.isFile(file)) return null;
    try { return JSON.parse(wf.readText(file)); } catch (e) { throw new SyntaxError(`${file}: ${e.message}`); }
  };
  // The package.json that governs a file (for "type": "module").
  const owningPackage = (file) => {
    for (let dir = dirname(file); ; dir = dirname(dir)) {
      const pkg = packageJson(dir);
      if (pkg) return pkg;
      if (dir === '/' || basename(dir) === 'node_modules') return null;
    }
  };
  const asFile = (p) => {
    if (wf.isFile(p)) return p;
    for (const ext of ['.js', '.mjs', '.cjs', '.json']) if (wf.isFile(p + ext)) return p + ext;
    return null;
  };
  const asDirectory = (dir, kind) => {
    const pkg = packageJson(dir);
    if (pkg) {
      const main = (kind === 'import' && typeof pkg.module === 'string' && pkg.module) || pkg.main;
      if (typeof main === 'string' && main) {
        const found = asFile(join(dir, main)) || asIndex(join(dir, main));
        if (found) return found;
      }
    }
    return asIndex(dir);
  };
  const asIndex = (dir) => {
    for (const name of ['index.js', 'index.mjs', 'index.cjs', 'index.json']) if (wf.isFile(`${dir}/${name}`)) return `${dir}/${name}`;
    return null;
  };
  // package.json "exports": a string, a map of subpaths, or conditions.
  const conditionsOf = (kind) => [kind, 'worker', 'default'];
  const target = (value, kind) => {
    if (typeof value === 'string') return value;
    if (Array.isArray(value)) { for (const v of value) { const t = target(v, kind); if (t) return t; } return null; }
    if (value && typeof value === 'object') for (const c of conditionsOf(kind)) if (c in value) { const t = target(value[c], kind); if (t) return t; }
    return null;
  };
  const fromExports = (dir, exportsField, subpath, kind) => {
    const isMap = exportsField && typeof exportsField === 'object' && !Array.isArray(exportsField) && Object.keys(exportsField).some((k) => k.startsWith('.'));
    const map = isMap ? exportsField : { '.': exportsField };
    let found = null;
    if (subpath in map) found = target(map[subpath], kind);
    else {
      for (const key of Object.keys(map)) {
        const star = key.indexOf('*');
        if (star >= 0 && subpath.startsWith(key.slice(0, star)) && subpath.endsWith(key.slice(star + 1))) {
          const t = target(map[key], kind);
          if (t) found = t.replace('*', subpath.slice(star, subpath.length - (key.length - star - 1)));
          break;
        }
      }
    }
    return found ? join(dir, found) : null;
  };

  // Where `spec`, imported or required from `from`, is: a file's path, or `node:<name>`.
  wf.resolve = (spec, from, kind = 'require') => {
    const name = builtinName(spec);
    if (name) return `node:${name}`;
    const base = dirname(from);
    let found = null;
    if (spec.startsWith('./') || spec.startsWith('../') || spec.startsWith('/') || spec === '.' || spec === '..') {
      const p = spec.startsWith('/') ? normalize(spec) : join(base, spec);
      found = asFile(p) || (wf.isDir(p) ? asDirectory(p, kind) : null);
    } else {
      const bare = spec.startsWith('node:') ? spec.slice(5) : spec;
      if (nodeOnly.has(bare)) throw new Error(`Cannot use Node's built-in module '${bare}' (imported from ${from}): the JavaScript runtime has the web APIs (fetch, Request, Response, URL, TextEncoder, crypto.getRandomValues) and the modules ${Object.keys(builtins).join(', ')}`);
      const parts = bare.split('/');
      const pkgName = bare.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
      const subpath = `.${bare.slice(pkgName.length)}`;
      for (let dir = base; ; dir = dirname(dir)) {
        if (basename(dir) !== 'node_modules') {
          const pkgDir = `${dir}/node_modules/${pkgName}`;
          if (wf.isDir(pkgDir)) {
            const pkg = packageJson(pkgDir);
            if (pkg && pkg.exports !== undefined) {
              found = fromExports(pkgDir, pkg.exports, subpath, kind);
              if (!found) throw new Error(`Package subpath '${subpath}' is not exported by ${pkgName} (imported from ${from})`);
              found = asFile(found);
            } else if (subpath === '.') found = asDirectory(pkgDir, kind);
            else { const p = join(pkgDir, subpath); found = asFile(p) || (wf.isDir(p) ? asDirectory(p, kind) : null); }
            break;
          }
        }
        if (dir === '/') break;
      }
    }
    if (!found) throw new Error(`Cannot find module '${spec}' imported from ${from}`);
    return found;
  };

  // ESM or CommonJS, as Node decides (extension, then the package's "type"),
  // and for a plain .js outside a "type": "module" package, by its syntax.
  const isModule = (file, source) => {
    if (file.endsWith('.mjs')) return true;
    if (file.endsWith('.cjs') || file.endsWith('.json')) return false;
    const pkg = owningPackage(file);
    if (pkg && pkg.type === 'module') return true;
    if (pkg && pkg.type === 'commonjs') return false;
    return /^\s*(import\s*[\w{*'"]|export\s)/m.test(source);
  };

  const cache = new Map();
  const makeRequire = (from) => {
    const require = (spec) => {
      const file = wf.resolve(spec, from, 'require');
      if (file.startsWith('node:')) return builtins[file.slice(5)];
      return requireFile(file);
    };
    require.resolve = (spec) => wf.resolve(spec, from, 'require');
    require.cache = cache;
    return require;
  };
  const requireFile = (file) => {
    const cached = cache.get(file);
    if (cached) return cached.exports;
    const module = { id: file, filename: file, path: dirname(file), exports: {}, loaded: false, children: [] };
    cache.set(file, module);
    try {
      const source = wf.readText(file);
      if (file.endsWith('.json')) module.exports = JSON.parse(source);
      else if (isModule(file, source)) throw new Error(`require() of the ES module ${file}: use import instead`);
      else wf.compileCommonJs(file, source).call(module.exports, module.exports, makeRequire(file), module, file, dirname(file));
    } catch (e) {
      cache.delete(file);
      throw e;
    }
    module.loaded = true;
    return module.exports;
  };
  wf.requireFile = requireFile;
  globalThis.require = makeRequire(`${process.cwd()}/index.js`);

  const ident = /^[A-Za-z_$][\w$]*$/;
  const reexport = (expr, value) => {
    const names = value && (typeof value === 'object' || typeof value === 'function') ? Object.keys(value).filter((k) => ident.test(k) && k !== 'default') : [];
    return `const m = ${expr};\nexport default m;\n${names.map((n) => `export const ${n} = m.${n};`).join('\n')}\n`;
  };
  // The ES module text the loader declares for a resolved path: the file
  // itself, or a wrapper exporting a JSON file, a CommonJS module or a built-in.
  wf.moduleSource = (file) => {
    if (file.startsWith('node:')) return reexport(`globalThis.__wf.builtin(${JSON.stringify(file.slice(5))})`, builtins[file.slice(5)]);
    const source = wf.readText(file);
    if (isModule(file, source)) return source;
    return reexport(`globalThis.__wf.requireFile(${JSON.stringify(file)})`, requireFile(file));
  };
  wf.builtin = (name) => builtins[name];

  // Loads the app's main module and finds its fetch handler: `export
  // default { fetch }`, `module.exports = { fetch }` or a fetch listener.
  wf.loadMain = async (file) => {
    let exported;
    if (isModule(file, wf.readText(file))) exported = (await import(file)).default;
    else exported = requireFile(file);
    const fetchOf = (v) => (v && typeof v.fetch === 'function' ? v.fetch.bind(v) : null);
    const handler = fetchOf(exported) || fetchOf(exported && exported.default) || (typeof exported === 'function' && exported.length <= 3 && exported.name === 'fetch' ? exported : null);
    if (handler) wf.setHandler(handler);
    if (!wf.hasHandler()) {
      throw new Error(`${file} has no fetch handler: export one (\`export default { async fetch(request) { return new Response('hello') } }\`, or \`module.exports = { fetch }\`) or call addEventListener('fetch', (event) => event.respondWith(...))`);
    }
  };
})();
