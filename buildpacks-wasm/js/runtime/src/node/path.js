// node:path — POSIX paths, which is what an instance has. The module
// loader (modules.js) resolves imports with these same functions.
'use strict';

const normalizeParts = (p) => {
  const out = [];
  for (const part of p.split('/')) {
    if (part === '..') { if (out.length && out[out.length - 1] !== '..') out.pop(); else if (!p.startsWith('/')) out.push('..'); } else if (part && part !== '.') out.push(part);
  }
  return out;
};
const normalize = (p) => {
  p = String(p);
  if (p === '') return '.';
  const absolute = p.startsWith('/');
  const joined = normalizeParts(p).join('/');
  const trailing = p.endsWith('/') && joined ? '/' : '';
  return absolute ? `/${joined}${trailing}` : (joined || '.') + trailing;
};
const join = (...parts) => { const p = parts.filter((x) => x !== '').join('/'); return p ? normalize(p) : '.'; };
const resolve = (...parts) => {
  let r = '';
  for (let i = parts.length - 1; i >= 0 && !r.startsWith('/'); i--) if (parts[i]) r = r ? `${parts[i]}/${r}` : String(parts[i]);
  if (!r.startsWith('/')) r = `${process.cwd()}/${r}`;
  const n = normalize(r);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
};
const dirname = (p) => {
  p = String(p).replace(/\/+$/, '') || (String(p).startsWith('/') ? '/' : '');
  const i = p.lastIndexOf('/');
  return i < 0 ? '.' : i === 0 ? '/' : p.slice(0, i);
};
const basename = (p, ext) => {
  const b = String(p).replace(/\/+$/, '').split('/').pop();
  return ext && b.endsWith(ext) && b !== ext ? b.slice(0, -ext.length) : b;
};
const extname = (p) => { const b = basename(p); const i = b.lastIndexOf('.'); return i <= 0 ? '' : b.slice(i); };
const relative = (from, to) => {
  const a = resolve(from).split('/').filter(Boolean);
  const b = resolve(to).split('/').filter(Boolean);
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return [...a.slice(i).map(() => '..'), ...b.slice(i)].join('/');
};
const parse = (p) => {
  const root = String(p).startsWith('/') ? '/' : '';
  const base = basename(p);
  const ext = extname(p);
  const dir = dirname(p);
  return { root, dir: dir === '.' && !String(p).includes('/') ? '' : dir, base, ext, name: ext ? base.slice(0, -ext.length) : base };
};
const format = (o) => { const dir = o.dir || o.root || ''; const base = o.base || `${o.name || ''}${o.ext || ''}`; return dir ? (dir.endsWith('/') ? dir + base : `${dir}/${base}`) : base; };

const path = {
  sep: '/', delimiter: ':', normalize, join, resolve, dirname, basename, extname, relative, parse, format,
  isAbsolute: (p) => String(p).startsWith('/'),
  toNamespacedPath: (p) => p,
};
path.posix = path;
path.win32 = path;
module.exports = path;
