// app.js — Gale's web UI: plain JavaScript, no build step, no library.
// Three pages, routed by the URL's fragment:
//   #/                                   the cluster (supervisors, slots, topologies)
//   #/topology/ID[?window=W]             one topology (stats, graph, components, workers, actions)
//   #/topology/ID/component/C[?window=W] one component (per executor, per stream, errors)
// Every value from the API goes into the page as text (textContent,
// setAttribute), never as HTML: topology, component and error strings are
// the users'. Links taken from the API are kept only when they are http(s).
'use strict';

const REFRESH_MS = 5000;
const WINDOWS = [['600', '10m'], ['10800', '3h'], ['86400', '1d'], [':all-time', 'All time']];

// ---------- DOM helpers ----------

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const k of kids.flat()) {
    if (k === undefined || k === null) continue;
    e.append(k instanceof Node ? k : String(k));
  }
  return e;
}

const SVG = 'http://www.w3.org/2000/svg';
function sv(tag, attrs, ...kids) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const k of kids) e.append(k instanceof Node ? k : String(k));
  return e;
}

// A link from the API: only http(s) URLs (a "javascript:" link would run code).
function safeUrl(u) {
  return typeof u === 'string' && /^https?:\/\//i.test(u) ? u : null;
}
function extLink(u, text) {
  const s = safeUrl(u);
  return s ? el('a', { href: s, target: '_blank', rel: 'noopener' }, text) : text;
}

const enc = encodeURIComponent;
function topoHref(id, win) {
  return '#/topology/' + enc(id) + (win ? '?window=' + enc(win) : '');
}
function compHref(id, comp, win) {
  return '#/topology/' + enc(id) + '/component/' + enc(comp) + (win ? '?window=' + enc(win) : '');
}

function dash(v) {
  return v === undefined || v === null || v === '' ? '—' : v;
}
function duration(secs) {
  if (typeof secs !== 'number') return dash(secs);
  const d = Math.floor(secs / 86400), h = Math.floor(secs % 86400 / 3600);
  const m = Math.floor(secs % 3600 / 60), s = secs % 60;
  return (d ? d + 'd ' : '') + (d || h ? h + 'h ' : '') + (d || h || m ? m + 'm ' : '') + s + 's';
}
function statusBadge(s, id) {
  return el('span', { class: 'status ' + (s || ''), id }, dash(s));
}

// ---------- sortable tables ----------

// The sort each table had (by table id), kept across refreshes.
const sorts = {};

// columns: [{key, label, num, fmt(value, row) -> Node|string, title}]
function table(id, columns, rows, empty) {
  const t = el('table', { id });
  const head = el('tr');
  const body = el('tbody');
  const draw = () => {
    const st = sorts[id];
    let r = rows.slice();
    if (st) {
      const col = columns.find(c => c.key === st.key);
      const val = x => {
        const v = col && col.sort ? col.sort(x) : x[st.key];
        const n = typeof v === 'number' ? v : parseFloat(v);
        return col && col.num && !isNaN(n) ? n : (v === null || v === undefined ? '' : String(v));
      };
      r.sort((a, b) => {
        const x = val(a), y = val(b);
        const c = typeof x === 'number' && typeof y === 'number' ? x - y
          : String(x).localeCompare(String(y), undefined, { numeric: true });
        return st.dir * c;
      });
    }
    body.replaceChildren();
    if (!r.length) {
      body.append(el('tr', {}, el('td', { colspan: columns.length, class: 'muted' }, empty || 'None')));
    }
    for (const row of r) {
      body.append(el('tr', {}, columns.map(c => {
        const v = row[c.key];
        return el('td', { class: c.num ? 'num' : c.cls || null, 'data-key': c.key },
          c.fmt ? c.fmt(v, row) : dash(v));
      })));
    }
    for (const th of head.children) {
      const on = st && st.key === th.dataset.key;
      if (on) th.setAttribute('aria-sort', st.dir > 0 ? 'ascending' : 'descending');
      else th.removeAttribute('aria-sort');
    }
  };
  for (const c of columns) {
    head.append(el('th', {
      class: 'sortable', 'data-key': c.key, title: c.title || 'sort by ' + c.label,
      onclick: () => {
        const st = sorts[id];
        sorts[id] = { key: c.key, dir: st && st.key === c.key ? -st.dir : (c.num ? -1 : 1) };
        draw();
      },
    }, c.label));
  }
  t.append(el('thead', {}, head), body);
  draw();
  return el('div', { class: 'tablewrap' }, t); // a wide table scrolls, not the page
}

