// node:http — a server as Node has it (`http.createServer(handler)
// .listen(process.env.PORT)`, which is what `app.listen()` of Express,
// Koa or Fastify comes to), on the runtime's request path: each request
// the router sends becomes an IncomingMessage (a Readable of its body) and
// a ServerResponse whose head and writes go to the client as they are
// made, so a response streams. The instance has no sockets of its own:
// listen() does not bind a port, it makes this server the app's handler.
'use strict';

const wf = globalThis.__wf;
const EventEmitter = require('events');
const { Stream, Readable } = require('stream');
const { Buffer } = require('buffer');
const { Socket } = require('net');
const { inherits } = require('util');

const STATUS_CODES = {
  100: 'Continue', 101: 'Switching Protocols', 102: 'Processing', 103: 'Early Hints', 200: 'OK', 201: 'Created', 202: 'Accepted', 203: 'Non-Authoritative Information', 204: 'No Content', 205: 'Reset Content', 206: 'Partial Content', 207: 'Multi-Status', 208: 'Already Reported', 226: 'IM Used',
  300: 'Multiple Choices', 301: 'Moved Permanently', 302: 'Found', 303: 'See Other', 304: 'Not Modified', 305: 'Use Proxy', 307: 'Temporary Redirect', 308: 'Permanent Redirect',
  400: 'Bad Request', 401: 'Unauthorized', 402: 'Payment Required', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 406: 'Not Acceptable', 407: 'Proxy Authentication Required', 408: 'Request Timeout', 409: 'Conflict', 410: 'Gone', 411: 'Length Required', 412: 'Precondition Failed', 413: 'Payload Too Large', 414: 'URI Too Long', 415: 'Unsupported Media Type', 416: 'Range Not Satisfiable', 417: 'Expectation Failed', 418: "I'm a Teapot", 421: 'Misdirected Request', 422: 'Unprocessable Entity', 423: 'Locked', 424: 'Failed Dependency', 425: 'Too Early', 426: 'Upgrade Required', 428: 'Precondition Required', 429: 'Too Many Requests', 431: 'Request Header Fields Too Large', 451: 'Unavailable For Legal Reasons',
  500: 'Internal Server Error', 501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout', 505: 'HTTP Version Not Supported', 506: 'Variant Also Negotiates', 507: 'Insufficient Storage', 508: 'Loop Detected', 509: 'Bandwidth Limit Exceeded', 510: 'Not Extended', 511: 'Network Authentication Required',
};
const METHODS = ['ACL', 'BIND', 'CHECKOUT', 'CONNECT', 'COPY', 'DELETE', 'GET', 'HEAD', 'LINK', 'LOCK', 'M-SEARCH', 'MERGE', 'MKACTIVITY', 'MKCALENDAR', 'MKCOL', 'MOVE', 'NOTIFY', 'OPTIONS', 'PATCH', 'POST', 'PROPFIND', 'PROPPATCH', 'PURGE', 'PUT', 'QUERY', 'REBIND', 'REPORT', 'SEARCH', 'SOURCE', 'SUBSCRIBE', 'TRACE', 'UNBIND', 'UNLINK', 'UNLOCK', 'UNSUBSCRIBE'];
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
const codeError = (Kind, code, message) => Object.assign(new Kind(message), { code });

// ---- the request ----
function IncomingMessage(socket) {
  Readable.call(this);
  Object.assign(this, {
    socket, connection: socket, httpVersion: '1.1', httpVersionMajor: 1, httpVersionMinor: 1, complete: false, aborted: false, upgrade: false,
    headers: {}, rawHeaders: [], trailers: {}, rawTrailers: [], url: '', method: null, statusCode: null, statusMessage: null,
  });
}
inherits(IncomingMessage, Readable);
IncomingMessage.prototype._read = function _read() {};
IncomingMessage.prototype.setTimeout = function setTimeout() { return this; };
Object.defineProperty(IncomingMessage.prototype, 'headersDistinct', {
  get() { const d = {}; for (let i = 0; i < this.rawHeaders.length; i += 2) (d[this.rawHeaders[i].toLowerCase()] ||= []).push(this.rawHeaders[i + 1]); return d; },
});
// Node's joining of repeated fields: set-cookie as an array, cookie with
// '; ', a few single-valued ones keep the first, the rest with ', '.
const SINGLE = new Set(['age', 'authorization', 'content-length', 'content-type', 'etag', 'expires', 'from', 'host', 'if-modified-since', 'if-unmodified-since', 'last-modified', 'location', 'max-forwards', 'proxy-authorization', 'referer', 'retry-after', 'server', 'user-agent']);
const addHeader = (headers, name, value) => {
  if (name === 'set-cookie') (headers[name] ||= []).push(value);
  else if (!(name in headers)) headers[name] = value;
  else if (name === 'cookie') headers[name] += `; ${value}`;
  else if (!SINGLE.has(name)) headers[name] += `, ${value}`;
};

