// node:zlib — present, so that packages which load it for an optional
// feature (body-parser's gzip bodies) load; compressing or inflating is
// refused with a clear error, which body-parser answers as a 415.
'use strict';

const refuse = (name) => () => {
  throw Object.assign(new Error(`zlib.${name} is not available in the JavaScript runtime: compression is not implemented`), { code: 'ERR_FEATURE_UNAVAILABLE_ON_PLATFORM' });
};
const NAMES = ['createGzip', 'createGunzip', 'createDeflate', 'createInflate', 'createDeflateRaw', 'createInflateRaw', 'createUnzip', 'createBrotliCompress', 'createBrotliDecompress',
  'gzip', 'gunzip', 'deflate', 'inflate', 'unzip', 'gzipSync', 'gunzipSync', 'deflateSync', 'inflateSync', 'unzipSync', 'brotliCompress', 'brotliDecompress', 'brotliCompressSync', 'brotliDecompressSync'];

module.exports = Object.fromEntries(NAMES.map((n) => [n, refuse(n)]));
module.exports.constants = { Z_NO_FLUSH: 0, Z_SYNC_FLUSH: 2, Z_FULL_FLUSH: 3, Z_FINISH: 4, Z_DEFAULT_COMPRESSION: -1, Z_BEST_SPEED: 1, Z_BEST_COMPRESSION: 9 };
Object.assign(module.exports, module.exports.constants);
