/* scpd dashboard: vanilla JS, no build step, no external code.
 *
 * Authentication: the sign-in form sends Basic credentials once to
 * POST /restconf/operations/scpd:login and keeps the bearer token it returns in sessionStorage
 * (this tab only; no cookie, so no CSRF). If that operation is missing (404/405) the page falls
 * back to Basic on every request, with the credentials held in memory only.
 * Every fetch() uses credentials: 'omit': the Authorization header is ours, and a 401 (which
 * carries WWW-Authenticate: Basic) then reaches the page instead of the browser's own password
 * prompt (Fetch standard, HTTP-network-or-cache fetch: prompts need includeCredentials).
 *
 * Live updates: the RFC 8040 event streams (/restconf/streams/{transfers,security,scp-debug}).
 * EventSource cannot send an Authorization header, so streams are read with fetch() and a
 * ReadableStream reader that parses text/event-stream here; a dropped stream reconnects with
 * Last-Event-ID and resumes from the server's ring. Counters, history and the chart come from
 * GET scpd:scp-state every POLL_MS; the file systems' usage from GET scpd:file-systems every
 * FS_POLL_MS, after each upload starts or any transfer ends, and every POLL_MS while an upload
 * runs. */
'use strict';

const NATIVE = '/restconf/data/Cisco-IOS-XE-native:native';
const STATE = '/restconf/data/scpd:scp-state';
const POLL_MS = 1000;
const CHART_POINTS = 120;          /* 2 minutes at POLL_MS */
const DEBUG_LINES = 600;
const SECURITY_ITEMS = 60;
const HISTORY_ROWS = 25;
const FS = '/restconf/data/scpd:file-systems';
const FS_POLL_MS = 5000;

const $ = (id) => document.getElementById(id);
const S = {
  auth: null,             /* {header, user, priv} */
  active: new Map(),      /* id -> transfer (from the stream and the poll) */
  rows: new Map(),        /* id -> DOM row of an active transfer */
  historyFilter: '',
  chart: [],              /* {t, inRate, outRate} */
  last: null,             /* previous counters sample {t, bytesIn, bytesOut} */
  streams: [],
  pollTimer: null,
  fsTimer: null,
  debugOn: false,
  scpEnabled: false,
  secCount: 0,
};

/* ---- formatting ---------------------------------------------------------------------------- */
function fmtBytes(n) {
  n = Number(n) || 0;
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i === 0 ? n.toFixed(0) : n.toFixed(n >= 100 ? 0 : n >= 10 ? 1 : 2)) + ' ' + u[i];
}
const fmtRate = (n) => fmtBytes(n) + '/s';
function fmtDuration(s) {
  s = Math.max(0, Math.round(s));
  if (s < 60) return s + ' s';
  if (s < 3600) return Math.floor(s / 60) + ' min ' + String(s % 60).padStart(2, '0') + ' s';
  return Math.floor(s / 3600) + ' h ' + String(Math.floor(s / 60) % 60).padStart(2, '0') + ' min';
}
function fmtAgo(iso) {
  const t = Date.parse(iso);
  if (!t) return '';
  const s = (Date.now() - t) / 1000;
  if (s < 5) return 'just now';
  if (s < 60) return Math.round(s) + ' s ago';
  if (s < 3600) return Math.round(s / 60) + ' min ago';
  if (s < 86400) return Math.round(s / 3600) + ' h ago';
  return new Date(t).toLocaleDateString();
}
const fmtClock = (iso) => { const d = new Date(iso); return isNaN(d) ? '' : d.toLocaleTimeString(); };
const fileName = (p) => { const s = String(p || ''); const i = Math.max(s.lastIndexOf('/'), s.lastIndexOf(':')); return i >= 0 && i < s.length - 1 ? s.slice(i + 1) : s; };

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}