// ---- the response ----
function OutgoingMessage() {
  Stream.call(this);
  this._headers = new Map(); // lower-case name -> [name as set, value]
  this._header = null; // what was sent, once it was
  this.finished = false;
  this.writable = true;
  this.sendDate = true;
  this.chunkedEncoding = false;
  this.useChunkedEncodingByDefault = true;
}
inherits(OutgoingMessage, Stream);
const O = OutgoingMessage.prototype;
const checkName = (name) => { if (typeof name !== 'string' || !TOKEN.test(name)) throw codeError(TypeError, 'ERR_INVALID_HTTP_TOKEN', `Header name must be a valid HTTP token ["${name}"]`); };
const checkValue = (name, value) => {
  if (value === undefined) throw codeError(TypeError, 'ERR_HTTP_INVALID_HEADER_VALUE', `Invalid value "undefined" for header "${name}"`);
  for (const v of Array.isArray(value) ? value : [value]) if (BAD_VALUE.test(String(v))) throw codeError(TypeError, 'ERR_INVALID_CHAR', `Invalid character in header content ["${name}"]`);
};
O.setHeader = function setHeader(name, value) {
  if (this._header) throw codeError(Error, 'ERR_HTTP_HEADERS_SENT', 'Cannot set headers after they are sent to the client');
  checkName(name);
  checkValue(name, value);
  this._headers.set(name.toLowerCase(), [name, value]);
  return this;
};
O.appendHeader = function appendHeader(name, value) {
  const old = this.getHeader(name);
  return this.setHeader(name, old === undefined ? value : [].concat(old, value));
};
O.setHeaders = function setHeaders(headers) { for (const [k, v] of headers) this.setHeader(k, v); return this; };
O.getHeader = function getHeader(name) { const e = this._headers.get(String(name).toLowerCase()); return e && e[1]; };
O.getHeaders = function getHeaders() { const h = Object.create(null); for (const [k, [, v]] of this._headers) h[k] = v; return h; };
O.getHeaderNames = function getHeaderNames() { return [...this._headers.keys()]; };
O.getRawHeaderNames = function getRawHeaderNames() { return [...this._headers.values()].map(([n]) => n); };
O.hasHeader = function hasHeader(name) { return this._headers.has(String(name).toLowerCase()); };
O.removeHeader = function removeHeader(name) {
  if (this._header) throw codeError(Error, 'ERR_HTTP_HEADERS_SENT', 'Cannot remove headers after they are sent to the client');
  this._headers.delete(String(name).toLowerCase());
};
O.flushHeaders = function flushHeaders() { this._sendHead(); };
O.cork = function cork() {};
O.uncork = function uncork() {};
O.setTimeout = function setTimeout(_ms, cb) { if (cb) this.on('timeout', cb); return this; };
O.addTrailers = function addTrailers() {};
Object.defineProperties(O, {
  headersSent: { get() { return !!this._header; }, configurable: true },
  writableEnded: { get() { return this.finished; }, configurable: true },
  writableFinished: { get() { return !!this._finishedSent; }, configurable: true },
  writableLength: { get() { return 0; }, configurable: true },
  writableHighWaterMark: { get() { return 16384; }, configurable: true },
  writableCorked: { get() { return 0; }, configurable: true },
  writableNeedDrain: { get() { return false; }, configurable: true },
});

