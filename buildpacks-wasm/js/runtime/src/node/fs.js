// node:fs — the app's own files, read-only: stat, read, list and stream
// them (what express.static, res.sendFile and template engines do), with
// Node's error codes. A write is refused with EROFS: an instance's disk
// is the droplet, the same in every instance, and gone at restart.
'use strict';

const wf = globalThis.__wf;
const path = require('path');
const { Buffer } = require('buffer');
const { Readable } = require('stream');

const DESCRIPTIONS = { ENOENT: 'no such file or directory', EACCES: 'permission denied', ENOTDIR: 'not a directory', EISDIR: 'illegal operation on a directory', EROFS: 'read-only file system', EBADF: 'bad file descriptor', EIO: 'i/o error' };
const ERRNO = { ENOENT: -2, EACCES: -13, ENOTDIR: -20, EISDIR: -21, EROFS: -30, EBADF: -9, EIO: -5 };
const fail = (code, syscall, p) => {
  const e = new Error(`${code}: ${DESCRIPTIONS[code] || 'error'}, ${syscall}${p === undefined ? '' : ` '${p}'`}`);
  return Object.assign(e, { errno: ERRNO[code] || -5, code, syscall, path: p });
};
// A native call; its error's message is the code (host.rs).
const native = (syscall, p, fn) => {
  try { return fn(); } catch (e) { throw fail(/^E[A-Z]+$/.test(e.message) ? e.message : 'EIO', syscall, p); }
};
const pathOf = (p) => {
  if (p instanceof URL) p = decodeURIComponent(p.pathname);
  else if (p instanceof Uint8Array) p = Buffer.from(p).toString();
  if (typeof p !== 'string') throw Object.assign(new TypeError(`The "path" argument must be of type string. Received ${typeof p}`), { code: 'ERR_INVALID_ARG_TYPE' });
  return path.resolve(p);
};
const optionsOf = (o) => (typeof o === 'string' ? { encoding: o } : o || {});

class Stats {
  constructor([kind, size, mtimeMs, mode]) {
    Object.assign(this, { dev: 0, ino: 0, mode, nlink: 1, uid: 0, gid: 0, rdev: 0, size, blksize: 4096, blocks: Math.ceil(size / 512), atimeMs: mtimeMs, mtimeMs, ctimeMs: mtimeMs, birthtimeMs: mtimeMs });
    const date = new Date(mtimeMs);
    Object.assign(this, { atime: date, mtime: date, ctime: date, birthtime: date });
    Object.defineProperty(this, '_kind', { value: kind });
  }
  isFile() { return this._kind === 'file'; }
  isDirectory() { return this._kind === 'dir'; }
  isSymbolicLink() { return this._kind === 'symlink'; }
  isFIFO() { return false; }
  isSocket() { return false; }
  isBlockDevice() { return false; }
  isCharacterDevice() { return false; }
}
class Dirent {
  constructor(name, kind, dir) { this.name = name; this.parentPath = dir; this.path = dir; Object.defineProperty(this, '_kind', { value: kind }); }
}
for (const m of ['isFile', 'isDirectory', 'isSymbolicLink', 'isFIFO', 'isSocket', 'isBlockDevice', 'isCharacterDevice']) Dirent.prototype[m] = Stats.prototype[m];

