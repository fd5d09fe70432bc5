// node:crypto — hashes and HMACs (md5, sha1, sha256, sha384, sha512,
// computed natively by the runtime), random bytes and UUIDs, and a
// constant-time compare: what ETags, signed cookies and session ids need.
// Ciphers and key pairs are not here; asking for one names what is.
'use strict';

const wf = globalThis.__wf;
const { Buffer } = require('buffer');

const HASHES = ['md5', 'sha1', 'sha256', 'sha384', 'sha512'];
const algorithm = (name) => {
  const a = String(name).toLowerCase().replace(/^rsa-/, '').replace(/-/g, '');
  if (!HASHES.includes(a)) throw Object.assign(new Error(`Digest method not supported: ${name} (the runtime has ${HASHES.join(', ')})`), { code: 'ERR_CRYPTO_INVALID_DIGEST' });
  return a;
};
const bytes = (data, encoding) => (typeof data === 'string' ? Buffer.from(data, encoding) : data instanceof Uint8Array ? data : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : Buffer.from(data));
const output = (raw, encoding) => { const b = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength); return encoding && encoding !== 'buffer' ? b.toString(encoding) : b; };

// Data is kept until digest(): one native call over all of it.
class Hash {
  #algorithm; #key; #parts = []; #done = false;
  constructor(name, key) { this.#algorithm = algorithm(name); this.#key = key; }
  update(data, encoding) {
    if (this.#done) throw Object.assign(new Error('Digest already called'), { code: 'ERR_CRYPTO_HASH_FINALIZED' });
    this.#parts.push(bytes(data, encoding));
    return this;
  }
  digest(encoding) {
    if (this.#done) throw Object.assign(new Error('Digest already called'), { code: 'ERR_CRYPTO_HASH_FINALIZED' });
    this.#done = true;
    const data = this.#parts.length === 1 ? this.#parts[0] : Buffer.concat(this.#parts);
    return output(this.#key ? wf.hmac(this.#algorithm, this.#key, data) : wf.hash(this.#algorithm, data), encoding);
  }
  copy() { const h = new Hash(this.#algorithm, this.#key); for (const p of this.#parts) h.update(p); return h; }
}
const unsupported = (what) => () => { throw Object.assign(new Error(`crypto.${what} is not available in the JavaScript runtime: it has hashes, HMACs, random bytes and UUIDs`), { code: 'ERR_FEATURE_UNAVAILABLE_ON_PLATFORM' }); };

const randomBytes = (size, cb) => {
  const out = Buffer.alloc(size);
  for (let at = 0; at < size; at += 65536) out.set(wf.randomBytes(Math.min(65536, size - at)), at);
  if (cb) { process.nextTick(cb, null, out); return undefined; }
  return out;
};

module.exports = {
  createHash: (name) => new Hash(name),
  createHmac: (name, key) => new Hash(name, bytes(key)),
  hash: (name, data, encoding = 'hex') => new Hash(name).update(data).digest(encoding),
  getHashes: () => [...HASHES],
  randomBytes,
  pseudoRandomBytes: randomBytes,
  randomFillSync: (buf) => globalThis.crypto.getRandomValues(buf),
  randomInt: (min, max) => { if (max === undefined) { max = min; min = 0; } return min + Math.floor(Math.random() * (max - min)); },
  randomUUID: () => globalThis.crypto.randomUUID(),
  getRandomValues: (a) => globalThis.crypto.getRandomValues(a),
  timingSafeEqual: (a, b) => {
    if (a.byteLength !== b.byteLength) throw Object.assign(new RangeError('Input buffers must have the same byte length'), { code: 'ERR_CRYPTO_TIMING_SAFE_EQUAL_LENGTH' });
    let diff = 0;
    for (let i = 0; i < a.byteLength; i++) diff |= a[i] ^ b[i];
    return diff === 0;
  },
  webcrypto: globalThis.crypto,
  createCipheriv: unsupported('createCipheriv'),
  createDecipheriv: unsupported('createDecipheriv'),
  createSign: unsupported('createSign'),
  createVerify: unsupported('createVerify'),
  generateKeyPairSync: unsupported('generateKeyPairSync'),
  pbkdf2Sync: unsupported('pbkdf2Sync'),
  scryptSync: unsupported('scryptSync'),
  constants: {},
};