let toastTimer = null;
function toast(msg, isError) {
  const t = $('toast');
  t.textContent = msg;
  t.className = 'toast' + (isError ? ' error' : '');
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.hidden = true; }, isError ? 6000 : 3000);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/* ---- API ------------------------------------------------------------------------------------- */
class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}
function errorText(data, status) {
  try { return data['ietf-restconf:errors'].error[0]['error-message']; } catch (e) { /* not RESTCONF */ }
  return 'HTTP ' + status;
}
async function api(method, path, body) {
  const headers = { Accept: 'application/yang-data+json' };
  if (S.auth) headers.Authorization = S.auth.header;
  if (body !== undefined) headers['Content-Type'] = 'application/yang-data+json';
  const r = await fetch(path, { method, headers, cache: 'no-store', credentials: 'omit',
                                body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  let data = null;
  if (text) { try { data = JSON.parse(text); } catch (e) { data = text; } }
  if (r.status === 401 && S.auth) { signOut('Your session has expired: sign in again.'); }
  if (!r.ok) throw new ApiError(r.status, errorText(data, r.status));
  return data;
}

/* ---- sign in / out -------------------------------------------------------------------------- */
async function signIn(user, pass) {
  const basic = 'Basic ' + btoa(unescape(encodeURIComponent(user + ':' + pass)));
  const r = await fetch('/restconf/operations/scpd:login', {
    method: 'POST', credentials: 'omit', headers: { Authorization: basic, Accept: 'application/yang-data+json' } });
  let data = null;
  try { data = await r.json(); } catch (e) { /* empty */ }
  if (r.ok && data && data['scpd:output']) {
    const o = data['scpd:output'];
    S.auth = { header: 'Bearer ' + o.token, user: o.user, priv: o.privilege };
    sessionStorage.setItem('scpd.auth', JSON.stringify(S.auth));
    return;
  }
  if (r.status === 404 || r.status === 405) {
    /* No token operation on this server: Basic on every request, kept in memory only. */
    S.auth = { header: basic, user, priv: 15 };
    await api('GET', STATE + '?limit=1');
    return;
  }
  if (r.status === 401) throw new Error('Wrong username or password.');
  throw new Error(errorText(data, r.status));
}

function signOut(message) {
  const wasToken = S.auth && S.auth.header.startsWith('Bearer ');
  const header = S.auth && S.auth.header;
  S.auth = null;
  sessionStorage.removeItem('scpd.auth');
  for (const st of S.streams) st.close();
  S.streams = [];
  clearInterval(S.pollTimer);
  clearInterval(S.fsTimer);
  if (wasToken && !message) {
    fetch('/restconf/operations/scpd:logout', { method: 'POST', credentials: 'omit', headers: { Authorization: header } }).catch(() => {});
  }
  $('login-error').textContent = message || '';
  $('login').hidden = false;
  $('login-user').focus();
}

$('login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const btn = $('login-submit');
  btn.disabled = true;
  $('login-error').textContent = '';
  try {
    await signIn($('login-user').value.trim(), $('login-pass').value);
    $('login-pass').value = '';
    $('login').hidden = true;
    start();
  } catch (e) {
    $('login-error').textContent = e.message;
  } finally {
    btn.disabled = false;
  }
});
$('logout').addEventListener('click', () => signOut());

/* ---- event streams (fetch + ReadableStream; see the head comment) ----------------------------- */
function openStream(name, onEvent, lastId) {
  const st = { name, lastId: lastId === undefined ? null : lastId, closed: false, up: false, ctrl: null };
  st.close = () => { st.closed = true; if (st.ctrl) st.ctrl.abort(); };
  const handle = (block) => {
    let id = null;
    const data = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) {
        const m = /^:\s*lost (\d+)/.exec(line);
        if (m && name === 'scp-debug') debugNote(m[1] + ' trace lines lost (slow connection)');
        continue;
      }
      const c = line.indexOf(':');
      const field = c < 0 ? line : line.slice(0, c);
      let value = c < 0 ? '' : line.slice(c + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'id') id = value;
      else if (field === 'data') data.push(value);
    }
    if (id !== null) st.lastId = id;
    if (!data.length) return;
    try {
      onEvent(JSON.parse(data.join('\n'))['ietf-restconf:notification'] || {});
    } catch (e) { console.warn('stream', name, e); }
  };
  (async () => {
    while (!st.closed && S.auth) {
      st.ctrl = new AbortController();
      try {
        const headers = { Accept: 'text/event-stream', Authorization: S.auth.header };
        if (st.lastId !== null) headers['Last-Event-ID'] = String(st.lastId);
        const r = await fetch('/restconf/streams/' + name, { headers, signal: st.ctrl.signal, cache: 'no-store', credentials: 'omit' });
        if (r.status === 401) { signOut('Your session has expired: sign in again.'); return; }
        if (!r.ok) throw new Error('HTTP ' + r.status);
        st.up = true;
        liveStatus();
        const reader = r.body.getReader();
        const dec = new TextDecoder();
        let buf = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += dec.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
          let i;
          while ((i = buf.indexOf('\n\n')) >= 0) { handle(buf.slice(0, i)); buf = buf.slice(i + 2); }
        }
      } catch (e) {
        if (st.closed) return;
      }
      st.up = false;
      liveStatus();
      if (!st.closed) await sleep(2000);
    }
  })();
  return st;
}
function liveStatus() {
  const up = S.streams.filter((s) => s.up).length;
  const live = $('live');
  live.className = 'live ' + (up === S.streams.length && up ? 'up' : up ? '' : 'down');
  $('live-label').textContent = up === S.streams.length && up ? 'live' : up ? 'partly live' : 'reconnecting';
}