const num = (key, label, title) => ({ key, label, num: true, title });
const ms = (key, label) => ({ key, label: label + ' (ms)', num: true });

// ---------- the API ----------

async function api(path, opts) {
  const r = await fetch('/api/v1/' + path, opts);
  let j = null;
  try {
    j = await r.json();
  } catch (e) {
    throw new Error(path + ': HTTP ' + r.status + ' with a body that is not JSON');
  }
  if (!r.ok) throw new Error((j && j.errorMessage) || path + ': HTTP ' + r.status);
  return j;
}

function banner(text, ok) {
  const b = document.getElementById('banner');
  b.hidden = !text;
  b.className = ok ? 'ok' : '';
  b.textContent = text || '';
  clearTimeout(banner.timer);
  if (ok) banner.timer = setTimeout(() => banner(''), 8000); // a success note goes away
}

// ---------- pages ----------

function windowLinks(win, hrefOf) {
  return el('p', { class: 'windows' }, 'Window: ', WINDOWS.map(([w, name]) =>
    w === win ? el('span', {}, name) : el('a', { href: hrefOf(w) }, name)));
}

async function clusterPage() {
  const [c, n, s, t] = await Promise.all([api('cluster/summary'), api('nimbus/summary'),
    api('supervisor/summary'), api('topology/summary')]);
  crumbs([]);
  const supRows = s.supervisors.map(x => Object.assign({}, x, {
    logs: x.logviewerPort ? 'http://' + x.host + ':' + x.logviewerPort + '/api/v1/log' : null,
  }));
  return [
    el('h1', {}, 'Cluster'),
    table('cluster', [num('supervisors', 'Supervisors'), num('slotsUsed', 'Used slots'),
      num('slotsFree', 'Free slots'), num('slotsTotal', 'Total slots'),
      num('executorsTotal', 'Executors'), num('tasksTotal', 'Tasks'),
      num('topologies', 'Topologies'), { key: 'stormVersion', label: 'Version' }], [c]),
    el('h2', {}, 'Nimbus'),
    table('nimbus', [{ key: 'host', label: 'Host' }, num('port', 'Port'),
      { key: 'status', label: 'Status' }, { key: 'version', label: 'Version' },
      { key: 'nimbusUpTimeSeconds', label: 'Uptime', num: true, fmt: duration }], n.nimbuses),
    el('h2', {}, 'Topologies'),
    table('topologies', [
      { key: 'name', label: 'Name', fmt: (v, r) => el('a', { href: topoHref(r.id) }, v) },
      { key: 'id', label: 'Id' },
      { key: 'status', label: 'Status', fmt: v => statusBadge(v) },
      { key: 'uptimeSeconds', label: 'Uptime', num: true, fmt: duration },
      num('workersTotal', 'Workers'), num('executorsTotal', 'Executors'), num('tasksTotal', 'Tasks'),
      num('workerRestarts', 'Worker restarts')], t.topologies, 'No topology is running'),
    el('h2', {}, 'Supervisors'),
    table('supervisors', [
      { key: 'id', label: 'Id' },
      { key: 'host', label: 'Host', fmt: (v, r) => r.logs ? extLink(r.logs, v) : dash(v) },
      { key: 'uptimeSeconds', label: 'Uptime', num: true, fmt: duration },
      num('slotsTotal', 'Slots'), num('slotsUsed', 'Used slots'),
      { key: 'alive', label: 'Alive', fmt: v => v ? 'yes' : 'no' },
      { key: 'logs', label: 'Logs', fmt: v => v ? extLink(v, 'log files') : '—' }],
    supRows, 'No supervisor has joined'),
  ];
}

