// node:timers — the global timers, and their promise forms.
'use strict';

const sleep = (ms, value) => new Promise((resolve) => setTimeout(() => resolve(value), ms));
module.exports = {
  setTimeout, clearTimeout, setInterval, clearInterval, setImmediate, clearImmediate,
  promises: { setTimeout: sleep, setImmediate: (value) => new Promise((resolve) => setImmediate(() => resolve(value))), scheduler: { wait: sleep } },
};