const statSync = (p, options = {}) => {
  const file = pathOf(p);
  try { return new Stats(native('stat', file, () => wf.stat(file, true))); } catch (e) { if (options.throwIfNoEntry === false && e.code === 'ENOENT') return undefined; throw e; }
};
const lstatSync = (p) => { const file = pathOf(p); return new Stats(native('lstat', file, () => wf.stat(file, false))); };
const readFileSync = (p, options) => {
  const { encoding } = optionsOf(options);
  if (typeof p === 'number') return readFd(p, encoding);
  const file = pathOf(p);
  const raw = native('open', file, () => wf.readBytes(file, 0, -1));
  const b = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  return encoding ? b.toString(encoding) : b;
};
const readdirSync = (p, options) => {
  const dir = pathOf(p);
  const { withFileTypes, encoding } = optionsOf(options);
  const entries = native('scandir', dir, () => wf.readDir(dir)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (withFileTypes) return entries.map(([name, kind]) => new Dirent(name, kind, dir));
  return entries.map(([name]) => (encoding === 'buffer' ? Buffer.from(name) : name));
};
const realpathSync = (p) => { const file = pathOf(p); return native('realpath', file, () => wf.realpath(file)); };
realpathSync.native = realpathSync;
const constants = { F_OK: 0, R_OK: 4, W_OK: 2, X_OK: 1, O_RDONLY: 0, O_WRONLY: 1, O_RDWR: 2, O_CREAT: 64, S_IFMT: 0o170000, S_IFREG: 0o100000, S_IFDIR: 0o40000 };
const accessSync = (p, mode = 0) => {
  const file = pathOf(p);
  native('access', file, () => wf.stat(file, true));
  if (mode & constants.W_OK) throw fail('EROFS', 'access', file);
};
const existsSync = (p) => { try { const file = pathOf(p); wf.stat(file, true); return true; } catch { return false; } };

// Descriptors for openSync/readSync: a path and where reading is.
const descriptors = new Map();
let nextFd = 10;
const openSync = (p, flags = 'r') => {
  const file = pathOf(p);
  if (!/^r$|^rs$|^sr$/.test(String(flags)) && flags !== 0) throw fail('EROFS', 'open', file);
  const stats = new Stats(native('open', file, () => wf.stat(file, true)));
  if (stats.isDirectory()) throw fail('EISDIR', 'open', file);
  const fd = nextFd++;
  descriptors.set(fd, { file, position: 0 });
  return fd;
};
const descriptor = (fd, syscall) => { const d = descriptors.get(fd); if (!d) throw fail('EBADF', syscall); return d; };
const readSync = (fd, buffer, offset = 0, length = buffer.byteLength - offset, position = null) => {
  if (offset && typeof offset === 'object') ({ offset = 0, length = buffer.byteLength - offset, position = null } = offset);
  const d = descriptor(fd, 'read');
  const at = position === null || position === undefined || position < 0 ? d.position : Number(position);
  const raw = native('read', d.file, () => wf.readBytes(d.file, at, length));
  buffer.set(raw, offset);
  if (position === null || position === undefined || position < 0) d.position += raw.length;
  return raw.length;
};
const readFd = (fd, encoding) => {
  const d = descriptor(fd, 'read');
  const raw = native('read', d.file, () => wf.readBytes(d.file, d.position, -1));
  d.position += raw.length;
  const b = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  return encoding ? b.toString(encoding) : b;
};
const closeSync = (fd) => { descriptor(fd, 'close'); descriptors.delete(fd); };
const fstatSync = (fd) => statSync(descriptor(fd, 'fstat').file);

// Reads a file in chunks of highWaterMark, from start to end (inclusive).
function ReadStream(p, options = {}) {
  if (!(this instanceof ReadStream)) return new ReadStream(p, options);
  options = optionsOf(options);
  Readable.call(this, { highWaterMark: options.highWaterMark || 64 * 1024, encoding: options.encoding, emitClose: options.emitClose !== false });
  this.path = typeof p === 'number' ? descriptor(p, 'read').file : pathOf(p);
  this.start = options.start;
  this.end = options.end === undefined ? Infinity : options.end;
  this.pos = this.start || 0;
  this.bytesRead = 0;
  this.pending = true;
  this.fd = null;
  process.nextTick(() => {
    try { wf.stat(this.path, true); } catch (e) { this.destroy(fail(/^E[A-Z]+$/.test(e.message) ? e.message : 'EIO', 'open', this.path)); return; }
    this.fd = nextFd++;
    this.pending = false;
    this.emit('open', this.fd);
    this.emit('ready');
  });
}
require('util').inherits(ReadStream, Readable);
ReadStream.prototype._read = function _read(size) {
  if (this.pending) { this.once('open', () => this._read(size)); return; }
  const want = Math.min(size, this.end - this.pos + 1);
  if (want <= 0) { this.push(null); return; }
  let raw;
  try { raw = native('read', this.path, () => wf.readBytes(this.path, this.pos, want)); } catch (e) { this.destroy(e); return; }
  this.pos += raw.length;
  this.bytesRead += raw.length;
  if (!raw.length) { this.push(null); return; }
  this.push(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength));
  if (raw.length < want) this.push(null);
};
ReadStream.prototype.close = function close(cb) { this.destroy(null, cb); };

const readOnly = (syscall) => (p) => { throw fail('EROFS', syscall, typeof p === 'string' ? pathOf(p) : undefined); };
const WRITES = { writeFileSync: 'open', appendFileSync: 'open', mkdirSync: 'mkdir', rmdirSync: 'rmdir', rmSync: 'rm', unlinkSync: 'unlink', renameSync: 'rename', copyFileSync: 'copyfile', symlinkSync: 'symlink', chmodSync: 'chmod', utimesSync: 'utime', truncateSync: 'open', mkdtempSync: 'mkdtemp', createWriteStream: 'open', writeSync: 'write' };

const sync = {
  statSync, lstatSync, readFileSync, readdirSync, realpathSync, accessSync, existsSync, openSync, readSync, closeSync, fstatSync,
  ...Object.fromEntries(Object.entries(WRITES).map(([name, syscall]) => [name, readOnly(syscall)])),
};
const callbackStyle = (fn) => (...args) => {
  const cb = args.pop();
  if (typeof cb !== 'function') throw Object.assign(new TypeError('The "cb" argument must be of type function'), { code: 'ERR_INVALID_ARG_TYPE' });
  let value; let error = null;
  try { value = fn(...args); } catch (e) { error = e; }
  process.nextTick(() => (error ? cb(error) : cb(null, value)));
};
const promiseStyle = (fn) => (...args) => new Promise((resolve, reject) => { try { resolve(fn(...args)); } catch (e) { reject(e); } });
const callbacks = {};
const promises = {};
for (const [name, fn] of Object.entries(sync)) {
  if (!name.endsWith('Sync') || name === 'existsSync') continue;
  callbacks[name.slice(0, -4)] = callbackStyle(fn);
  promises[name.slice(0, -4)] = promiseStyle(fn);
}
callbacks.exists = (p, cb) => process.nextTick(cb, existsSync(p));
promises.constants = constants;

module.exports = {
  ...sync, ...callbacks, promises, constants, Stats, Dirent, ReadStream,
  createReadStream: (p, options) => new ReadStream(p, options),
  watch: () => { throw fail('EROFS', 'watch'); },
  watchFile: () => {},
  unwatchFile: () => {},
  F_OK: 0, R_OK: 4, W_OK: 2, X_OK: 1,
};