// Log links: the worker's log page on its supervisor's log viewer; an
// error's link also searches the log for the error's first line.
function logLink(url, text, search) {
  const s = safeUrl(url);
  if (!s) return dash(text);
  const q = search ? '&q=' + enc(String(search).split('\n')[0].slice(0, 200)) : '';
  return el('a', { href: s + q, target: '_blank', rel: 'noopener' }, text);
}
function errorCell(v, r) {
  if (!v) return '';
  return logLink(r.errorWorkerLogLink, v, v);
}

// Rates: counts seen at the previous refresh, per topology and component.
const lastCounts = {};
function rates(topoId, counts, uptime) {
  const now = Date.now() / 1000, prev = lastCounts[topoId], out = {};
  for (const [k, v] of Object.entries(counts)) {
    if (prev && now - prev.t > 0.5 && prev.c[k] !== undefined && v >= prev.c[k]) {
      out[k] = (v - prev.c[k]) / (now - prev.t);
    } else {
      out[k] = uptime > 0 ? v / uptime : 0; // the first look: the mean since the start
    }
  }
  lastCounts[topoId] = { t: now, c: counts };
  return out;
}
function fmtRate(r) {
  return r >= 100 ? Math.round(r).toLocaleString() : r.toFixed(1);
}

// The topology's graph: components in columns by their distance from the
// spouts, an edge per input (stream, grouping), each box with its rate
// (spouts: emitted/s, bolts: executed/s), capacity and latency, coloured
// from green (idle) to red (capacity 1: saturated).
function graph(topoId, vis, rate, win) {
  const ids = Object.keys(vis).sort();
  const depth = {};
  const depthOf = (id, seen) => {
    if (depth[id] !== undefined) return depth[id];
    if (seen.has(id)) return 0; // a cycle: cut it
    seen.add(id);
    let d = 0;
    for (const i of vis[id][':inputs'] || []) {
      if (vis[i[':component']]) d = Math.max(d, depthOf(i[':component'], seen) + 1);
    }
    return (depth[id] = d);
  };
  ids.forEach(id => depthOf(id, new Set()));
  const cols = [];
  ids.forEach(id => (cols[depth[id]] = cols[depth[id]] || []).push(id));
  const W = 190, H = 70, DX = 260, DY = 100, M = 24;
  const pos = {};
  cols.forEach((col, x) => col.forEach((id, y) => (pos[id] = { x: M + x * DX, y: M + y * DY })));
  const width = M * 2 + (cols.length - 1) * DX + W;
  const height = M * 2 + (Math.max(1, ...cols.map(c => c.length)) - 1) * DY + H;
  const svg = sv('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img',
    'aria-label': 'the topology graph' });
  svg.append(sv('defs', {}, sv('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5,
    markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' },
  sv('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#7d8799' }))));
  for (const id of ids) {
    for (const i of vis[id][':inputs'] || []) {
      const from = pos[i[':component']], to = pos[id];
      if (!from) continue;
      const x1 = from.x + W, y1 = from.y + H / 2, x2 = to.x, y2 = to.y + H / 2;
      const cx = Math.max(40, Math.abs(x2 - x1) / 2);
      svg.append(sv('path', { class: 'edge', 'marker-end': 'url(#arrow)',
        d: `M${x1},${y1} C${x1 + cx},${y1} ${x2 - cx},${y2} ${x2},${y2}` }));
      const label = (i[':stream'] && i[':stream'] !== 'default' ? i[':stream'] + ' · ' : '') +
        (i[':grouping'] || '');
      svg.append(sv('text', { class: 'elabel', x: (x1 + x2) / 2, y: (y1 + y2) / 2 - 5,
        'text-anchor': 'middle' }, label));
    }
  }
  for (const id of ids) {
    const v = vis[id], p = pos[id], cap = parseFloat(v[':capacity']) || 0;
    const spout = v[':type'] === 'spout';
    const hue = Math.round(120 * (1 - Math.min(cap, 1)));
    const g = sv('a', { href: compHref(topoId, id, win) });
    g.append(sv('rect', { x: p.x, y: p.y, width: W, height: H, rx: spout ? 20 : 6,
      fill: `hsl(${hue}, 65%, ${spout ? 88 : 92}%)`, stroke: `hsl(${hue}, 45%, 40%)`,
      'stroke-width': 1.5 }));
    g.append(sv('text', { class: 'name', x: p.x + 10, y: p.y + 19 }, id.length > 24 ? id.slice(0, 23) + '…' : id));
    g.append(sv('text', { x: p.x + 10, y: p.y + 37 },
      fmtRate(rate[id] || 0) + (spout ? ' emitted/s' : ' executed/s')));
    g.append(sv('text', { x: p.x + 10, y: p.y + 55 },
      (spout ? '' : 'capacity ' + (v[':capacity'] || '0') + ' · ') + (v[':latency'] || '0') + ' ms'));
    svg.append(g);
  }
  return el('div', { class: 'graph', id: 'graph' }, svg);
}

