// node:events — EventEmitter as Node has it: a constructor function (old
// packages call `EventEmitter.call(this)`), state in `_events` (Express
// mixes the prototype into a plain function), an `error` event nobody
// listens to thrown.
'use strict';

function EventEmitter(options) { EventEmitter.init.call(this, options); }
EventEmitter.init = function init() {
  if (!this._events || this._events === Object.getPrototypeOf(this)._events) { this._events = Object.create(null); this._eventsCount = 0; }
  this._maxListeners = this._maxListeners || undefined;
};
EventEmitter.defaultMaxListeners = 10;
EventEmitter.errorMonitor = Symbol('events.errorMonitor');

const listenersOf = (emitter) => {
  if (!emitter._events) { emitter._events = Object.create(null); emitter._eventsCount = 0; }
  return emitter._events;
};
const add = (emitter, name, fn, prepend) => {
  if (typeof fn !== 'function') throw new TypeError(`The "listener" argument must be of type function. Received ${typeof fn}`);
  const events = listenersOf(emitter);
  if (events.newListener) emitter.emit('newListener', name, fn.listener || fn);
  const list = events[name];
  if (!list) { events[name] = [fn]; emitter._eventsCount++; } else if (prepend) list.unshift(fn); else list.push(fn);
  return emitter;
};
const onceWrapper = (emitter, name, fn) => {
  const wrapped = function (...args) { emitter.removeListener(name, wrapped); return fn.apply(this, args); };
  wrapped.listener = fn;
  return wrapped;
};

const proto = EventEmitter.prototype;
proto._events = undefined;
proto._eventsCount = 0;
proto._maxListeners = undefined;
proto.on = function on(name, fn) { return add(this, name, fn, false); };
proto.addListener = proto.on;
proto.prependListener = function prependListener(name, fn) { return add(this, name, fn, true); };
proto.once = function once(name, fn) { return add(this, name, onceWrapper(this, name, fn), false); };
proto.prependOnceListener = function prependOnceListener(name, fn) { return add(this, name, onceWrapper(this, name, fn), true); };
proto.removeListener = function removeListener(name, fn) {
  const events = listenersOf(this);
  const list = events[name];
  if (!list) return this;
  const i = list.findIndex((l) => l === fn || l.listener === fn);
  if (i < 0) return this;
  list.splice(i, 1);
  if (!list.length) { delete events[name]; this._eventsCount--; }
  if (events.removeListener) this.emit('removeListener', name, fn);
  return this;
};
proto.off = proto.removeListener;
proto.removeAllListeners = function removeAllListeners(name) {
  const events = listenersOf(this);
  if (name === undefined) { this._events = Object.create(null); this._eventsCount = 0; } else if (events[name]) { delete events[name]; this._eventsCount--; }
  return this;
};
proto.emit = function emit(name, ...args) {
  const list = listenersOf(this)[name];
  if (name === 'error' && this._events[EventEmitter.errorMonitor]) for (const fn of [...this._events[EventEmitter.errorMonitor]]) fn.apply(this, args);
  if (!list || !list.length) {
    if (name === 'error') {
      const error = args[0];
      if (error instanceof Error) throw error;
      const wrapped = new Error(`Unhandled error. (${error})`);
      wrapped.context = error;
      throw wrapped;
    }
    return false;
  }
  for (const fn of [...list]) fn.apply(this, args);
  return true;
};
proto.listeners = function listeners(name) { return (listenersOf(this)[name] || []).map((l) => l.listener || l); };
proto.rawListeners = function rawListeners(name) { return [...(listenersOf(this)[name] || [])]; };
proto.listenerCount = function listenerCount(name) { return (listenersOf(this)[name] || []).length; };
proto.eventNames = function eventNames() { return Reflect.ownKeys(listenersOf(this)); };
proto.setMaxListeners = function setMaxListeners(n) { this._maxListeners = n; return this; };
proto.getMaxListeners = function getMaxListeners() { return this._maxListeners === undefined ? EventEmitter.defaultMaxListeners : this._maxListeners; };

EventEmitter.once = (emitter, name) => new Promise((resolve, reject) => {
  const onError = (error) => { emitter.removeListener(name, onEvent); reject(error); };
  const onEvent = (...args) => { if (name !== 'error') emitter.removeListener('error', onError); resolve(args); };
  emitter.once(name, onEvent);
  if (name !== 'error') emitter.once('error', onError);
});
EventEmitter.listenerCount = (emitter, name) => emitter.listenerCount(name);
EventEmitter.EventEmitter = EventEmitter;
module.exports = EventEmitter;
