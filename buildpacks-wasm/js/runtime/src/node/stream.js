// node:stream — Readable, Writable, Duplex, Transform and PassThrough
// with Node's events and flow: 'data' in flowing mode (or read() when
// paused), backpressure through write()'s answer and 'drain', 'end' /
// 'finish' then 'close', destroy(err) as 'error' then 'close'; pipe,
// pipeline and finished over them. Constructors are functions, as in
// Node, so `Readable.call(this)` in an old package works.
'use strict';

const EventEmitter = require('events');
const { Buffer } = require('buffer');
const { StringDecoder } = require('string_decoder');
const { inherits } = require('util');

const later = (fn, ...args) => process.nextTick(fn, ...args);
const error = (code, message) => Object.assign(new Error(message), { code });

function Stream(options) { EventEmitter.call(this, options); }
inherits(Stream, EventEmitter);
Stream.prototype.pipe = function pipe(dest, options) { return Readable.prototype.pipe.call(this, dest, options); };

const destroyWith = (stream, err, cb) => {
  const rs = stream._readableState; const ws = stream._writableState;
  if ((rs || ws).destroyed) { if (cb) later(cb, err); return stream; }
  if (rs) rs.destroyed = true;
  if (ws) ws.destroyed = true;
  stream._destroy(err || null, (e) => {
    if (cb) cb(e);
    later(() => {
      if (e && !cb) { if (rs) rs.errored = e; if (ws) ws.errored = e; stream.emit('error', e); }
      if ((rs || ws).emitClose !== false) stream.emit('close');
    });
  });
  return stream;
};
const defaultDestroy = (err, cb) => cb(err);

