// node:assert — the checks, throwing AssertionError as Node does.
'use strict';

const { isDeepStrictEqual, inspect } = require('util');

class AssertionError extends Error {
  constructor({ message, actual, expected, operator }) {
    super(message || `${inspect(actual)} ${operator} ${inspect(expected)}`);
    Object.assign(this, { name: 'AssertionError', code: 'ERR_ASSERTION', actual, expected, operator, generatedMessage: !message });
  }
}
const check = (ok, message, actual, expected, operator) => {
  if (ok) return;
  if (message instanceof Error) throw message;
  throw new AssertionError({ message, actual, expected, operator });
};
const looseDeepEqual = (a, b) => a == b || (typeof a === 'object' && typeof b === 'object' && a && b && Object.keys(a).length === Object.keys(b).length && Object.keys(a).every((k) => looseDeepEqual(a[k], b[k]))); // eslint-disable-line eqeqeq
const assert = (value, message) => check(value, message, value, true, '==');
Object.assign(assert, {
  AssertionError,
  ok: assert,
  fail: (message = 'Failed') => check(false, message, undefined, undefined, 'fail'),
  equal: (a, b, m) => check(a == b, m, a, b, '=='), // eslint-disable-line eqeqeq
  notEqual: (a, b, m) => check(a != b, m, a, b, '!='), // eslint-disable-line eqeqeq
  strictEqual: (a, b, m) => check(Object.is(a, b), m, a, b, 'strictEqual'),
  notStrictEqual: (a, b, m) => check(!Object.is(a, b), m, a, b, 'notStrictEqual'),
  deepEqual: (a, b, m) => check(looseDeepEqual(a, b), m, a, b, 'deepEqual'),
  deepStrictEqual: (a, b, m) => check(isDeepStrictEqual(a, b), m, a, b, 'deepStrictEqual'),
  notDeepStrictEqual: (a, b, m) => check(!isDeepStrictEqual(a, b), m, a, b, 'notDeepStrictEqual'),
  match: (s, re, m) => check(re.test(s), m, s, re, 'match'),
  ifError: (v) => { if (v !== null && v !== undefined) throw v; },
  throws: (fn, expected, m) => {
    try { fn(); } catch (e) { if (typeof expected === 'function' && expected.prototype !== undefined && !(e instanceof expected)) throw e; return; }
    check(false, typeof expected === 'string' ? expected : m || 'Missing expected exception.', undefined, expected, 'throws');
  },
  doesNotThrow: (fn) => fn(),
  rejects: async (p, expected, m) => {
    try { await (typeof p === 'function' ? p() : p); } catch { return; }
    check(false, m || 'Missing expected rejection.', undefined, expected, 'rejects');
  },
});
assert.strict = assert;
module.exports = assert;