/* ---- state poll: counters, switch, history, chart --------------------------------------------- */
const num = (v) => Number(v || 0);
async function poll() {
  let d;
  try {
    const q = new URLSearchParams({ limit: String(HISTORY_ROWS) });
    if (S.historyFilter) q.set('result', S.historyFilter);
    d = (await api('GET', STATE + '?' + q))['scpd:scp-state'];
  } catch (e) {
    if (e.status !== 401) $('live-label').textContent = 'API unreachable';
    return;
  }
  const c = d.counters || {};
  const now = Date.now();
  const bytesIn = num(c['bytes-in']), bytesOut = num(c['bytes-out']);
  if (S.last && now > S.last.t) {
    const dt = (now - S.last.t) / 1000;
    S.chart.push({ t: now, inRate: Math.max(0, (bytesIn - S.last.bytesIn) / dt),
                   outRate: Math.max(0, (bytesOut - S.last.bytesOut) / dt) });
    if (S.chart.length > CHART_POINTS) S.chart.shift();
  }
  S.last = { t: now, bytesIn, bytesOut };
  drawChart();
  /* while an upload runs, its file system's usage moves every second, not every FS_POLL_MS */
  if ([...S.active.values()].some((x) => x.direction !== 'out')) loadFs();

  const cur = S.chart.length ? S.chart[S.chart.length - 1] : { inRate: 0, outRate: 0 };
  $('k-rate').textContent = fmtRate(cur.inRate + cur.outRate);
  $('k-rate-sub').textContent = '↑ ' + fmtRate(cur.inRate) + ' · ↓ ' + fmtRate(cur.outRate);
  $('k-sessions').textContent = d['sessions-active'] || 0;
  $('k-sessions-sub').textContent = num(c['sessions-accepted']) + ' accepted · up ' + fmtDuration(num(d.uptime));
  $('k-ok').textContent = num(c['transfers-in-ok']) + num(c['transfers-out-ok']);
  $('k-ok-sub').textContent = num(c['transfers-in-ok']) + ' up · ' + num(c['transfers-out-ok']) + ' down';
  $('k-failed').textContent = num(c['transfers-in-failed']) + num(c['transfers-out-failed']);
  const refused = ['refused-disabled', 'refused-no-authorization', 'refused-privilege', 'refused-path', 'refused-other']
    .reduce((a, k) => a + num(c[k]), 0);
  $('k-failed-sub').textContent = refused + ' refused';
  $('k-logins').textContent = num(c['logins-failed']);
  $('k-logins-sub').textContent = num(c['logins-blocked']) + ' blocked · ' + num(c['logins-ok']) + ' ok';
  $('k-bytes').textContent = fmtBytes(bytesIn + bytesOut);
  $('k-bytes-sub').textContent = fmtBytes(bytesIn) + ' in · ' + fmtBytes(bytesOut) + ' out';

  setScpSwitch(!!d.enabled);
  /* The poll is the truth for which transfers exist; the stream fills in between polls. */
  const seen = new Set();
  for (const x of d['active-transfer'] || []) { seen.add(String(x.id)); S.active.set(String(x.id), Object.assign(S.active.get(String(x.id)) || {}, x)); }
  for (const id of [...S.active.keys()]) if (!seen.has(id) && now - (S.active.get(id)._seen || 0) > POLL_MS * 2) S.active.delete(id);
  renderActive();
  renderHistory(((d.transfers || {}).transfer) || []);
}