async function act(topo, op) {
  const name = topo.name;
  if (!window.confirm(`Do you really want to ${op} topology "${name}"?`)) return;
  let path = 'topology/' + enc(topo.id) + '/' + op;
  if (op === 'kill' || op === 'rebalance') {
    const w = window.prompt(`Seconds to wait before the ${op} (0 to ${op} at once):`, '30');
    if (w === null) return;
    if (!/^\d{1,5}$/.test(w.trim())) {
      banner(`${op}: the wait must be a whole number of seconds, not "${w}"`);
      return;
    }
    path += '/' + w.trim();
  }
  try {
    await api(path, { method: 'POST' });
    banner(`${op} of topology "${name}": done`, true);
  } catch (e) {
    banner(`${op} of topology "${name}" failed: ${e.message}`);
  }
  refresh(true);
}

async function topologyPage(id, win) {
  const q = win ? '?window=' + enc(win) : '';
  const [t, vis] = await Promise.all([api('topology/' + enc(id) + q),
    api('topology/' + enc(id) + '/visualization' + q)]);
  win = t.window;
  crumbs([[t.name, topoHref(t.id)]]);
  const counts = {};
  t.spouts.forEach(s => (counts[s.spoutId] = s.emitted));
  t.bolts.forEach(b => (counts[b.boltId] = b.executed));
  const rate = rates(t.id + '|' + win, counts, win === ':all-time' ? t.uptimeSeconds
    : Math.min(t.uptimeSeconds, parseInt(win, 10) || t.uptimeSeconds));
  const st = t.status;
  const btn = (op, label, enabled, cls) => el('button', { id: 'btn-' + op, class: cls,
    disabled: !enabled, onclick: () => act(t, op) }, label);
  const errCols = [{ key: 'errorHost', label: 'Error host' },
    { key: 'lastError', label: 'Last error', cls: 'err', fmt: errorCell }];
  return [
    el('h1', {}, 'Topology ', t.name, ' ', statusBadge(st, 'topo-status')),
    el('div', { class: 'actions' },
      btn('activate', 'Activate', st === 'INACTIVE'),
      btn('deactivate', 'Deactivate', st === 'ACTIVE'),
      btn('rebalance', 'Rebalance', st === 'ACTIVE' || st === 'INACTIVE'),
      btn('kill', 'Kill', st !== 'KILLED', 'danger')),
    table('topology', [{ key: 'name', label: 'Name' }, { key: 'id', label: 'Id' },
      { key: 'status', label: 'Status' },
      { key: 'uptimeSeconds', label: 'Uptime', num: true, fmt: duration },
      num('workersTotal', 'Workers'), num('executorsTotal', 'Executors'), num('tasksTotal', 'Tasks'),
      num('workerRestarts', 'Worker restarts')], [t]),
    el('h2', {}, 'Topology stats'),
    table('topology-stats', [
      { key: 'windowPretty', label: 'Window', sort: r => r.window === ':all-time' ? 1e12 : +r.window,
        fmt: (v, r) => el('a', { href: topoHref(t.id, r.window) }, v) },
      num('emitted', 'Emitted'), num('transferred', 'Transferred'),
      ms('completeLatency', 'Complete latency'), num('acked', 'Acked'), num('failed', 'Failed')],
    t.topologyStats),
    el('h2', {}, 'Graph'),
    el('p', { class: 'legend muted' }, 'Rates since the last refresh (the first time: the mean over the window). ',
      'Colour: capacity, green idle to red saturated. Click a component to open it.'),
    graph(t.id, vis, rate, t.window === ':all-time' ? null : t.window),
    el('h2', {}, 'Spouts (', t.windowHint, ')'),
    windowLinks(win, w => topoHref(t.id, w)),
    table('spouts', [
      { key: 'spoutId', label: 'Id', fmt: v => el('a', { href: compHref(t.id, v, win === ':all-time' ? null : win) }, v) },
      num('executors', 'Executors'), num('tasks', 'Tasks'), num('emitted', 'Emitted'),
      num('transferred', 'Transferred'), ms('completeLatency', 'Complete latency'),
      ms('completeLatencyP99', 'p99'), num('acked', 'Acked'), num('failed', 'Failed'),
      ...errCols], t.spouts),
    el('h2', {}, 'Bolts (', t.windowHint, ')'),
    table('bolts', [
      { key: 'boltId', label: 'Id', fmt: v => el('a', { href: compHref(t.id, v, win === ':all-time' ? null : win) }, v) },
      num('executors', 'Executors'), num('tasks', 'Tasks'), num('emitted', 'Emitted'),
      num('transferred', 'Transferred'), num('capacity', 'Capacity', 'the busiest executor\'s'),
      ms('executeLatency', 'Execute latency'), num('executed', 'Executed'),
      ms('processLatency', 'Process latency'), num('acked', 'Acked'), num('failed', 'Failed'),
      num('backpressureWaitMs', 'Backpressure (ms)'), num('queueDepth', 'Queue'),
      ...errCols], t.bolts),
    el('h2', {}, 'Workers'),
    table('workers', [{ key: 'host', label: 'Host' }, num('port', 'Port'),
      { key: 'supervisorId', label: 'Supervisor' },
      { key: 'uptimeSeconds', label: 'Uptime', num: true, fmt: duration },
      num('executorsTotal', 'Executors'), num('restarts', 'Restarts'),
      { key: 'state', label: 'State' }, { key: 'alive', label: 'Alive', fmt: v => v ? 'yes' : 'no' },
      { key: 'workerLogLink', label: 'Log', fmt: v => logLink(v, 'worker.log') }], t.workers),
  ];
}

