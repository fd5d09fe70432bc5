// node:buffer — Buffer as a Uint8Array with Node's encodings (utf8, hex,
// base64, base64url, latin1, ascii, utf16le), views that share memory
// (`slice` does not copy, as in Node) and the integer readers and writers.
// UTF-8 goes through the runtime's native encoder and decoder.
'use strict';

const wf = globalThis.__wf;
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = new Int16Array(128).fill(-1);
for (let i = 0; i < 64; i++) B64_INDEX[B64.charCodeAt(i)] = i;
B64_INDEX[45] = 62; // '-' of base64url
B64_INDEX[95] = 63; // '_'

const encodings = { utf8: 'utf8', 'utf-8': 'utf8', hex: 'hex', base64: 'base64', base64url: 'base64url', latin1: 'latin1', binary: 'latin1', ascii: 'ascii', utf16le: 'utf16le', 'utf-16le': 'utf16le', ucs2: 'utf16le', 'ucs-2': 'utf16le' };
const encodingOf = (e) => {
  if (e === undefined || e === null) return 'utf8';
  const found = encodings[String(e).toLowerCase()];
  if (!found) { const error = new TypeError(`Unknown encoding: ${e}`); error.code = 'ERR_UNKNOWN_ENCODING'; throw error; }
  return found;
};

const fromBase64 = (s) => {
  const out = new Uint8Array(Math.ceil((s.length * 3) / 4));
  let n = 0; let bits = 0; let len = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const v = c < 128 ? B64_INDEX[c] : -1;
    if (v < 0) { if (c === 61) break; continue; } // '=' ends it; whitespace and junk are skipped, as Node does
    n = (n << 6) | v; bits += 6;
    if (bits >= 8) { bits -= 8; out[len++] = (n >> bits) & 255; }
  }
  return out.subarray(0, len);
};
const toBase64 = (bytes, url) => {
  const alphabet = url ? `${B64.slice(0, 62)}-_` : B64;
  let r = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i]; const b = bytes[i + 1]; const c = bytes[i + 2];
    r += alphabet[a >> 2] + alphabet[((a & 3) << 4) | ((b || 0) >> 4)];
    r += i + 1 < bytes.length ? alphabet[((b & 15) << 2) | ((c || 0) >> 6)] : url ? '' : '=';
    r += i + 2 < bytes.length ? alphabet[c & 63] : url ? '' : '=';
  }
  return r;
};
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

const encode = (string, encoding) => {
  string = String(string);
  switch (encodingOf(encoding)) {
    case 'utf8': return wf.encodeUtf8(string);
    case 'hex': {
      const out = new Uint8Array(string.length >> 1);
      let i = 0;
      for (; i < out.length; i++) { const v = parseInt(string.substr(i * 2, 2), 16); if (Number.isNaN(v)) break; out[i] = v; }
      return out.subarray(0, i);
    }
    case 'base64': case 'base64url': return fromBase64(string);
    case 'latin1': case 'ascii': { const out = new Uint8Array(string.length); for (let i = 0; i < string.length; i++) out[i] = string.charCodeAt(i); return out; }
    default: { // utf16le
      const out = new Uint8Array(string.length * 2);
      for (let i = 0; i < string.length; i++) { const c = string.charCodeAt(i); out[i * 2] = c & 255; out[i * 2 + 1] = c >> 8; }
      return out;
    }
  }
};
const decode = (bytes, encoding) => {
  switch (encodingOf(encoding)) {
    case 'utf8': return wf.decodeUtf8(bytes, false);
    case 'hex': { let r = ''; for (let i = 0; i < bytes.length; i++) r += HEX[bytes[i]]; return r; }
    case 'base64': return toBase64(bytes, false);
    case 'base64url': return toBase64(bytes, true);
    case 'latin1': case 'ascii': {
      const mask = encodingOf(encoding) === 'ascii' ? 127 : 255;
      let r = '';
      for (let i = 0; i < bytes.length; i += 8192) r += String.fromCharCode(...bytes.subarray(i, i + 8192).map((b) => b & mask));
      return r;
    }
    default: { let r = ''; for (let i = 0; i + 1 < bytes.length; i += 2) r += String.fromCharCode(bytes[i] | (bytes[i + 1] << 8)); return r; }
  }
};