/* ---- SCP server switch ------------------------------------------------------------------------ */
function setScpSwitch(on) {
  S.scpEnabled = on;
  const b = $('scp-toggle');
  b.setAttribute('aria-checked', on ? 'true' : 'false');
  const l = $('scp-label');
  l.textContent = on ? 'Enabled' : 'Disabled';
  l.className = 'state-pill ' + (on ? 'on' : 'off');
}
$('scp-toggle').addEventListener('click', async () => {
  const b = $('scp-toggle');
  const want = !S.scpEnabled;
  b.disabled = true;
  try {
    if (want) await api('PUT', NATIVE + '/ip/scp/server/enable', { 'Cisco-IOS-XE-native:enable': [null] });
    else await api('DELETE', NATIVE + '/ip/scp/server/enable');
    setScpSwitch(want);
    toast(want ? 'SCP server enabled (ip scp server enable)' : 'SCP server disabled (no ip scp server enable)');
  } catch (e) {
    if (e.status === 404 && !want) setScpSwitch(false);
    else toast('Could not change the SCP server: ' + e.message, true);
  } finally {
    b.disabled = !(S.auth && S.auth.priv >= 15);
  }
});

/* ---- active transfers ------------------------------------------------------------------------- */
function onTransferEvent(n) {
  const x = n['scpd:transfer-event'];
  if (!x) return;
  const id = String(x.id);
  if (x.kind === 'end') {
    S.active.delete(id);
    renderActive();
    if (x.result !== 'ok') toast('Transfer ' + (x.result || 'failed') + ': ' + fileName(x.path) + (x.error ? ' (' + x.error + ')' : ''), true);
    setTimeout(poll, 300);   /* the history row is written by the server right after */
    setTimeout(loadFs, 300);
    return;
  }
  x._seen = Date.now();
  if (!S.active.has(id) && x.direction !== 'out') setTimeout(loadFs, 300);   /* its reservation */
  S.active.set(id, Object.assign(S.active.get(id) || {}, x));
  renderActive();
}

function renderActive() {
  const list = $('active-list');
  const items = [...S.active.values()].sort((a, b) => String(a['start-time']).localeCompare(String(b['start-time'])));
  $('active-count').textContent = items.length;
  $('active-empty').hidden = items.length > 0;
  $('k-active').textContent = items.length;
  const totalRate = items.reduce((a, x) => a + num(x.rate), 0);
  $('k-active-sub').textContent = items.length ? fmtRate(totalRate) + ' now' : 'idle';
  const keep = new Set();
  for (const x of items) {
    const id = String(x.id);
    keep.add(id);
    let row = S.rows.get(id);
    if (!row) {
      row = el('div', 'xfer');
      row.dataset.id = id;
      const dir = el('div', 'dir ' + (x.direction === 'out' ? 'out' : 'in'), x.direction === 'out' ? '↓' : '↑');
      dir.title = x.direction === 'out' ? 'download from the device' : 'upload to the device';
      const title = el('div', 'title');
      title.append(el('span', 'path'), el('span', 'meta'));
      const fig = el('div', 'figures');
      const bar = el('div', 'bar ' + (x.direction === 'out' ? 'out' : 'in'));
      bar.append(el('span'));
      row.append(dir, title, fig, bar);
      list.append(row);
      S.rows.set(id, row);
    }
    const bytes = num(x.bytes), size = num(x.size), rate = num(x.rate);
    row.querySelector('.path').textContent = x.path;
    row.querySelector('.path').title = x.path;
    row.querySelector('.meta').textContent = x.user + ' · ' + x.peer;
    const pct = size > 0 ? Math.min(100, (bytes / size) * 100) : 0;
    const fig = row.querySelector('.figures');
    fig.textContent = '';
    const b = el('b', null, size > 0 ? pct.toFixed(pct < 10 ? 1 : 0) + '%' : fmtBytes(bytes));
    fig.append(b, document.createTextNode(
      '  ' + fmtBytes(bytes) + (size > 0 ? ' of ' + fmtBytes(size) : '') + '  ·  ' + (rate > 0 ? fmtRate(rate) : '…') +
      (x.eta !== undefined ? '  ·  ' + fmtDuration(x.eta) + ' left' : '')));
    const bar = row.querySelector('.bar');
    bar.classList.toggle('unknown', !(size > 0));
    bar.setAttribute('role', 'progressbar');
    bar.setAttribute('aria-valuenow', String(Math.round(pct)));
    bar.setAttribute('aria-label', 'progress of ' + x.path);
    bar.firstChild.style.width = size > 0 ? pct + '%' : '';
  }
  for (const [id, row] of S.rows) if (!keep.has(id)) { row.remove(); S.rows.delete(id); }
}