async function componentPage(id, comp, win) {
  const q = win ? '?window=' + enc(win) : '';
  const c = await api('topology/' + enc(id) + '/component/' + enc(comp) + q);
  const tw = c.window === ':all-time' ? null : c.window;
  crumbs([[c.topologyId, topoHref(c.topologyId, tw)], [c.id, compHref(c.topologyId, c.id, tw)]]);
  const spout = c.componentType === 'spout';
  const hostPort = (v, r) => logLink(r.workerLogLink, r.host + ':' + r.port);
  const out = [
    el('h1', {}, spout ? 'Spout ' : 'Bolt ', c.id, ' ', statusBadge(c.topologyStatus)),
    el('p', {}, 'Topology ', el('a', { href: topoHref(c.topologyId, tw) }, c.topologyId),
      ` · ${c.executors} executors · ${c.tasks} tasks`),
    windowLinks(c.window, w => compHref(c.topologyId, c.id, w)),
    el('h2', {}, 'Stats (', c.windowHint, ')'),
  ];
  if (spout) {
    out.push(table('comp-stats', [num('emitted', 'Emitted'), num('transferred', 'Transferred'),
      ms('completeLatency', 'Complete latency'), ms('completeLatencyP50', 'p50'),
      ms('completeLatencyP99', 'p99'), ms('completeLatencyP999', 'p99.9'),
      num('acked', 'Acked'), num('failed', 'Failed')], c.spoutSummary));
  } else {
    out.push(table('comp-stats', [num('emitted', 'Emitted'), num('transferred', 'Transferred'),
      num('executed', 'Executed'), num('capacity', 'Capacity'),
      ms('executeLatency', 'Execute latency'), ms('executeLatencyP99', 'Execute p99'),
      ms('processLatency', 'Process latency'), ms('processLatencyP99', 'Process p99'),
      num('acked', 'Acked'), num('failed', 'Failed')], c.boltStats));
    out.push(el('h2', {}, 'Input stats'), table('input-stats', [
      { key: 'component', label: 'Component', fmt: v => el('a', { href: compHref(c.topologyId, v, tw) }, v) },
      { key: 'stream', label: 'Stream' }, ms('executeLatency', 'Execute latency'),
      num('executed', 'Executed'), ms('processLatency', 'Process latency'),
      num('acked', 'Acked'), num('failed', 'Failed')], c.inputStats || []));
  }
  const outCols = [{ key: 'stream', label: 'Stream' }, num('emitted', 'Emitted'),
    num('transferred', 'Transferred')];
  if (spout) outCols.push(ms('completeLatency', 'Complete latency'), num('acked', 'Acked'), num('failed', 'Failed'));
  out.push(el('h2', {}, 'Output stats'), table('output-stats', outCols, c.outputStats || [],
    'No output stream'));
  const exCols = [{ key: 'id', label: 'Id' },
    { key: 'uptimeSeconds', label: 'Uptime', num: true, fmt: duration },
    { key: 'host', label: 'Host:port (log)', fmt: hostPort, sort: r => r.host + ':' + r.port },
    num('emitted', 'Emitted'), num('transferred', 'Transferred')];
  if (spout) {
    exCols.push(ms('completeLatency', 'Complete latency'), num('acked', 'Acked'), num('failed', 'Failed'));
  } else {
    exCols.push(num('capacity', 'Capacity'), ms('executeLatency', 'Execute latency'),
      num('executed', 'Executed'), ms('processLatency', 'Process latency'),
      num('acked', 'Acked'), num('failed', 'Failed'));
  }
  exCols.push(num('queueDepth', 'Queue'), num('backpressureWaitMs', 'Backpressure (ms)'));
  out.push(el('h2', {}, 'Executors'), table('executors', exCols, c.executorStats));
  out.push(el('h2', {}, 'Errors'), table('errors', [
    { key: 'time', label: 'Time', num: true, fmt: v => new Date(v * 1000).toLocaleString() },
    { key: 'errorHost', label: 'Host:port (log)',
      fmt: (v, r) => logLink(r.errorWorkerLogLink, v + ':' + r.errorPort, r.error) },
    { key: 'error', label: 'Error', cls: 'err', fmt: (v, r) => logLink(r.errorWorkerLogLink, v, v) }],
  c.componentErrors, 'No errors'));
  return out;
}