// ---- Readable ----
function Readable(options = {}) {
  if (!(this instanceof Readable)) return new Readable(options);
  Stream.call(this, options);
  const objectMode = !!(options.objectMode || options.readableObjectMode);
  this._readableState = {
    objectMode, highWaterMark: options.highWaterMark ?? options.readableHighWaterMark ?? (objectMode ? 16 : 16384),
    buffer: [], length: 0, flowing: null, ended: false, endEmitted: false, reading: false, scheduled: false,
    decoder: null, encoding: null, destroyed: false, errored: null, emitClose: options.emitClose !== false,
    autoDestroy: options.autoDestroy !== false, pipes: [],
  };
  if (options.encoding) this.setEncoding(options.encoding);
  if (typeof options.read === 'function') this._read = options.read;
  if (typeof options.destroy === 'function') this._destroy = options.destroy;
}
inherits(Readable, Stream);
const R = Readable.prototype;
R._read = function _read() { throw error('ERR_METHOD_NOT_IMPLEMENTED', 'The _read() method is not implemented'); };
R._destroy = defaultDestroy;
R.push = function push(chunk, encoding) {
  const s = this._readableState;
  if (s.destroyed) return false;
  s.reading = false;
  if (chunk === null) { s.ended = true; schedule(this); return false; }
  if (!s.objectMode) {
    if (typeof chunk === 'string') chunk = Buffer.from(chunk, encoding);
    else if (chunk instanceof Uint8Array && !(chunk instanceof Buffer)) chunk = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (s.decoder) chunk = s.decoder.write(chunk);
    if (!chunk.length) return true;
  }
  s.buffer.push(chunk);
  s.length += s.objectMode ? 1 : chunk.length;
  schedule(this);
  return s.length < s.highWaterMark;
};
R.unshift = function unshift(chunk) { const s = this._readableState; s.buffer.unshift(chunk); s.length += s.objectMode ? 1 : chunk.length; schedule(this); };
const schedule = (stream) => {
  const s = stream._readableState;
  if (s.scheduled) return;
  s.scheduled = true;
  later(flow, stream);
};
const flow = (stream) => {
  const s = stream._readableState;
  s.scheduled = false;
  if (s.destroyed) return;
  if (s.flowing) {
    while (s.flowing && s.buffer.length) {
      const chunk = s.buffer.shift();
      s.length -= s.objectMode ? 1 : chunk.length;
      stream.emit('data', chunk);
    }
  } else if (s.buffer.length || s.ended) {
    if (stream.listenerCount('readable')) stream.emit('readable');
  }
  if (s.ended && !s.buffer.length) { endReadable(stream); return; }
  if (s.flowing || s.readCalled || stream.listenerCount('readable')) {
    if (!s.ended && !s.reading && s.length < s.highWaterMark) {
      s.reading = true;
      stream._read(s.highWaterMark);
    }
  }
};
const endReadable = (stream) => {
  const s = stream._readableState;
  // As in Node, 'end' comes only once someone has consumed the stream.
  if (s.endEmitted || !(s.flowing || s.readCalled || stream.listenerCount('readable'))) return;
  s.endEmitted = true;
  if (s.decoder) { const rest = s.decoder.end(); if (rest) stream.emit('data', rest); }
  stream.emit('end');
  const ws = stream._writableState;
  if (s.autoDestroy && (!ws || ws.finished)) later(() => destroyWith(stream));
};
R.read = function read(n) {
  const s = this._readableState;
  s.readCalled = true;
  if (!s.buffer.length) { if (s.ended) later(endReadable, this); else schedule(this); return null; }
  let chunk;
  if (s.objectMode) chunk = s.buffer.shift();
  else {
    const all = s.decoder ? s.buffer.join('') : Buffer.concat(s.buffer);
    const take = n === undefined || n >= all.length ? all.length : n;
    if (n !== undefined && n > all.length && !s.ended) return null;
    chunk = all.slice(0, take);
    s.buffer = take < all.length ? [all.slice(take)] : [];
  }
  s.length -= s.objectMode ? 1 : chunk.length;
  if (s.ended && !s.buffer.length) later(endReadable, this);
  else schedule(this);
  return chunk;
};
R.on = function on(name, fn) {
  Stream.prototype.on.call(this, name, fn);
  const s = this._readableState;
  if (name === 'data' && s.flowing !== false) this.resume();
  else if (name === 'readable') { s.flowing = false; schedule(this); }
  return this;
};
R.addListener = R.on;
R.resume = function resume() { const s = this._readableState; s.flowing = true; schedule(this); return this; };
R.pause = function pause() { this._readableState.flowing = false; return this; };
R.isPaused = function isPaused() { return this._readableState.flowing === false; };
R.setEncoding = function setEncoding(encoding) {
  const s = this._readableState;
  s.decoder = new StringDecoder(encoding);
  s.encoding = s.decoder.encoding;
  s.buffer = s.buffer.map((b) => s.decoder.write(b));
  return this;
};
R.destroy = function destroy(err, cb) { return destroyWith(this, err, cb); };
R.pipe = function pipe(dest, options = {}) {
  const src = this;
  const onData = (chunk) => { if (dest.write(chunk) === false && src.pause) src.pause(); };
  const onDrain = () => { if (src.resume) src.resume(); };
  const onEnd = () => { if (options.end !== false) dest.end(); };
  src.on('data', onData);
  dest.on('drain', onDrain);
  src.once('end', onEnd);
  const pipes = src._readableState ? src._readableState.pipes : (src._pipes ||= []);
  pipes.push({ dest, unpipe: () => { src.removeListener('data', onData); dest.removeListener('drain', onDrain); src.removeListener('end', onEnd); dest.emit('unpipe', src); } });
  dest.emit('pipe', src);
  return dest;
};
R.unpipe = function unpipe(dest) {
  const s = this._readableState;
  for (const p of [...s.pipes]) if (!dest || p.dest === dest) { p.unpipe(); s.pipes.splice(s.pipes.indexOf(p), 1); }
  if (!s.pipes.length && !this.listenerCount('data')) s.flowing = false;
  return this;
};
R.wrap = function wrap(old) { old.on('data', (c) => this.push(c)); old.on('end', () => this.push(null)); old.on('error', (e) => this.destroy(e)); this._read = () => {}; return this; };
R[Symbol.asyncIterator] = async function* iterate() {
  const chunks = []; let done = false; let failure = null; let wake = null;
  const notify = () => { if (wake) { const w = wake; wake = null; w(); } };
  this.on('data', (c) => { chunks.push(c); notify(); });
  this.once('end', () => { done = true; notify(); });
  this.once('error', (e) => { failure = e; notify(); });
  this.once('close', () => { done = true; notify(); });
  for (;;) {
    if (chunks.length) { yield chunks.shift(); continue; }
    if (failure) throw failure;
    if (done) return;
    await new Promise((resolve) => { wake = resolve; });
  }
};
const getters = (proto, map) => { for (const [name, get] of Object.entries(map)) Object.defineProperty(proto, name, { get, configurable: true }); };
getters(R, {
  readable() { const s = this._readableState; return !!s && !s.destroyed && !s.endEmitted && !s.errored; },
  readableEnded() { return this._readableState.endEmitted; },
  readableFlowing() { return this._readableState.flowing; },
  readableLength() { return this._readableState.length; },
  readableHighWaterMark() { return this._readableState.highWaterMark; },
  readableObjectMode() { return this._readableState.objectMode; },
  readableEncoding() { return this._readableState.encoding; },
  destroyed() { return (this._readableState || this._writableState).destroyed; },
  errored() { return (this._readableState || this._writableState).errored; },
});
Readable.from = (iterable, options = {}) => {
  if (typeof iterable === 'string' || iterable instanceof Uint8Array) iterable = [iterable];
  const it = iterable[Symbol.asyncIterator] ? iterable[Symbol.asyncIterator]() : iterable[Symbol.iterator]();
  const stream = new Readable({ objectMode: true, ...options });
  stream._read = function read() {
    Promise.resolve(it.next()).then(({ value, done }) => this.push(done ? null : value), (e) => this.destroy(e));
  };
  return stream;
};