/* ---- history ---------------------------------------------------------------------------------- */
function renderHistory(rows) {
  const tb = $('history').tBodies[0];
  tb.textContent = '';
  for (const x of rows) {
    const tr = el('tr', x.result === 'ok' ? '' : 'failed');
    const res = el('td');
    res.append(el('span', 'pill ' + x.result, x.result));
    const path = el('td', 'path', x.path);
    path.title = x.path + (x.error ? '\n' + x.error : '');
    tr.append(res, path, el('td', null, x.direction === 'out' ? '↓ out' : '↑ in'),
              el('td', 'num', fmtBytes(x.bytes)), el('td', null, x.user), el('td', 'mono', x.peer));
    const when = el('td', 'muted', fmtAgo(x['end-time']));
    when.title = x['end-time'];
    tr.append(when);
    tb.append(tr);
    if (x.error) {
      const er = el('tr', 'failed');
      const td = el('td', 'err', '↳ ' + x.error);
      td.colSpan = 7;
      er.append(td);
      tb.append(er);
    }
  }
  $('history-empty').hidden = rows.length > 0;
  $('history-empty').textContent = S.historyFilter ? 'No failed transfer.' : 'No finished transfer yet.';
}
$('history-filter').addEventListener('click', (ev) => {
  const b = ev.target.closest('button');
  if (!b) return;
  S.historyFilter = b.dataset.filter;
  for (const x of $('history-filter').querySelectorAll('button')) x.classList.toggle('on', x === b);
  poll();
});

/* ---- file systems: a usage bar each (used, and reserved by uploads in progress) -------------- */
async function loadFs() {
  let list;
  try {
    list = ((await api('GET', FS))['scpd:file-systems'] || {})['file-system'] || [];
  } catch (e) {
    $('fs-empty').hidden = false;
    $('fs-empty').textContent = 'File systems unavailable: ' + e.message;
    return;
  }
  const ul = $('fs-list');
  const sized = list.filter((f) => f.size !== undefined);
  ul.textContent = '';
  for (const f of sized) {
    const size = num(f.size), used = num(f.used), resv = num(f.reserved), free = num(f.free);
    const pct = (v) => (size > 0 ? Math.min(100, (v / size) * 100) : 0);
    const li = el('li');
    li.dataset.fs = f.name;
    const name = el('div', 'fs-name', (f.prefix || [f.name + ':'])[0]);
    const aliases = (f.prefix || []).slice(1).join(' ');
    if (aliases) name.append(el('span', 'alias', aliases));
    const fig = el('div', 'fs-figures');
    fig.append(el('b', null, fmtBytes(used)), document.createTextNode(' used of ' + fmtBytes(size)));
    const bar = el('div', 'fs-bar' + (pct(used + resv) >= 95 ? ' full' : pct(used + resv) >= 80 ? ' high' : ''));
    const u = el('span', 'used');
    u.style.width = pct(used) + '%';
    const r = el('span', 'reserved');
    r.style.width = pct(resv) + '%';
    bar.append(u, r);
    bar.setAttribute('role', 'progressbar');
    bar.setAttribute('aria-valuenow', String(Math.round(pct(used))));
    bar.setAttribute('aria-label', 'space used on ' + f.name + ':');
    const sub = el('div', 'fs-sub', fmtBytes(free) + ' free' +
      (resv ? ' · ' + fmtBytes(resv) + ' reserved by uploads' : '') +
      (f['size-set'] ? ' · size set (--fs-size)' : ' · size: free space of the disk'));
    li.append(name, fig, bar, sub);
    ul.append(li);
  }
  $('fs-empty').hidden = sized.length > 0;
  $('fs-empty').textContent = 'No disk file system.';
}

