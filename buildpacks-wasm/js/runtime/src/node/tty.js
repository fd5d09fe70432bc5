// node:tty — an instance's output is its log, never a terminal.
'use strict';

const { Socket } = require('net');

function WriteStream(fd) { Socket.call(this); this.fd = fd; this.isTTY = false; }
require('util').inherits(WriteStream, Socket);
WriteStream.prototype.getColorDepth = () => 1;
WriteStream.prototype.hasColors = () => false;
function ReadStream(fd) { Socket.call(this); this.fd = fd; this.isTTY = false; }
require('util').inherits(ReadStream, Socket);

module.exports = { isatty: () => false, WriteStream, ReadStream };
