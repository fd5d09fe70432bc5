// The console's little script: it keeps an app page's instances and logs
// live. Everything else is plain HTML forms that work without it.
'use strict';

// Instances: fetched again every 2 s; each instance's memory kept for a
// few minutes and drawn as one line per instance.
const SAMPLES = 90;
const memory = new Map(); // index -> [bytes]

function refreshInstances(panel) {
  fetch(panel.dataset.src, { credentials: 'same-origin' })
    .then((r) => (r.ok ? r.text() : Promise.reject(r.status)))
    .then((html) => {
      panel.innerHTML = html;
      const rows = [...panel.querySelectorAll('tr[data-index]')];
      const running = rows.filter((r) => r.dataset.state === 'RUNNING').length;
      const count = document.getElementById('instance-count');
      if (count) count.textContent = `${running}/${rows.length} running`;
      for (const row of rows) {
        const series = memory.get(row.dataset.index) || [];
        series.push(Number(row.dataset.memory));
        if (series.length > SAMPLES) series.shift();
        memory.set(row.dataset.index, series);
      }
      for (const index of [...memory.keys()]) if (!rows.some((r) => r.dataset.index === index)) memory.delete(index);
      drawMemory(Number(panel.querySelector('table')?.dataset.quota || 0));
    })
    .catch(() => {});
}

function drawMemory(quota) {
  const svg = document.getElementById('memory-chart');
  if (!svg) return;
  const top = Math.max(quota, ...[...memory.values()].flat(), 1);
  const lines = [...memory.entries()].map(([index, series], n) => {
    // The newest sample at the right edge, older ones to its left.
    const x = (i) => 300 - ((series.length - 1 - i) * 300) / (SAMPLES - 1);
    const points = series.map((v, i) => `${x(i)},${58 - (v / top) * 56}`).join(' ');
    return `<polyline class="series s${n % 6}" points="${points}"><title>instance ${index}</title></polyline>`;
  });
  svg.innerHTML = `<line class="quota" x1="0" x2="300" y1="${58 - (quota / top) * 56}" y2="${58 - (quota / top) * 56}"></line>${lines.join('')}`;
}

// Traffic: the router's access lines ([RTR], gorouter's format) among the
// logs give each request's time and response_time; requests per 10 s
// and their median latency over the last 5 minutes are drawn from them.
const WINDOW = 300;
const BUCKET = 10;
const requests = []; // [seconds since epoch, response seconds]

function countRequest(line) {
  const rtr = /^(\S+) \[RTR\/[^\]]*\] \S+ .* response_time:([\d.]+)/.exec(line);
  if (!rtr) return;
  requests.push([Date.parse(rtr[1]) / 1000, Number(rtr[2])]);
  while (requests.length && requests[0][0] < Date.now() / 1000 - WINDOW) requests.shift();
}

function drawTraffic() {
  const now = Date.now() / 1000;
  const buckets = Array.from({ length: WINDOW / BUCKET }, () => []);
  for (const [at, took] of requests) {
    const i = buckets.length - 1 - Math.floor((now - at) / BUCKET);
    if (i >= 0) buckets[i].push(took * 1000);
  }
  const median = (xs) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] : 0);
  const rate = buckets.map((b) => b.length / BUCKET);
  const latency = buckets.map(median);
  line('requests-chart', rate);
  line('latency-chart', latency);
  const lastMinute = buckets.slice(-60 / BUCKET).flat();
  const summary = document.getElementById('traffic-summary');
  if (summary) summary.textContent = `${lastMinute.length} requests in the last minute · median ${median(lastMinute).toFixed(1)} ms`;
}

function line(id, values) {
  const svg = document.getElementById(id);
  if (!svg) return;
  const top = Math.max(...values, 1e-9);
  const points = values.map((v, i) => `${(i * 300) / (values.length - 1)},${58 - (v / top) * 56}`).join(' ');
  svg.innerHTML = `<polyline class="series s0" points="${points}"></polyline>`;
}

// Logs: Server-Sent Events, one line each; the newest 1000 kept.
function followLogs(pre) {
  const source = new EventSource(pre.dataset.src);
  source.onmessage = (event) => {
    countRequest(event.data);
    const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
    pre.append(`${event.data}\n`);
    while (pre.childNodes.length > 1000) pre.firstChild.remove();
    if (atBottom) pre.scrollTop = pre.scrollHeight;
  };
}

document.addEventListener('DOMContentLoaded', () => {
  const panel = document.getElementById('instances-panel');
  if (panel) {
    refreshInstances(panel);
    setInterval(() => refreshInstances(panel), 2000);
  }
  const logs = document.getElementById('logs');
  if (logs) {
    followLogs(logs);
    drawTraffic();
    setInterval(drawTraffic, 2000);
  }
});