/* ---- throughput chart (canvas, own code) ------------------------------------------------------ */
function niceMax(v) {
  if (v <= 0) return 1024;
  const p = Math.pow(2, Math.ceil(Math.log2(v)));
  return p * 1 >= v * 1.15 ? p : p * 2;
}
function drawChart() {
  const cv = $('chart');
  const dpr = window.devicePixelRatio || 1;
  const w = cv.clientWidth, h = cv.clientHeight || 180;
  if (cv.width !== Math.round(w * dpr) || cv.height !== Math.round(h * dpr)) {
    cv.width = Math.round(w * dpr);
    cv.height = Math.round(h * dpr);
  }
  const g = cv.getContext('2d');
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, h);
  const padL = 70, padR = 10, padT = 8, padB = 22;
  const pw = w - padL - padR, ph = h - padT - padB;
  const pts = S.chart;
  const peak = pts.reduce((a, p) => Math.max(a, p.inRate, p.outRate), 0);
  const max = niceMax(peak);
  g.font = '11px system-ui, sans-serif';
  g.textBaseline = 'middle';
  for (let i = 0; i <= 4; i++) {
    const y = padT + ph - (ph * i) / 4;
    g.strokeStyle = i === 0 ? '#cbd5e1' : '#eef2f7';
    g.lineWidth = 1;
    g.beginPath(); g.moveTo(padL, Math.round(y) + 0.5); g.lineTo(w - padR, Math.round(y) + 0.5); g.stroke();
    g.fillStyle = '#94a3b8';
    g.textAlign = 'right';
    g.fillText(fmtRate((max * i) / 4), padL - 8, y);
  }
  const now = Date.now(), span = CHART_POINTS * POLL_MS;
  const xOf = (t) => padL + pw * (1 - (now - t) / span);
  g.textAlign = 'center';
  g.textBaseline = 'alphabetic';
  for (let s = 0; s <= span / 1000; s += 30) {
    const x = xOf(now - s * 1000);
    if (x < padL - 1) continue;
    g.fillText(s === 0 ? 'now' : '-' + (s % 60 ? s + ' s' : s / 60 + ' min'), Math.min(x, w - padR - 14), h - 6);
  }
  if (pts.length < 2) {
    g.fillStyle = '#94a3b8';
    g.textAlign = 'center';
    g.fillText('collecting samples…', padL + pw / 2, padT + ph / 2);
    return;
  }
  const series = [['inRate', '#2563eb', 'rgba(37,99,235,.14)'], ['outRate', '#0d9488', 'rgba(13,148,136,.12)']];
  g.save();
  g.beginPath(); g.rect(padL, padT - 2, pw, ph + 2); g.clip();
  for (const [key, stroke, fill] of series) {
    g.beginPath();
    pts.forEach((p, i) => { const x = xOf(p.t), y = padT + ph - (p[key] / max) * ph; if (i) g.lineTo(x, y); else g.moveTo(x, y); });
    g.strokeStyle = stroke; g.lineWidth = 2; g.lineJoin = 'round'; g.stroke();
    g.lineTo(xOf(pts[pts.length - 1].t), padT + ph); g.lineTo(xOf(pts[0].t), padT + ph); g.closePath();
    g.fillStyle = fill; g.fill();
  }
  g.restore();
}
window.addEventListener('resize', drawChart);