// ---- Writable ----
function Writable(options = {}) {
  if (!(this instanceof Writable) && !(this instanceof Duplex)) return new Writable(options);
  if (!this._readableState) Stream.call(this, options);
  const objectMode = !!(options.objectMode || options.writableObjectMode);
  this._writableState = {
    objectMode, highWaterMark: options.highWaterMark ?? options.writableHighWaterMark ?? (objectMode ? 16 : 16384),
    queue: [], length: 0, writing: false, ending: false, ended: false, finished: false, finishing: false, needDrain: false,
    destroyed: false, errored: null, corked: 0, decodeStrings: options.decodeStrings !== false,
    emitClose: options.emitClose !== false, autoDestroy: options.autoDestroy !== false, endCallbacks: [],
  };
  for (const m of ['write', 'writev', 'final', 'destroy']) if (typeof options[m] === 'function') this[`_${m}`] = options[m];
}
inherits(Writable, Stream);
Object.defineProperty(Writable, Symbol.hasInstance, {
  value(object) { return Function.prototype[Symbol.hasInstance].call(this, object) || (this === Writable && !!object && !!object._writableState); },
});
const W = Writable.prototype;
W._write = function _write(chunk, encoding, cb) {
  if (this._writev) this._writev([{ chunk, encoding }], cb);
  else throw error('ERR_METHOD_NOT_IMPLEMENTED', 'The _write() method is not implemented');
};
W._destroy = defaultDestroy;
W.write = function write(chunk, encoding, cb) {
  if (typeof encoding === 'function') { cb = encoding; encoding = null; }
  const s = this._writableState;
  if (s.ending || s.destroyed) {
    const e = error(s.destroyed ? 'ERR_STREAM_DESTROYED' : 'ERR_STREAM_WRITE_AFTER_END', s.destroyed ? 'Cannot call write after a stream was destroyed' : 'write after end');
    later(() => { if (cb) cb(e); this.emit('error', e); });
    return false;
  }
  if (chunk === null) throw error('ERR_STREAM_NULL_VALUES', 'May not write null values to stream');
  if (!s.objectMode) {
    if (typeof chunk === 'string') { if (s.decodeStrings) { chunk = Buffer.from(chunk, encoding || 'utf8'); encoding = 'buffer'; } }
    else if (chunk instanceof Uint8Array) encoding = 'buffer';
    else throw Object.assign(new TypeError('The "chunk" argument must be of type string or an instance of Buffer or Uint8Array'), { code: 'ERR_INVALID_ARG_TYPE' });
  }
  s.queue.push({ chunk, encoding: encoding || 'utf8', cb });
  s.length += s.objectMode ? 1 : chunk.length;
  const ok = s.length < s.highWaterMark;
  if (!ok) s.needDrain = true;
  if (!s.writing && !s.corked) writeNext(this);
  return ok;
};
const writeNext = (stream) => {
  const s = stream._writableState;
  const next = s.queue.shift();
  if (!next) {
    if (s.needDrain) { s.needDrain = false; stream.emit('drain'); }
    if (s.ending) finish(stream);
    return;
  }
  s.writing = true;
  let sync = true;
  stream._write(next.chunk, next.encoding, (err) => {
    s.writing = false;
    s.length -= s.objectMode ? 1 : next.chunk.length;
    if (err) { if (next.cb) next.cb(err); destroyWith(stream, err); return; }
    const go = () => { if (next.cb) next.cb(null); writeNext(stream); };
    if (sync) later(go); else go();
  });
  sync = false;
};
const finish = (stream) => {
  const s = stream._writableState;
  if (s.finishing || s.destroyed) return;
  s.finishing = true;
  const done = (err) => {
    if (err) { for (const cb of s.endCallbacks) cb(err); destroyWith(stream, err); return; }
    s.finished = true;
    for (const cb of s.endCallbacks) cb();
    stream.emit('finish');
    const rs = stream._readableState;
    if (s.autoDestroy && (!rs || rs.endEmitted)) later(() => destroyWith(stream));
  };
  if (typeof stream._final === 'function') stream._final((err) => later(done, err));
  else later(done);
};
W.end = function end(chunk, encoding, cb) {
  if (typeof chunk === 'function') { cb = chunk; chunk = null; } else if (typeof encoding === 'function') { cb = encoding; encoding = null; }
  const s = this._writableState;
  if (chunk !== null && chunk !== undefined) this.write(chunk, encoding);
  if (cb) { if (s.finished) later(cb); else s.endCallbacks.push(cb); }
  if (s.ending) return this;
  s.ending = true;
  s.ended = true;
  s.corked = 0;
  if (!s.writing && !s.queue.length) finish(this);
  else if (!s.writing) writeNext(this);
  return this;
};
W.cork = function cork() { this._writableState.corked++; };
W.uncork = function uncork() { const s = this._writableState; if (s.corked && !--s.corked && !s.writing) writeNext(this); };
W.setDefaultEncoding = function setDefaultEncoding() { return this; };
W.destroy = function destroy(err, cb) { return destroyWith(this, err, cb); };
getters(W, {
  writable() { const s = this._writableState; return !!s && !s.destroyed && !s.ending && !s.errored; },
  writableEnded() { return this._writableState.ending; },
  writableFinished() { return this._writableState.finished; },
  writableLength() { return this._writableState.length; },
  writableHighWaterMark() { return this._writableState.highWaterMark; },
  writableObjectMode() { return this._writableState.objectMode; },
  writableCorked() { return this._writableState.corked; },
  writableNeedDrain() { return this._writableState.needDrain; },
  destroyed() { return (this._readableState || this._writableState).destroyed; },
});

