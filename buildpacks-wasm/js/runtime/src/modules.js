// Modules as Node resolves them: ES modules (import) and CommonJS
// (require), relative paths, packages in node_modules with their
// package.json `exports` / `module` / `main`, JSON files, and Node's
// built-in modules (node/). The runtime's module loader (lib.rs) asks
// `wf.resolve` and `wf.moduleSource` for every import.
(() => {
  'use strict';
  const wf = globalThis.__wf;

  // Node's built-in modules are CommonJS files of node/ (host.rs names
  // them), each evaluated when first required: an app that needs none of
  // them carries none in its heap. `path` is needed at once, by the
  // resolver itself.
  const builtins = new Map();
  const ALIASES = { 'stream/promises': ['stream', 'promises'], 'fs/promises': ['fs', 'promises'], 'timers/promises': ['timers', 'promises'], 'path/posix': ['path', 'posix'], 'util/types': ['util', 'types'], 'assert/strict': ['assert', 'strict'], sys: ['util'] };
  const builtin = (name) => {
    if (name === 'process') return process;
    if (ALIASES[name]) { const [base, member] = ALIASES[name]; const m = builtin(base); return member ? m[member] : m; }
    let module = builtins.get(name);
    if (!module) {
      module = { id: `node:${name}`, exports: {}, loaded: false };
      builtins.set(name, module);
      wf.compileCommonJs(`node:${name}`, wf.nodeSource(name)).call(module.exports, module.exports, requireBuiltin, module, `node:${name}`, '/');
      module.loaded = true;
    }
    return module.exports;
  };
  // Built-ins require only built-ins.
  const requireBuiltin = (spec) => {
    const name = builtinName(spec);
    if (!name) throw new Error(`a built-in module required '${spec}', which is not one`);
    return builtin(name);
  };
  const isBuiltin = (name) => name === 'process' || name in ALIASES || wf.nodeModules.includes(name);
  const builtinName = (spec) => {
    const name = spec.startsWith('node:') ? spec.slice(5) : spec;
    return isBuiltin(name) ? name : null;
  };
  // Node's built-ins the runtime has not: asking for one fails the import
  // (and so staging) with the module's name.
  const NODE_ONLY = ['async_hooks', 'child_process', 'cluster', 'dgram', 'diagnostics_channel', 'dns', 'domain', 'http2', 'https', 'inspector', 'module', 'perf_hooks', 'punycode', 'readline', 'repl', 'sqlite', 'test', 'tls', 'trace_events', 'v8', 'vm', 'wasi', 'worker_threads'];
  const { dirname, basename, normalize, join } = builtin('path');

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
    // `from` is the importing file, or a directory (ending in '/').
    const base = from.endsWith('/') ? from.replace(/\/+$/, '') || '/' : dirname(from);
    let found = null;
    if (spec.startsWith('./') || spec.startsWith('../') || spec.startsWith('/') || spec === '.' || spec === '..') {
      const p = spec.startsWith('/') ? normalize(spec) : join(base, spec);
      found = asFile(p) || (wf.isDir(p) ? asDirectory(p, kind) : null);
    } else {
      const bare = spec.startsWith('node:') ? spec.slice(5) : spec;
      if (NODE_ONLY.includes(bare.split('/')[0])) throw new Error(`Cannot use Node's built-in module '${bare}' (imported from ${from}): the JavaScript runtime has the web APIs (fetch, Request, Response, URL, TextEncoder, crypto) and the Node modules ${wf.nodeModules.join(', ')}`);
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
      if (file.startsWith('node:')) return builtin(file.slice(5));
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
    if (file.startsWith('node:')) return reexport(`globalThis.__wf.builtin(${JSON.stringify(file.slice(5))})`, builtin(file.slice(5)));
    const source = wf.readText(file);
    if (isModule(file, source)) return source;
    return reexport(`globalThis.__wf.requireFile(${JSON.stringify(file)})`, requireFile(file));
  };
  wf.builtin = builtin;

  // Loads the app's main module and finds its fetch handler: `export
  // default { fetch }`, `module.exports = { fetch }` or a fetch listener.
  wf.loadMain = async (file) => {
    let exported;
    if (isModule(file, wf.readText(file))) exported = (await import(file)).default;
    else exported = requireFile(file);
    const fetchOf = (v) => (v && typeof v.fetch === 'function' ? v.fetch.bind(v) : null);
    const handler = fetchOf(exported) || fetchOf(exported && exported.default) || (typeof exported === 'function' && exported.length <= 3 && exported.name === 'fetch' ? exported : null);
    if (handler) wf.setHandler(handler);
    // An app may listen once a promise it started settles (a connection,
    // a config read): that much is waited for.
    if (!wf.hasHandler()) await new Promise((resolve) => setTimeout(resolve, 0));
    if (!wf.hasHandler()) {
      throw new Error(`${file} has no fetch handler and starts no server: export one (\`export default { async fetch(request) { return new Response('hello') } }\`, or \`module.exports = { fetch }\`), call addEventListener('fetch', (event) => event.respondWith(...)), or listen as in Node (\`http.createServer(handler).listen(process.env.PORT)\`, Express's \`app.listen(process.env.PORT)\`)`);
    }
  };
})();
