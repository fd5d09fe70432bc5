// node:string_decoder — bytes to text across chunk boundaries: a UTF-8
// (or UTF-16) character split between two chunks is held back until its
// last byte arrives.
'use strict';

const { Buffer } = require('buffer');

function StringDecoder(encoding = 'utf8') {
  const e = String(encoding).toLowerCase().replace('-', '');
  this.encoding = e === 'utf8' ? 'utf8' : e === 'ucs2' || e === 'utf16le' ? 'utf16le' : e === 'binary' ? 'latin1' : e;
  if (!Buffer.isEncoding(this.encoding)) throw new TypeError(`Unknown encoding: ${encoding}`);
  this.pending = Buffer.alloc(0);
}
// How many bytes at the end of `b` start a character not yet complete.
const incompleteTail = (b, encoding) => {
  if (encoding === 'utf16le') return b.length % 2;
  if (encoding === 'base64' || encoding === 'base64url') return b.length % 3;
  if (encoding !== 'utf8') return 0;
  for (let back = 1; back <= Math.min(3, b.length); back++) {
    const c = b[b.length - back];
    if ((c & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    return need > back ? back : 0;
  }
  return 0;
};
StringDecoder.prototype.write = function write(chunk) {
  if (typeof chunk === 'string') return chunk;
  const all = this.pending.length ? Buffer.concat([this.pending, chunk]) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  const keep = incompleteTail(all, this.encoding);
  this.pending = keep ? Buffer.from(all.subarray(all.length - keep)) : Buffer.alloc(0);
  return all.toString(this.encoding, 0, all.length - keep);
};
StringDecoder.prototype.end = function end(chunk) {
  const head = chunk ? this.write(chunk) : '';
  const rest = this.pending.length ? this.pending.toString(this.encoding) : '';
  this.pending = Buffer.alloc(0);
  return head + rest;
};
StringDecoder.prototype.text = function text(buf, offset) { return this.write(buf.subarray(offset)); };

module.exports = { StringDecoder };