// ---- Duplex, Transform, PassThrough ----
function Duplex(options = {}) {
  if (!(this instanceof Duplex)) return new Duplex(options);
  Readable.call(this, options);
  Writable.call(this, options);
  if (options.allowHalfOpen === false) this.once('end', () => this.end());
}
inherits(Duplex, Readable);
for (const name of Object.getOwnPropertyNames(W)) {
  if (name === 'constructor' || name === 'destroy' || name === '_destroy' || name === 'destroyed') continue;
  if (!Object.prototype.hasOwnProperty.call(Duplex.prototype, name)) Object.defineProperty(Duplex.prototype, name, Object.getOwnPropertyDescriptor(W, name));
}

function Transform(options = {}) {
  if (!(this instanceof Transform)) return new Transform(options);
  Duplex.call(this, options);
  if (typeof options.transform === 'function') this._transform = options.transform;
  if (typeof options.flush === 'function') this._flush = options.flush;
}
inherits(Transform, Duplex);
Transform.prototype._transform = function _transform() { throw error('ERR_METHOD_NOT_IMPLEMENTED', 'The _transform() method is not implemented'); };
Transform.prototype._write = function _write(chunk, encoding, cb) {
  this._transform(chunk, encoding, (err, data) => { if (data !== undefined && data !== null) this.push(data); cb(err); });
};
Transform.prototype._final = function _final(cb) {
  const end = (err, data) => { if (err) { cb(err); return; } if (data !== undefined && data !== null) this.push(data); this.push(null); cb(); };
  if (typeof this._flush === 'function') this._flush(end); else end();
};
Transform.prototype._read = function _read() {};

