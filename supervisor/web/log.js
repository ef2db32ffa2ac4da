// log.js — the log viewer's page (/api/v1/log?file=F[&q=TEXT][&start=S]):
// tail, page back and forth, follow, search, on the log viewer's own API
// (/api/v1/log/read, follow, search, list: supervisor/logviewer.h).
// The log holds user strings: every byte of it goes into the page as text
// (textContent, text nodes), never as HTML.
'use strict';

const $ = id => document.getElementById(id);
const params = new URLSearchParams(location.search);
const file = params.get('file');
const KEEP = 4 << 20; // characters a followed log keeps on the page
const st = { off: 0, next: 0, size: 0, text: '', following: false, gen: 0 };

function fail(msg) {
  $('error').hidden = !msg;
  $('error').textContent = msg || '';
}
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const k of kids) e.append(k instanceof Node ? k : String(k));
  return e;
}
const q = s => encodeURIComponent(s);
const page = () => parseInt($('page').value, 10);

async function get(url) {
  const r = await fetch(url);
  if (!r.ok) {
    const t = await r.text();
    let why = t.trim();
    try {
      why = JSON.parse(t).errorMessage || why; // the log viewer's errors: {"error", "errorMessage"}
    } catch (e) { /* not JSON: the text as it is */ }
    throw new Error(why || 'HTTP ' + r.status);
  }
  return r;
}

// The log text, the search string (if any) marked.
function show(scrollEnd) {
  const pre = $('log'), needle = $('q').value;
  pre.replaceChildren();
  if (needle) {
    const parts = st.text.split(needle);
    parts.forEach((p, i) => {
      pre.append(document.createTextNode(p));
      if (i < parts.length - 1) pre.append(el('mark', {}, needle));
    });
  } else {
    pre.textContent = st.text;
  }
  const end = st.off + new Blob([st.text]).size;
  $('where').textContent = `bytes ${st.off.toLocaleString()}–${end.toLocaleString()} of ${st.size.toLocaleString()}`;
  $('older').disabled = st.off <= 0;
  $('newer').disabled = st.next >= st.size;
  if (scrollEnd) pre.scrollTop = pre.scrollHeight;
}

function take(r) {
  st.off = parseInt(r.headers.get('X-Gale-Offset'), 10) || 0;
  st.size = parseInt(r.headers.get('X-Gale-Size'), 10) || 0;
  st.next = parseInt(r.headers.get('X-Gale-Next'), 10) || 0;
}

async function read(start, length, scrollEnd) {
  try {
    const r = await get(`/api/v1/log/read?file=${q(file)}&start=${start}&length=${length}`);
    st.text = await r.text();
    take(r);
    fail('');
    show(scrollEnd);
  } catch (e) {
    fail(`cannot read ${file}: ${e.message}`);
  }
}

const tail = () => read(-page(), page(), true);

async function follow() {
  const gen = ++st.gen; // a newer loop (or unticking) ends this one
  await tail();
  while (st.following && gen === st.gen) {
    try {
      const r = await get(`/api/v1/log/follow?file=${q(file)}&start=${st.next}&wait=10000`);
      const t = await r.text();
      if (gen !== st.gen) return;
      const off = parseInt(r.headers.get('X-Gale-Offset'), 10) || 0;
      if (off < st.next) st.text = ''; // the file rolled: it starts again
      st.text += t;
      if (st.text.length > KEEP) st.text = st.text.slice(-KEEP);
      const keepOff = st.off;
      take(r);
      st.off = off < keepOff ? off : keepOff;
      fail('');
      if (t.length || off < keepOff) show(true);
    } catch (e) {
      fail(`following ${file}: ${e.message} (trying again)`);
      await new Promise(res => setTimeout(res, 2000));
    }
  }
}

async function search(ev) {
  if (ev) ev.preventDefault();
  const needle = $('q').value;
  $('matches').replaceChildren();
  $('found').textContent = '';
  show(false);
  if (!needle) return;
  try {
    const r = await get(`/api/v1/log/search?file=${q(file)}&q=${q(needle)}&max=200`);
    const j = await r.json();
    $('found').textContent = j.matches.length + (j.truncated ? '+' : '') + ' matching lines';
    for (const m of j.matches) {
      const a = el('a', { href: '#' }, `@${m.offset}  `, m.line);
      a.addEventListener('click', e => {
        e.preventDefault();
        $('follow').checked = st.following = false;
        st.gen++;
        read(Math.max(0, m.offset - Math.floor(page() / 4)), page(), false);
      });
      $('matches').append(el('li', {}, a));
    }
    fail('');
  } catch (e) {
    fail(`search: ${e.message}`);
  }
}

async function list(ev) {
  if (ev) ev.preventDefault();
  $('list').hidden = false;
  const prefix = $('prefix').value;
  try {
    const r = await get('/api/v1/log/list' + (prefix ? '?prefix=' + q(prefix) : ''));
    const j = await r.json();
    $('files').replaceChildren(...j.files.map(f => el('tr', {},
      el('td', {}, el('a', { href: '/api/v1/log?file=' + q(f.path) }, f.path)),
      el('td', { class: 'num' }, f.size.toLocaleString()),
      el('td', {}, new Date(f.mtime * 1000).toLocaleString()))));
    if (j.truncated) $('files').append(el('tr', {}, el('td', { colspan: 3 }, '… more: narrow the prefix')));
    fail('');
  } catch (e) {
    fail(`cannot list the log files: ${e.message}`);
  }
}

function stopFollow() {
  $('follow').checked = st.following = false;
  st.gen++;
}

if (!file) {
  $('prefix').value = params.get('prefix') || '';
  $('filter').addEventListener('submit', list);
  list();
} else {
  document.title = file + ' · Gale log viewer';
  $('file').textContent = file;
  $('viewer').hidden = false;
  $('raw').href = '/api/v1/log/read?file=' + q(file);
  $('older').addEventListener('click', () => {
    stopFollow();
    const start = Math.max(0, st.off - page());
    read(start, st.off - start, false);
  });
  $('newer').addEventListener('click', () => {
    stopFollow();
    read(st.next, page(), false);
  });
  $('tail').addEventListener('click', () => {
    stopFollow();
    tail();
  });
  $('follow').addEventListener('change', () => {
    st.following = $('follow').checked;
    if (st.following) follow();
    else st.gen++;
  });
  $('search').addEventListener('submit', search);
  const start = params.get('start');
  $('q').value = params.get('q') || '';
  const first = start !== null && /^-?\d+$/.test(start) ? read(parseInt(start, 10), page(), false) : tail();
  first.then(() => { if ($('q').value) search(); });
}
