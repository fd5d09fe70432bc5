// node:net — address checks (Express's req.ip and proxy-addr use them).
// An instance cannot open raw sockets: its network is wasi:http, held to
// the app's security groups, so a Socket that connects names fetch.
'use strict';

const { Duplex } = require('stream');

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const isIPv4 = (s) => IPV4.test(String(s));
const isIPv6 = (s) => {
  s = String(s).replace(/%.*$/, '');
  if (!/^[0-9a-fA-F:.]+$/.test(s) || !s.includes(':')) return false;
  const tail = s.includes('.') ? s.slice(s.lastIndexOf(':') + 1) : null;
  if (tail !== null && !isIPv4(tail)) return false;
  const head = tail === null ? s : s.slice(0, s.lastIndexOf(':') + 1) + (s.endsWith('::') ? '' : '0');
  const groups = (tail === null ? head : `${head}:0`).split(':');
  const gaps = s.split('::').length - 1;
  if (gaps > 1 || groups.some((g, i) => g.length > 4 || (g === '' && gaps === 0 && i > 0))) return false;
  return gaps ? groups.filter(Boolean).length < 8 : groups.length === 8;
};
const isIP = (s) => (isIPv4(s) ? 4 : isIPv6(s) ? 6 : 0);

function Socket(options) {
  if (!(this instanceof Socket)) return new Socket(options);
  Duplex.call(this, options);
  this.remoteAddress = undefined;
  this.encrypted = false;
}
require('util').inherits(Socket, Duplex);
Socket.prototype._read = function _read() {};
Socket.prototype._write = function _write(_chunk, _encoding, cb) { cb(); };
Socket.prototype.connect = function connect() {
  throw Object.assign(new Error('net.Socket cannot connect in the JavaScript runtime: reach other services over HTTP with fetch()'), { code: 'ERR_FEATURE_UNAVAILABLE_ON_PLATFORM' });
};
for (const m of ['setTimeout', 'setNoDelay', 'setKeepAlive', 'ref', 'unref']) Socket.prototype[m] = function noop() { return this; };
Socket.prototype.address = function address() { return { address: this.localAddress || '0.0.0.0', family: 'IPv4', port: this.localPort || 0 }; };

module.exports = {
  isIP, isIPv4, isIPv6, Socket, Stream: Socket,
  connect: (...args) => new Socket().connect(...args),
  createConnection: (...args) => new Socket().connect(...args),
  createServer: () => { throw Object.assign(new Error('net.createServer is not available: serve HTTP with http.createServer'), { code: 'ERR_FEATURE_UNAVAILABLE_ON_PLATFORM' }); },
};
