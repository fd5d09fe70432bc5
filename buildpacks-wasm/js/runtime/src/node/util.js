// node:util — formatting as console does it, inheritance, deprecation
// warnings (each once), promisify and the type checks packages ask for.
'use strict';

const wf = globalThis.__wf;
const warned = new Set();
const custom = Symbol.for('nodejs.util.promisify.custom');

const inspect = (value, options) => wf.inspect(value, options && typeof options === 'object' && options.depth === 0 ? 3 : 0);
inspect.custom = Symbol.for('nodejs.util.inspect.custom');
inspect.defaultOptions = {};

const promisify = (fn) => {
  if (typeof fn !== 'function') throw new TypeError('The "original" argument must be of type function');
  if (fn[custom]) return fn[custom];
  return function promisified(...args) {
    return new Promise((resolve, reject) => fn.call(this, ...args, (err, ...values) => (err ? reject(err) : resolve(values.length > 1 ? values : values[0]))));
  };
};
promisify.custom = custom;

const tag = (v) => Object.prototype.toString.call(v);
const types = {
  isPromise: (v) => v instanceof Promise,
  isDate: (v) => v instanceof Date,
  isRegExp: (v) => v instanceof RegExp,
  isNativeError: (v) => v instanceof Error,
  isMap: (v) => v instanceof Map,
  isSet: (v) => v instanceof Set,
  isTypedArray: (v) => ArrayBuffer.isView(v) && !(v instanceof DataView),
  isUint8Array: (v) => v instanceof Uint8Array,
  isArrayBuffer: (v) => v instanceof ArrayBuffer,
  isAnyArrayBuffer: (v) => v instanceof ArrayBuffer || tag(v) === '[object SharedArrayBuffer]',
  isAsyncFunction: (v) => tag(v) === '[object AsyncFunction]',
  isGeneratorFunction: (v) => /GeneratorFunction\]$/.test(tag(v)),
  isBoxedPrimitive: (v) => v instanceof Number || v instanceof String || v instanceof Boolean,
};

const isDeepStrictEqual = (a, b) => {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || !a || !b) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (a instanceof Date) return a.getTime() === b.getTime();
  if (a instanceof Map || a instanceof Set) return isDeepStrictEqual([...a], [...b]);
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && isDeepStrictEqual(a[k], b[k]));
};

module.exports = {
  format: (...args) => wf.format(args),
  formatWithOptions: (_options, ...args) => wf.format(args),
  inspect,
  inherits(ctor, superCtor) {
    Object.defineProperty(ctor, 'super_', { value: superCtor, writable: true, configurable: true });
    Object.setPrototypeOf(ctor.prototype, superCtor.prototype);
  },
  deprecate(fn, message, code) {
    return function deprecated(...args) {
      const key = code || message;
      if (!warned.has(key)) { warned.add(key); console.error(`(node) [${code || 'DEP'}] DeprecationWarning: ${message}`); }
      return new.target ? Reflect.construct(fn, args, new.target) : fn.apply(this, args);
    };
  },
  debuglog: () => Object.assign(() => {}, { enabled: false }),
  promisify,
  callbackify: (fn) => function callbackified(...args) {
    const cb = args.pop();
    fn.apply(this, args).then((v) => cb(null, v), (e) => cb(e || new Error('Promise was rejected with a falsy value')));
  },
  types,
  isDeepStrictEqual,
  isArray: Array.isArray,
  isString: (v) => typeof v === 'string',
  isFunction: (v) => typeof v === 'function',
  isObject: (v) => v !== null && typeof v === 'object',
  isBuffer: (v) => globalThis.Buffer.isBuffer(v),
  isError: (v) => v instanceof Error,
  TextEncoder,
  TextDecoder,
};