class Buffer extends Uint8Array {
  // `new Buffer(...)` is deprecated in Node but still met in old packages.
  constructor(value, encodingOrOffset, length) {
    if (typeof value === 'string') { const b = encode(value, encodingOrOffset); super(b.buffer, b.byteOffset, b.byteLength); return; }
    if (Array.isArray(value) || (ArrayBuffer.isView(value) && !(value instanceof DataView))) { super(value.length); this.set(value); return; }
    if (value instanceof ArrayBuffer) { super(value, encodingOrOffset || 0, length === undefined ? value.byteLength - (encodingOrOffset || 0) : length); return; }
    super(value);
  }
  static from(value, encodingOrOffset, length) {
    if (typeof value === 'string') { const b = encode(value, encodingOrOffset); return new Buffer(b.buffer, b.byteOffset, b.byteLength); }
    if (value instanceof ArrayBuffer || Object.prototype.toString.call(value) === '[object SharedArrayBuffer]') {
      const offset = Number(encodingOrOffset) || 0;
      return new Buffer(value, offset, length === undefined ? value.byteLength - offset : length);
    }
    if (ArrayBuffer.isView(value)) { const b = new Buffer(value.byteLength); b.set(new Uint8Array(value.buffer, value.byteOffset, value.byteLength)); return b; }
    if (Array.isArray(value)) return new Buffer(value);
    if (value && value.type === 'Buffer' && Array.isArray(value.data)) return new Buffer(value.data);
    if (value && typeof value.length === 'number') return new Buffer(Array.from(value));
    if (value && typeof value[Symbol.toPrimitive] === 'function') return Buffer.from(value[Symbol.toPrimitive]('string'), encodingOrOffset);
    throw new TypeError(`The first argument must be of type string or an instance of Buffer, ArrayBuffer, or Array or an Array-like Object. Received ${value === null ? 'null' : typeof value}`);
  }
  static alloc(size, fill, encoding) { const b = new Buffer(checkSize(size)); if (fill !== undefined && fill !== 0) b.fill(fill, 0, b.length, encoding); return b; }
  static allocUnsafe(size) { return new Buffer(checkSize(size)); }
  static allocUnsafeSlow(size) { return new Buffer(checkSize(size)); }
  static isBuffer(b) { return b instanceof Buffer; }
  static isEncoding(e) { return typeof e === 'string' && Object.prototype.hasOwnProperty.call(encodings, e.toLowerCase()); }
  static byteLength(value, encoding) {
    if (typeof value !== 'string') return value.byteLength;
    const e = encodingOf(encoding);
    if (e === 'utf8') { let n = 0; for (let i = 0; i < value.length; i++) { const c = value.charCodeAt(i); n += c < 0x80 ? 1 : c < 0x800 ? 2 : c >= 0xd800 && c <= 0xdbff && i + 1 < value.length ? (i++, 4) : 3; } return n; }
    if (e === 'latin1' || e === 'ascii') return value.length;
    if (e === 'utf16le') return value.length * 2;
    return encode(value, e).length;
  }
  static concat(list, total) {
    if (!Array.isArray(list)) throw new TypeError('The "list" argument must be an instance of Array');
    if (total === undefined) total = list.reduce((n, b) => n + b.length, 0);
    const out = Buffer.alloc(total);
    let at = 0;
    for (const b of list) { if (at >= total) break; const part = b.length > total - at ? b.subarray(0, total - at) : b; out.set(part, at); at += part.length; }
    return out;
  }
  static compare(a, b) { return a.compare(b); }