// ---------- routing and refresh ----------

function crumbs(parts) {
  document.getElementById('crumbs').replaceChildren(
    el('a', { href: '#/' }, 'Cluster'), ...parts.map(([t, h]) => el('a', { href: h }, t)));
  document.title = parts.length ? 'Gale · ' + parts[parts.length - 1][0] : 'Gale · Cluster';
}

function route() {
  const h = location.hash.replace(/^#\/?/, '');
  const [path, query] = h.split('?');
  const win = new URLSearchParams(query || '').get('window');
  const seg = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (seg[0] === 'topology' && seg.length === 2) return () => topologyPage(seg[1], win);
  if (seg[0] === 'topology' && seg.length === 4 && seg[2] === 'component') {
    return () => componentPage(seg[1], seg[3], win);
  }
  return clusterPage;
}

let busy = false, again = false, lastHash = null;
async function refresh(force) {
  if (busy) {
    again = again || force;
    return;
  }
  busy = true;
  const hash = location.hash;
  try {
    const nodes = await route()();
    if (hash === location.hash) { // the user did not move on meanwhile
      document.getElementById('main').replaceChildren(...nodes);
      document.getElementById('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
      if (hash !== lastHash) window.scrollTo(0, 0);
      lastHash = hash;
      const b = document.getElementById('banner');
      if (!b.classList.contains('ok')) banner('');
    }
  } catch (e) {
    banner(e.message);
    if (hash !== lastHash) {
      document.getElementById('main').replaceChildren(el('p', { class: 'muted' },
        'Nothing to show: ', e.message, '. ', el('a', { href: '#/' }, 'Back to the cluster')));
      lastHash = hash;
    }
  } finally {
    busy = false;
    if (again || hash !== location.hash) {
      again = false;
      refresh();
    }
  }
}

window.addEventListener('hashchange', () => {
  banner('');
  refresh();
});
setInterval(() => {
  if (document.getElementById('auto').checked && !document.hidden) refresh();
}, REFRESH_MS);
refresh();
