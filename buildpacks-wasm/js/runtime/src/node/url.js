// node:url — WHATWG URL (the prelude's), and the legacy url.parse /
// url.format / url.resolve that parseurl, Express and serve-static call.
'use strict';

const querystring = require('querystring');
const path = require('path');

function Url() {
  Object.assign(this, { protocol: null, slashes: null, auth: null, host: null, port: null, hostname: null, hash: null, search: null, query: null, pathname: null, path: null, href: null });
}

const parse = (input, parseQueryString = false, slashesDenoteHost = false) => {
  if (input instanceof Url) return input;
  const url = new Url();
  let rest = String(input).trim();
  const hash = rest.indexOf('#');
  if (hash >= 0) { url.hash = rest.slice(hash); rest = rest.slice(0, hash); }
  const query = rest.indexOf('?');
  if (query >= 0) { url.search = rest.slice(query); url.query = rest.slice(query + 1); rest = rest.slice(0, query); }
  const proto = /^([a-z][a-z0-9.+-]*:)/i.exec(rest);
  if (proto) { url.protocol = proto[1].toLowerCase(); rest = rest.slice(proto[1].length); }
  if ((proto || slashesDenoteHost) && rest.startsWith('//') && url.protocol !== 'javascript:') {
    url.slashes = true;
    rest = rest.slice(2);
    const end = rest.search(/[/\\]/);
    let authority = end < 0 ? rest : rest.slice(0, end);
    rest = end < 0 ? '' : rest.slice(end);
    const at = authority.lastIndexOf('@');
    if (at >= 0) { url.auth = decodeURIComponent(authority.slice(0, at)); authority = authority.slice(at + 1); }
    const port = /:(\d*)$/.exec(authority);
    if (port) { if (port[1]) url.port = port[1]; authority = authority.slice(0, -port[0].length); }
    url.hostname = authority.toLowerCase().replace(/^\[|\]$/g, '');
    url.host = url.port ? `${authority.toLowerCase()}:${url.port}` : authority.toLowerCase();
    if (!rest && /^(https?|ftp|gopher|file|wss?):$/.test(url.protocol || '')) rest = '/';
  }
  if (rest) url.pathname = rest;
  if (parseQueryString) url.query = querystring.parse(url.query || '');
  url.path = (url.pathname || '') + (url.search || '') || null;
  url.href = format(url);
  return url;
};

const format = (u) => {
  if (typeof u === 'string') u = parse(u);
  else if (u instanceof URL) return u.href;
  let auth = u.auth ? `${encodeURIComponent(u.auth).replace(/%3A/i, ':')}@` : '';
  let protocol = u.protocol || '';
  if (protocol && !protocol.endsWith(':')) protocol += ':';
  let host = '';
  if (u.host) host = auth + u.host;
  else if (u.hostname) host = auth + (u.hostname.includes(':') ? `[${u.hostname}]` : u.hostname) + (u.port ? `:${u.port}` : '');
  else auth = '';
  let pathname = u.pathname || '';
  let search = u.search || (u.query && typeof u.query === 'object' && Object.keys(u.query).length ? `?${querystring.stringify(u.query)}` : '');
  if (search && !search.startsWith('?')) search = `?${search}`;
  let hash = u.hash || '';
  if (hash && !hash.startsWith('#')) hash = `#${hash}`;
  if (u.slashes || (host && /^(https?|ftp|gopher|file|wss?):$/.test(protocol))) { host = `//${host}`; if (pathname && !pathname.startsWith('/')) pathname = `/${pathname}`; }
  pathname = pathname.replace(/[?#]/g, encodeURIComponent);
  search = search.replace('#', '%23');
  return protocol + host + pathname + search + hash;
};

// Relative references resolve against a stand-in origin, which is taken
// off again when `from` had none.
const resolve = (from, to) => {
  const origin = 'http://resolve.invalid';
  const resolved = new URL(to, new URL(from, origin));
  if (resolved.origin !== origin) return resolved.href;
  return (String(from).startsWith('/') ? resolved.pathname : resolved.pathname.slice(1)) + resolved.search + resolved.hash;
};

module.exports = {
  URL, URLSearchParams, Url, parse, format, resolve,
  resolveObject: (from, to) => parse(resolve(from, to)),
  fileURLToPath: (u) => { const url = typeof u === 'string' ? new URL(u) : u; if (url.protocol !== 'file:') throw new TypeError('The URL must be of scheme file'); return decodeURIComponent(url.pathname); },
  pathToFileURL: (p) => new URL(`file://${encodeURI(path.resolve(p))}`),
  domainToASCII: (d) => String(d).toLowerCase(),
  domainToUnicode: (d) => String(d),
};