  get parent() { return this.buffer; }
  get offset() { return this.byteOffset; }
  toString(encoding, start = 0, end = this.length) {
    start = Math.max(0, start | 0); end = Math.min(this.length, end === undefined ? this.length : end | 0);
    if (end <= start) return '';
    return decode(start === 0 && end === this.length ? this : this.subarray(start, end), encoding);
  }
  toLocaleString(encoding, start, end) { return this.toString(encoding, start, end); }
  toJSON() { return { type: 'Buffer', data: Array.from(this) }; }
  equals(other) { return this.compare(other) === 0; }
  compare(target, tStart = 0, tEnd = target.length, sStart = 0, sEnd = this.length) {
    const a = this.subarray(sStart, sEnd); const b = target.subarray(tStart, tEnd);
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
    return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
  }
  copy(target, tStart = 0, sStart = 0, sEnd = this.length) {
    const part = this.subarray(sStart, Math.min(sEnd, sStart + (target.length - tStart)));
    target.set(part, tStart);
    return part.length;
  }
  slice(start, end) { return this.subarray(start, end); }
  write(string, offset, length, encoding) {
    if (typeof offset === 'string') { encoding = offset; offset = 0; length = undefined; } else if (typeof length === 'string') { encoding = length; length = undefined; }
    offset = offset || 0;
    const bytes = encode(string, encoding);
    const n = Math.min(bytes.length, this.length - offset, length === undefined ? Infinity : length);
    this.set(bytes.subarray(0, n), offset);
    return n;
  }
  fill(value, offset = 0, end = this.length, encoding) {
    if (typeof offset === 'string') { encoding = offset; offset = 0; end = this.length; }
    if (typeof value === 'number') return super.fill(value & 255, offset, end);
    const bytes = typeof value === 'string' ? encode(value, encoding) : value;
    if (!bytes.length) return super.fill(0, offset, end);
    for (let i = offset, j = 0; i < end; i++, j = (j + 1) % bytes.length) this[i] = bytes[j];
    return this;
  }
  indexOf(value, from = 0, encoding) {
    if (typeof value === 'number') return super.indexOf(value & 255, from);
    const needle = typeof value === 'string' ? encode(value, encoding) : value;
    if (from < 0) from = Math.max(0, this.length + from);
    if (!needle.length) return Math.min(from, this.length);
    outer: for (let i = from; i <= this.length - needle.length; i++) {
      if (this[i] !== needle[0]) continue;
      for (let j = 1; j < needle.length; j++) if (this[i + j] !== needle[j]) continue outer;
      return i;
    }
    return -1;
  }
  lastIndexOf(value, from = this.length, encoding) {
    if (typeof value === 'number') return super.lastIndexOf(value & 255, from);
    const needle = typeof value === 'string' ? encode(value, encoding) : value;
    for (let i = Math.min(from, this.length - needle.length); i >= 0; i--) if (this.indexOf(needle, i) === i) return i;
    return -1;
  }
  includes(value, from, encoding) { return this.indexOf(value, from, encoding) !== -1; }
  swap16() { for (let i = 0; i + 1 < this.length; i += 2) { const t = this[i]; this[i] = this[i + 1]; this[i + 1] = t; } return this; }
  [Symbol.for('nodejs.util.inspect.custom')]() { return `<Buffer ${Array.from(this.subarray(0, 50), (b) => HEX[b]).join(' ')}${this.length > 50 ? ' ...' : ''}>`; }
}
const checkSize = (size) => {
  if (typeof size !== 'number' || size < 0 || size > Buffer.constants.MAX_LENGTH) throw new RangeError(`The argument 'size' is invalid. Received ${size}`);
  return size;
};
Buffer.poolSize = 8192;
Buffer.constants = { MAX_LENGTH: 2 ** 31 - 1, MAX_STRING_LENGTH: 2 ** 29 - 24 };

// readUInt8 … writeDoubleBE, by way of a DataView over the same bytes.
const view = (b) => new DataView(b.buffer, b.byteOffset, b.byteLength);
const numbers = [['UInt8', 'Uint8', 1], ['Int8', 'Int8', 1], ['UInt16', 'Uint16', 2], ['Int16', 'Int16', 2], ['UInt32', 'Uint32', 4], ['Int32', 'Int32', 4], ['Float', 'Float32', 4], ['Double', 'Float64', 8], ['BigUInt64', 'BigUint64', 8], ['BigInt64', 'BigInt64', 8]];
for (const [name, dv, size] of numbers) {
  const ends = size === 1 ? [['', false]] : [['LE', true], ['BE', false]];
  for (const [end, little] of ends) {
    const read = function (offset = 0) {
      if (offset < 0 || offset + size > this.length) { const e = new RangeError(`The value of "offset" is out of range. It must be >= 0 and <= ${this.length - size}. Received ${offset}`); e.code = 'ERR_OUT_OF_RANGE'; throw e; }
      return view(this)[`get${dv}`](offset, little);
    };
    const write = function (value, offset = 0) { view(this)[`set${dv}`](offset, value, little); return offset + size; };
    for (const alias of name.startsWith('UInt') || name.startsWith('BigUInt') ? [name, name.replace('UInt', 'Uint')] : [name]) {
      Buffer.prototype[`read${alias}${end}`] = read;
      Buffer.prototype[`write${alias}${end}`] = write;
    }
  }
}

module.exports = {
  Buffer,
  SlowBuffer: Buffer,
  kMaxLength: Buffer.constants.MAX_LENGTH,
  kStringMaxLength: Buffer.constants.MAX_STRING_LENGTH,
  constants: Buffer.constants,
  INSPECT_MAX_BYTES: 50,
  atob: globalThis.atob,
  btoa: globalThis.btoa,
  isUtf8: (b) => { try { wf.decodeUtf8(b, true); return true; } catch { return false; } },
};