/* ---- security events -------------------------------------------------------------------------- */
function onSecurityEvent(n) {
  const x = n['scpd:security-event'];
  if (!x) return;
  const li = el('li', 'fresh');
  li.append(el('span', 'kind ' + x.kind, x.kind.replace('-', ' ')));
  const who = el('span', 'who', x.user || '(no user)');
  if (x.peer) who.append(el('span', 'peer', x.peer));
  const when = el('span', 'when', fmtClock(n.eventTime));
  when.title = n.eventTime;
  li.append(who, when, el('span', 'msg', (x.door ? x.door.toUpperCase() + ': ' : '') + (x.message || '')));
  const list = $('security-list');
  list.prepend(li);
  while (list.children.length > SECURITY_ITEMS) list.lastChild.remove();
  S.secCount++;
  $('security-count').textContent = S.secCount;
  $('security-empty').hidden = true;
}

/* ---- users and privileges --------------------------------------------------------------------- */
function privSelect(value) {
  const s = el('select');
  for (let p = 0; p <= 15; p++) {
    const o = el('option', null, String(p));
    o.value = String(p);
    if (p === value) o.selected = true;
    s.append(o);
  }
  return s;
}
async function loadUsers() {
  const tb = $('users').tBodies[0];
  const note = $('users-note');
  let users = [];
  try {
    const d = await api('GET', NATIVE + '/username');
    users = (d && d['Cisco-IOS-XE-native:username']) || [];
  } catch (e) {
    if (e.status === 404) users = [];
    else {
      tb.textContent = '';
      $('users-count').textContent = '–';
      note.hidden = false;
      note.textContent = e.status === 403 ? 'Managing users needs privilege 15.' : 'Users unavailable: ' + e.message;
      $('user-form').hidden = true;
      return;
    }
  }
  note.hidden = users.length > 0;
  note.textContent = 'No local user: add one below.';
  $('users-count').textContent = users.length;
  tb.textContent = '';
  const admin = S.auth && S.auth.priv >= 15;
  for (const u of users) {
    const tr = el('tr');
    tr.dataset.user = u.name;
    const name = el('td', 'name', u.name);
    if (S.auth && u.name === S.auth.user) name.append(el('span', 'you', '(you)'));
    const pv = el('td');
    const sel = privSelect(u.privilege === undefined ? 1 : Number(u.privilege));
    sel.disabled = !admin;
    sel.setAttribute('aria-label', 'privilege of ' + u.name);
    sel.addEventListener('change', async () => {
      try {
        await api('PATCH', NATIVE + '/username=' + encodeURIComponent(u.name),
                  { 'Cisco-IOS-XE-native:username': [{ name: u.name, privilege: Number(sel.value) }] });
        toast(u.name + ' now has privilege ' + sel.value);
      } catch (e) { toast('Could not change ' + u.name + ': ' + e.message, true); loadUsers(); }
    });
    pv.append(sel);
    const act = el('td', 'num');
    const del = el('button', 'icon', '✕');
    del.title = 'delete ' + u.name;
    del.setAttribute('aria-label', 'delete ' + u.name);
    del.disabled = !admin || (S.auth && u.name === S.auth.user);
    del.addEventListener('click', async () => {
      /* Two clicks, no modal: the first arms the button. */
      if (!del.classList.contains('armed')) {
        del.classList.add('armed');
        del.textContent = 'Delete?';
        setTimeout(() => { del.classList.remove('armed'); del.textContent = '✕'; }, 3000);
        return;
      }
      try {
        await api('DELETE', NATIVE + '/username=' + encodeURIComponent(u.name));
        toast('User ' + u.name + ' deleted');
      } catch (e) { toast('Could not delete ' + u.name + ': ' + e.message, true); }
      loadUsers();
    });
    act.append(del);
    tr.append(name, pv, act);
    tb.append(tr);
  }
  $('user-form').hidden = !admin;
}
(function initUserForm() {
  const s = $('nu-priv');
  for (let p = 0; p <= 15; p++) { const o = el('option', null, String(p)); o.value = String(p); s.append(o); }
  s.value = '1';
})();
$('user-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const name = $('nu-name').value.trim(), pass = $('nu-pass').value, priv = Number($('nu-priv').value);
  try {
    await api('POST', NATIVE + '/username', { 'Cisco-IOS-XE-native:username': [
      { name, privilege: priv, password: { encryption: '0', password: pass } }] });
    $('nu-name').value = '';
    $('nu-pass').value = '';
    toast('User ' + name + ' added with privilege ' + priv);
    loadUsers();
  } catch (e) { toast('Could not add ' + name + ': ' + e.message, true); }
});

