// node:os — the instance as a machine: WASI on wasm32, its memory limit
// (MEMORY_LIMIT, as CF gives it) as total memory.
'use strict';

const megabytes = () => { const m = /^(\d+)([mg])$/i.exec(process.env.MEMORY_LIMIT || ''); return m ? Number(m[1]) * (m[2].toLowerCase() === 'g' ? 1024 : 1) : 0; };

module.exports = {
  EOL: '\n',
  devNull: '/dev/null',
  platform: () => process.platform,
  type: () => 'WASI',
  release: () => '0.2',
  version: () => 'WASI 0.2',
  arch: () => process.arch,
  machine: () => 'wasm32',
  endianness: () => 'LE',
  hostname: () => process.env.CF_INSTANCE_GUID || 'localhost',
  homedir: () => process.env.HOME || '/home/vcap',
  tmpdir: () => process.env.TMPDIR || '/tmp',
  uptime: () => process.uptime(),
  totalmem: () => megabytes() * 1024 * 1024,
  freemem: () => Math.max(0, megabytes() * 1024 * 1024 - process.memoryUsage().rss),
  cpus: () => [{ model: 'wasm32', speed: 0, times: { user: 0, nice: 0, sys: 0, idle: 0, irq: 0 } }],
  availableParallelism: () => 1,
  loadavg: () => [0, 0, 0],
  networkInterfaces: () => ({}),
  userInfo: () => ({ uid: 0, gid: 0, username: 'vcap', homedir: process.env.HOME || '/home/vcap', shell: null }),
  constants: { signals: {}, errno: {} },
};
