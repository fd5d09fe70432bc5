// node:stream/web — the WHATWG streams a fetch handler streams a body
// with (`new Response(readable)`, Hono's `stream()`, a TransformStream's
// writer), and the globals of the same names: the prelude loads this the
// first time one is used.
//
// A chunk counts one against a high-water mark (CountQueuingStrategy); a
// source is pulled only while its queue is below the mark or a read waits,
// and a TransformStream's writer waits until its readable side is read, so
// an app writing faster than its client reads waits instead of queueing
// without bound. Only default (not BYOB) readers.
'use strict';

const deferred = () => {
  let resolve;
  let reject;
  const promise = new Promise((yes, no) => { resolve = yes; reject = no; });
  promise.catch(() => {});
  return { promise, resolve, reject };
};

class ReadableStreamDefaultController {
  #stream;
  constructor(stream) { this.#stream = stream; }
  get desiredSize() { return this.#stream._desiredSize(); }
  enqueue(chunk) { this.#stream._enqueue(chunk); }
  close() { this.#stream._requestClose(); }
  error(reason) { this.#stream._error(reason); }
}

class ReadableStream {
  _queue = [];
  _state = 'readable';
  _reason = undefined;
  _reads = [];
  _reader = null;
  _closing = false;
  _started = false;
  _pulling = false;
  _pullAgain = false;

  constructor(source = {}, strategy = {}) {
    if (source.type === 'bytes') throw new RangeError('byte streams (type: "bytes") are not supported');
    this._source = source;
    this._mark = strategy.highWaterMark ?? 1;
    this._controller = new ReadableStreamDefaultController(this);
    const started = source.start ? source.start(this._controller) : undefined;
    Promise.resolve(started).then(() => { this._started = true; this._pull(); }, (e) => this._error(e));
  }

  static from(iterable) {
    const iterator = iterable[Symbol.asyncIterator] ? iterable[Symbol.asyncIterator]() : iterable[Symbol.iterator]();
    return new ReadableStream({
      async pull(controller) {
        const { value, done } = await iterator.next();
        if (done) controller.close(); else controller.enqueue(value);
      },
      async cancel(reason) { await iterator.return?.(reason); },
    });
  }

  get locked() { return this._reader !== null; }
  getReader(options) {
    if (options && options.mode === 'byob') throw new TypeError('BYOB readers are not supported');
    return new ReadableStreamDefaultReader(this);
  }
  cancel(reason) {
    return this.locked ? Promise.reject(new TypeError('the stream is locked to a reader')) : this._cancel(reason);
  }
  async *values({ preventCancel = false } = {}) {
    const reader = this.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        yield value;
      }
    } finally {
      if (!preventCancel && this._state === 'readable') await reader.cancel();
      reader.releaseLock();
    }
  }
  [Symbol.asyncIterator](options) { return this.values(options); }

  async pipeTo(destination, { preventClose = false, preventAbort = false, preventCancel = false } = {}) {
    const reader = this.getReader();
    const writer = destination.getWriter();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        await writer.write(value);
      }
      if (!preventClose) await writer.close();
    } catch (e) {
      if (!preventAbort) await writer.abort(e).catch(() => {});
      if (!preventCancel) await reader.cancel(e).catch(() => {});
      throw e;
    } finally {
      reader.releaseLock();
      writer.releaseLock();
    }
  }
  pipeThrough({ writable, readable }, options) {
    this.pipeTo(writable, options).catch(() => {});
    return readable;
  }
  // Both branches get every chunk, in order, read once from this stream.
  tee() {
    const reader = this.getReader();
    const controllers = [];
    const pull = async () => {
      const { value, done } = await reader.read();
      for (const c of controllers) {
        try { if (done) c.close(); else c.enqueue(value); } catch { /* that branch was cancelled */ }
      }
    };
    return [0, 1].map(() => new ReadableStream({ start: (c) => { controllers.push(c); }, pull }));
  }

  _desiredSize() {
    if (this._state === 'errored') return null;
    return this._state === 'closed' ? 0 : this._mark - this._queue.length;
  }
  _enqueue(chunk) {
    if (this._state !== 'readable' || this._closing) throw new TypeError('the stream is closed: nothing more can be enqueued');
    const read = this._reads.shift();
    if (read) read.resolve({ value: chunk, done: false });
    else this._queue.push(chunk);
    this._pull();
  }
  _requestClose() {
    if (this._state !== 'readable' || this._closing) throw new TypeError('the stream is closed already');
    this._closing = true;
    if (!this._queue.length) this._close();
  }
  _close() {
    this._state = 'closed';
    for (const read of this._reads.splice(0)) read.resolve({ value: undefined, done: true });
    if (this._reader) this._reader._closed.resolve();
  }
  _error(reason) {
    if (this._state !== 'readable') return;
    this._state = 'errored';
    this._reason = reason;
    this._queue = [];
    for (const read of this._reads.splice(0)) read.reject(reason);
    if (this._reader) this._reader._closed.reject(reason);
  }
  _pull() {
    if (!this._started || this._state !== 'readable' || this._closing || !this._source.pull) return;
    if (!this._reads.length && this._desiredSize() <= 0) return;
    if (this._pulling) { this._pullAgain = true; return; }
    this._pulling = true;
    Promise.resolve()
      .then(() => this._source.pull(this._controller))
      .then(() => {
        this._pulling = false;
        if (this._pullAgain) { this._pullAgain = false; this._pull(); }
      }, (e) => this._error(e));
  }
  _read() {
    if (this._queue.length) {
      const value = this._queue.shift();
      if (this._closing && !this._queue.length) this._close(); else this._pull();
      return Promise.resolve({ value, done: false });
    }
    if (this._state === 'closed') return Promise.resolve({ value: undefined, done: true });
    if (this._state === 'errored') return Promise.reject(this._reason);
    const read = deferred();
    this._reads.push(read);
    this._pull();
    return read.promise;
  }
  _cancel(reason) {
    if (this._state === 'closed') return Promise.resolve();
    if (this._state === 'errored') return Promise.reject(this._reason);
    this._queue = [];
    this._close();
    return Promise.resolve().then(() => this._source.cancel?.(reason)).then(() => undefined);
  }
}

class ReadableStreamDefaultReader {
  constructor(stream) {
    if (stream.locked) throw new TypeError('the stream is locked to a reader already');
    this._stream = stream;
    this._closed = deferred();
    stream._reader = this;
    if (stream._state === 'closed') this._closed.resolve();
    else if (stream._state === 'errored') this._closed.reject(stream._reason);
  }
  get closed() { return this._closed.promise; }
  read() { return this._stream ? this._stream._read() : Promise.reject(new TypeError('the reader was released')); }
  cancel(reason) { return this._stream ? this._stream._cancel(reason) : Promise.reject(new TypeError('the reader was released')); }
  releaseLock() {
    if (!this._stream) return;
    for (const read of this._stream._reads.splice(0)) read.reject(new TypeError('the reader was released'));
    this._stream._reader = null;
    this._stream = null;
  }
}

class WritableStreamDefaultController {
  #stream;
  constructor(stream) { this.#stream = stream; }
  error(reason) { this.#stream._error(reason); }
}

// The sink's calls run one at a time, in order (`_chain`).
class WritableStream {
  _state = 'writable';
  _reason = undefined;
  _writer = null;
  _queued = 0;
  _closed = deferred();

  constructor(sink = {}, strategy = {}) {
    this._sink = sink;
    this._mark = strategy.highWaterMark ?? 1;
    this._controller = new WritableStreamDefaultController(this);
    this._chain = Promise.resolve(sink.start ? sink.start(this._controller) : undefined).catch((e) => this._error(e));
  }

  get locked() { return this._writer !== null; }
  getWriter() { return new WritableStreamDefaultWriter(this); }
  abort(reason) { return this.locked ? Promise.reject(new TypeError('the stream is locked to a writer')) : this._abort(reason); }
  close() { return this.locked ? Promise.reject(new TypeError('the stream is locked to a writer')) : this._close(); }

  _run(call) {
    this._queued++;
    const done = this._chain.then(() => {
      if (this._state === 'errored') throw this._reason;
      return call();
    });
    this._chain = done.then(() => { this._queued--; }, (e) => { this._queued--; this._error(e); });
    return done.then(() => undefined);
  }
  _write(chunk) {
    if (this._state !== 'writable') return Promise.reject(this._reason ?? new TypeError('the stream is closed'));
    return this._run(() => this._sink.write?.(chunk, this._controller));
  }
  _close() {
    if (this._state !== 'writable') return Promise.reject(this._reason ?? new TypeError('the stream is closed already'));
    this._state = 'closing';
    return this._run(() => this._sink.close?.()).then(() => {
      this._state = 'closed';
      this._closed.resolve();
    });
  }
  _abort(reason) {
    if (this._state === 'closed' || this._state === 'errored') return Promise.resolve();
    this._error(reason);
    return Promise.resolve(this._sink.abort?.(reason)).then(() => undefined);
  }
  _error(reason) {
    if (this._state === 'closed' || this._state === 'errored') return;
    this._state = 'errored';
    this._reason = reason;
    this._closed.reject(reason);
  }
}

class WritableStreamDefaultWriter {
  constructor(stream) {
    if (stream.locked) throw new TypeError('the stream is locked to a writer already');
    this._stream = stream;
    stream._writer = this;
  }
  get closed() { return this._stream ? this._stream._closed.promise : Promise.reject(new TypeError('the writer was released')); }
  get desiredSize() { return this._stream ? this._stream._mark - this._stream._queued : null; }
  // Ready once the writes queued are below the high-water mark.
  get ready() { return this.desiredSize > 0 ? Promise.resolve() : this._stream._chain; }
  write(chunk) { return this._stream ? this._stream._write(chunk) : Promise.reject(new TypeError('the writer was released')); }
  close() { return this._stream ? this._stream._close() : Promise.reject(new TypeError('the writer was released')); }
  abort(reason) { return this._stream ? this._stream._abort(reason) : Promise.reject(new TypeError('the writer was released')); }
  releaseLock() {
    if (!this._stream) return;
    this._stream._writer = null;
    this._stream = null;
  }
}

// What is written comes out of `readable`, through `transform` if given;
// a write waits until the readable side asks for a chunk.
class TransformStream {
  constructor(transformer = {}, writableStrategy = {}, readableStrategy = {}) {
    let out;
    let wanted = deferred();
    this.readable = new ReadableStream({
      start: (controller) => { out = controller; },
      pull: () => { wanted.resolve(); },
      cancel: (reason) => {
        wanted.resolve();
        this.writable._error(reason ?? new TypeError('the readable side was cancelled'));
        return transformer.cancel?.(reason);
      },
    }, { highWaterMark: readableStrategy.highWaterMark ?? 0 });
    const controller = {
      get desiredSize() { return out.desiredSize; },
      enqueue: (chunk) => out.enqueue(chunk),
      error: (reason) => { out.error(reason); this.writable._error(reason); },
      terminate: () => { try { out.close(); } catch { /* closed already */ } },
    };
    this.writable = new WritableStream({
      start: () => transformer.start?.(controller),
      write: async (chunk) => {
        if (!this.readable._reads.length && this.readable._desiredSize() <= 0) await wanted.promise;
        wanted = deferred();
        await (transformer.transform ? transformer.transform(chunk, controller) : controller.enqueue(chunk));
      },
      close: async () => {
        await transformer.flush?.(controller);
        controller.terminate();
      },
      abort: (reason) => out.error(reason),
    }, writableStrategy);
  }
}

class CountQueuingStrategy {
  constructor({ highWaterMark }) { this.highWaterMark = highWaterMark; }
  size() { return 1; }
}

class TextEncoderStream extends TransformStream {
  constructor() {
    const encoder = new TextEncoder();
    super({ transform: (chunk, c) => c.enqueue(encoder.encode(String(chunk))) });
  }
  get encoding() { return 'utf-8'; }
}

// Bytes to text; a character split between chunks waits for its end.
class TextDecoderStream extends TransformStream {
  constructor(label = 'utf-8', options = {}) {
    const { StringDecoder } = require('string_decoder');
    new TextDecoder(label, options); // refuses what TextDecoder refuses
    const decoder = new StringDecoder('utf8');
    const { Buffer } = require('buffer');
    const emit = (c, text) => { if (text) c.enqueue(text); };
    super({
      transform: (chunk, c) => emit(c, decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))),
      flush: (c) => emit(c, decoder.end()),
    });
  }
  get encoding() { return 'utf-8'; }
}

module.exports = {
  ReadableStream, ReadableStreamDefaultReader, ReadableStreamDefaultController,
  WritableStream, WritableStreamDefaultWriter, WritableStreamDefaultController,
  TransformStream, CountQueuingStrategy, TextEncoderStream, TextDecoderStream,
};
