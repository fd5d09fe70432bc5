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

// Logs: Server-Sent Events, one line each; the newest 1000 kept.
function followLogs(pre) {
  const source = new EventSource(pre.dataset.src);
  source.onmessage = (event) => {
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
  if (logs) followLogs(logs);
});
