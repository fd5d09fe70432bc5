// node:querystring — the legacy form codec Express and body-parser use:
// `+` and %XX decoded, repeated keys gathered into arrays.
'use strict';

const unescape = (s) => { try { return decodeURIComponent(s); } catch { return s; } };
const escape = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const primitive = (v) => (typeof v === 'string' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : typeof v === 'boolean' || typeof v === 'bigint' ? String(v) : '');

const parse = (text, sep = '&', eq = '=', options = {}) => {
  const out = Object.create(null);
  if (typeof text !== 'string' || !text) return out;
  const decode = options.decodeURIComponent || unescape;
  const max = options.maxKeys === undefined ? 1000 : options.maxKeys;
  let parts = text.split(sep);
  if (max > 0) parts = parts.slice(0, max);
  for (const part of parts) {
    if (!part) continue;
    const i = part.indexOf(eq);
    const key = decode((i < 0 ? part : part.slice(0, i)).replace(/\+/g, ' '));
    const value = i < 0 ? '' : decode(part.slice(i + eq.length).replace(/\+/g, ' '));
    if (!(key in out)) out[key] = value;
    else if (Array.isArray(out[key])) out[key].push(value);
    else out[key] = [out[key], value];
  }
  return out;
};
const stringify = (obj, sep = '&', eq = '=', options = {}) => {
  if (!obj || typeof obj !== 'object') return '';
  const encode = options.encodeURIComponent || escape;
  return Object.keys(obj).map((k) => {
    const v = obj[k];
    const key = encode(primitive(k));
    return Array.isArray(v) ? v.map((one) => key + eq + encode(primitive(one))).join(sep) : key + eq + encode(primitive(v));
  }).filter(Boolean).join(sep);
};

module.exports = { parse, stringify, decode: parse, encode: stringify, escape, unescape, unescapeBuffer: (s) => require('buffer').Buffer.from(unescape(String(s))) };