/* ---- debug ip scp ----------------------------------------------------------------------------- */
function debugLine(text, cls) {
  const pane = $('debug-pane');
  const line = el('div', cls);
  const m = /^(\w{3} [ \d]\d \d\d:\d\d:\d\d\.\d{3}:)(.*)$/.exec(text);
  if (m) { line.append(el('span', 'ts', m[1]), document.createTextNode(m[2])); } else line.textContent = text;
  pane.append(line);
  while (pane.children.length > DEBUG_LINES) pane.firstChild.remove();
  if ($('debug-follow').checked) pane.scrollTop = pane.scrollHeight;
}
function debugNote(text) { debugLine('% ' + text, 'ln-note'); }
function onTraceEvent(n) {
  const x = n['scpd:trace-event'];
  if (!x) return;
  if (x.lost && Number(x.lost) > 0) debugNote(x.lost + ' trace lines lost');
  const t = x.text || '';
  const cls = / <- /.test(t) ? 'ln-in' : / -> /.test(t) ? 'ln-out' : '';
  debugLine(t, /error|fatal|denied|refus/i.test(t) ? 'ln-err' : cls);
}
function setDebug(on) {
  S.debugOn = on;
  const b = $('debug-toggle');
  b.textContent = on ? 'Stop' : 'Start';
  b.classList.toggle('stop', on);
  const st = $('debug-state');
  st.textContent = on ? 'on' : 'off';
  st.className = 'state-pill ' + (on ? 'on' : '');
}
$('debug-toggle').addEventListener('click', async () => {
  const want = !S.debugOn;
  try {
    await api('PUT', '/restconf/data/scpd:debug/scp', { 'scpd:scp': want });
    setDebug(want);
    debugNote(want ? 'SCP protocol debugging is on' : 'SCP protocol debugging is off');
  } catch (e) { toast('debug ip scp: ' + e.message, true); }
});
$('debug-clear').addEventListener('click', () => { $('debug-pane').textContent = ''; });

/* ---- start ------------------------------------------------------------------------------------ */
async function start() {
  const admin = S.auth.priv >= 15;
  $('who-name').textContent = S.auth.user;
  $('who-priv').textContent = 'privilege ' + S.auth.priv;
  $('scp-toggle').disabled = !admin;
  $('scp-toggle').title = admin ? 'ip scp server enable' : 'needs privilege 15';
  $('debug-toggle').disabled = !admin;
  try {
    const h = await api('GET', NATIVE + '/hostname');
    $('hostname').textContent = (h && h['Cisco-IOS-XE-native:hostname']) || '';
  } catch (e) { $('hostname').textContent = ''; }
  /* A new sign-in starts from what the server has: the security stream replays its ring. */
  $('security-list').textContent = '';
  S.secCount = 0;
  $('security-count').textContent = '0';
  $('security-empty').hidden = false;
  S.active.clear();
  renderActive();
  let lastTrace = 0;
  try {
    const d = (await api('GET', '/restconf/data/scpd:debug'))['scpd:debug'];
    setDebug(!!d.scp);
    $('debug-pane').textContent = '';
    for (const t of ((d.traces || {}).trace) || []) { onTraceEvent({ 'scpd:trace-event': t }); lastTrace = t.seq; }
  } catch (e) { /* shown by the poll */ }
  S.streams = [
    openStream('transfers', onTransferEvent),
    openStream('security', onSecurityEvent, '0'),   /* replay what the ring still holds */
    openStream('scp-debug', onTraceEvent, String(lastTrace)),
  ];
  liveStatus();
  await poll();
  clearInterval(S.pollTimer);
  S.pollTimer = setInterval(poll, POLL_MS);
  loadUsers();
  loadFs();
  clearInterval(S.fsTimer);
  S.fsTimer = setInterval(loadFs, FS_POLL_MS);
}

(function boot() {
  try { S.auth = JSON.parse(sessionStorage.getItem('scpd.auth') || 'null'); } catch (e) { S.auth = null; }
  drawChart();
  if (S.auth) { $('login').hidden = true; start(); } else { $('login').hidden = false; $('login-user').focus(); }
})();