function PassThrough(options) { if (!(this instanceof PassThrough)) return new PassThrough(options); Transform.call(this, options); }
inherits(PassThrough, Transform);
PassThrough.prototype._transform = function _transform(chunk, encoding, cb) { cb(null, chunk); };

// ---- finished and pipeline ----
const finished = (stream, options, cb) => {
  if (typeof options === 'function') { cb = options; options = {}; }
  let called = false;
  const done = (err) => { if (called) return; called = true; cleanup(); cb.call(stream, err); };
  const onEnd = () => { if (!stream._writableState || stream._writableState.finished || options.writable === false) done(); };
  const onFinish = () => { if (!stream._readableState || stream._readableState.endEmitted || options.readable === false) done(); };
  const onError = (err) => done(err);
  const onClose = () => {
    const rs = stream._readableState; const ws = stream._writableState;
    if ((rs && !rs.endEmitted) || (ws && !ws.finished)) done(error('ERR_STREAM_PREMATURE_CLOSE', 'Premature close'));
    else done();
  };
  const cleanup = () => { stream.removeListener('end', onEnd); stream.removeListener('finish', onFinish); stream.removeListener('error', onError); stream.removeListener('close', onClose); };
  stream.on('end', onEnd); stream.on('finish', onFinish); stream.on('error', onError); stream.on('close', onClose);
  return cleanup;
};
const pipeline = (...streams) => {
  const cb = typeof streams[streams.length - 1] === 'function' ? streams.pop() : () => {};
  if (Array.isArray(streams[0])) streams = streams[0];
  let failed = false;
  const last = streams[streams.length - 1];
  streams.forEach((s, i) => {
    finished(s, { readable: i < streams.length - 1, writable: i > 0 }, (err) => {
      if (err && !failed) { failed = true; for (const other of streams) if (other !== s && other.destroy) other.destroy(); cb(err); } else if (!err && s === last && !failed) cb();
    });
    if (i > 0) streams[i - 1].pipe(s);
  });
  return last;
};
const promises = {
  pipeline: (...streams) => new Promise((resolve, reject) => pipeline(...streams, (err) => (err ? reject(err) : resolve()))),
  finished: (stream, options) => new Promise((resolve, reject) => finished(stream, options || {}, (err) => (err ? reject(err) : resolve()))),
};

module.exports = Stream;
Object.assign(Stream, {
  Stream, Readable, Writable, Duplex, Transform, PassThrough, finished, pipeline, promises,
  isReadable: (s) => !!s && !!s._readableState && s.readable,
  isErrored: (s) => !!s && !!(s._readableState || s._writableState || {}).errored,
  addAbortSignal: (_signal, stream) => stream,
});