function ServerResponse(req) {
  OutgoingMessage.call(this);
  this.req = req;
  this.socket = req.socket;
  this.connection = req.socket;
  this.statusCode = 200;
  this.statusMessage = undefined;
  this._hasBody = req.method !== 'HEAD';
}
inherits(ServerResponse, OutgoingMessage);
const S = ServerResponse.prototype;
S.writeHead = function writeHead(statusCode, reason, headers) {
  if (this._header) throw codeError(Error, 'ERR_HTTP_HEADERS_SENT', 'Cannot write headers after they are sent to the client');
  if (typeof reason !== 'string') { headers = reason; reason = undefined; }
  statusCode |= 0;
  if (statusCode < 100 || statusCode > 999) throw codeError(RangeError, 'ERR_HTTP_INVALID_STATUS_CODE', `Invalid status code: ${statusCode}`);
  this.statusCode = statusCode;
  if (reason !== undefined) this.statusMessage = reason;
  if (Array.isArray(headers)) {
    if (Array.isArray(headers[0])) for (const [k, v] of headers) this.appendHeader(k, v);
    else for (let i = 0; i + 1 < headers.length; i += 2) this.appendHeader(headers[i], headers[i + 1]);
  } else if (headers) for (const k of Object.keys(headers)) if (headers[k] !== undefined) this.setHeader(k, headers[k]);
  this._sendHead();
  return this;
};
S.writeContinue = function writeContinue() {};
S.writeProcessing = function writeProcessing() {};
S.writeEarlyHints = function writeEarlyHints() {};
S.assignSocket = function assignSocket() {};
S.detachSocket = function detachSocket() {};
S._sendHead = function _sendHead() {
  if (this._header) return;
  const status = this.statusCode;
  if (status === 204 || status === 304 || (status >= 100 && status < 200)) this._hasBody = false;
  if (this.sendDate && !this._headers.has('date')) this._headers.set('date', ['Date', new Date().toUTCString()]);
  const lines = [];
  for (const [k, [, v]] of this._headers) {
    // wasi:http holds a body to its Content-Length: one with no body has
    // none. (Fields about the connection are left out by the runtime.)
    if (!this._hasBody && k === 'content-length') continue;
    for (const one of Array.isArray(v) ? v : [v]) lines.push([k, String(one)]);
  }
  this.statusMessage ||= STATUS_CODES[status] || 'unknown';
  this._header = `HTTP/1.1 ${status} ${this.statusMessage}\r\n${lines.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
  wf.respondHead(status, lines);
};
const bytesOf = (chunk, encoding) => {
  if (typeof chunk === 'string') return Buffer.from(chunk, encoding || 'utf8');
  if (chunk instanceof Uint8Array) return chunk;
  throw codeError(TypeError, 'ERR_INVALID_ARG_TYPE', 'The "chunk" argument must be of type string or an instance of Buffer or Uint8Array');
};
S.write = function write(chunk, encoding, cb) {
  if (typeof encoding === 'function') { cb = encoding; encoding = undefined; }
  if (this.finished) {
    const e = codeError(Error, 'ERR_STREAM_WRITE_AFTER_END', 'write after end');
    process.nextTick(() => { if (cb) cb(e); this.emit('error', e); });
    return false;
  }
  const bytes = bytesOf(chunk, encoding);
  this._sendHead();
  if (this._hasBody && bytes.length && !wf.respondWrite(bytes)) this._clientGone();
  if (cb) process.nextTick(cb);
  return true;
};
S.end = function end(chunk, encoding, cb) {
  if (typeof chunk === 'function') { cb = chunk; chunk = undefined; } else if (typeof encoding === 'function') { cb = encoding; encoding = undefined; }
  if (this.finished) { if (cb) process.nextTick(cb); return this; }
  const bytes = chunk === undefined || chunk === null ? null : bytesOf(chunk, encoding);
  if (!this._header && !this._headers.has('content-length') && !this._headers.has('transfer-encoding')) this._headers.set('content-length', ['Content-Length', String(bytes ? bytes.length : 0)]);
  this._sendHead();
  if (bytes && this._hasBody && bytes.length && !wf.respondWrite(bytes)) this._clientGone();
  wf.respondEnd();
  this.finished = true;
  this.writable = false;
  if (cb) this.once('finish', cb);
  process.nextTick(() => {
    this._finishedSent = true;
    this.emit('finish');
    this.emit('close');
    this.req.complete = true;
    this.req.emit('close');
  });
  return this;
};
S.destroy = function destroy(error) {
  if (!this.finished) { this.finished = true; wf.respondAbort(); }
  process.nextTick(() => { if (error) this.emit('error', error); this.emit('close'); });
  return this;
};
S._clientGone = function _clientGone() {
  if (this.req.aborted) return;
  this.req.aborted = true;
  process.nextTick(() => { this.req.emit('aborted'); this.socket.destroy(); });
};

// ---- the server ----
let listening = null; // the server requests go to
function Server(options, listener) {
  if (!(this instanceof Server)) return new Server(options, listener);
  EventEmitter.call(this);
  if (typeof options === 'function') listener = options;
  if (listener) this.on('request', listener);
  Object.assign(this, { listening: false, timeout: 0, keepAliveTimeout: 5000, headersTimeout: 60000, requestTimeout: 300000, maxHeadersCount: null, maxRequestsPerSocket: 0 });
}
inherits(Server, EventEmitter);
Server.prototype.listen = function listen(...args) {
  const cb = typeof args[args.length - 1] === 'function' ? args.pop() : null;
  const first = args[0];
  const port = first && typeof first === 'object' ? first.port : first;
  this._port = Number(port) || Number(process.env.PORT) || 8080;
  if (listening && listening !== this) console.error(`http: a second server listened (port ${this._port}); requests keep going to the first`);
  else { listening = this; wf.serve(serve); }
  this.listening = true;
  if (cb) this.once('listening', cb);
  process.nextTick(() => this.emit('listening'));
  return this;
};
Server.prototype.address = function address() { return this.listening ? { address: '::', family: 'IPv6', port: this._port } : null; };
Server.prototype.close = function close(cb) {
  this.listening = false;
  if (listening === this) { listening = null; wf.serve(null); }
  process.nextTick(() => { this.emit('close'); if (cb) cb(); });
  return this;
};
for (const m of ['setTimeout', 'ref', 'unref', 'closeAllConnections', 'closeIdleConnections']) Server.prototype[m] = function noop() { return this; };

// One request: [method, URL, field lines, body bytes, https?]. Resolves
// when the response has ended (or the handler's error is known).
const serve = (method, url, lines, body, encrypted) => new Promise((resolve, reject) => {
  const server = listening;
  const socket = new Socket();
  Object.assign(socket, { remoteAddress: '127.0.0.1', remoteFamily: 'IPv4', remotePort: 0, localAddress: '0.0.0.0', localPort: server._port, encrypted: encrypted || undefined });
  const req = new IncomingMessage(socket);
  req.method = method;
  const at = url.indexOf('/', url.indexOf('//') + 2);
  req.url = at < 0 ? '/' : url.slice(at);
  // wasi:http gives the Host as the request's authority, not a field.
  if (!lines.some(([name]) => name === 'host')) lines.unshift(['host', url.slice(url.indexOf('//') + 2, at < 0 ? undefined : at)]);
  for (const [name, value] of lines) { req.rawHeaders.push(name, value); addHeader(req.headers, name, value); }
  if (body && body.length) req.push(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
  req.push(null);
  req.complete = true;
  const res = new ServerResponse(req);
  res.once('finish', resolve);
  res.once('error', reject);
  try { server.emit('request', req, res); } catch (e) { reject(e); }
});

const unavailable = (what) => () => { throw codeError(Error, 'ERR_FEATURE_UNAVAILABLE_ON_PLATFORM', `http.${what} is not available in the JavaScript runtime: call other services with fetch()`); };
function Agent(options) { this.options = options || {}; this.maxSockets = Infinity; this.keepAlive = !!this.options.keepAlive; }
Agent.prototype.destroy = function destroy() {};

module.exports = {
  STATUS_CODES, METHODS, Server, IncomingMessage, OutgoingMessage, ServerResponse, Agent, globalAgent: new Agent(),
  createServer: (options, listener) => new Server(options, listener),
  request: unavailable('request'), get: unavailable('get'),
  maxHeaderSize: 16384,
  validateHeaderName: checkName, validateHeaderValue: checkValue,
};
