#!/usr/bin/env node
// How fast the web app's first screens appear against a running Keel, in headless Chromium
// (playwright-core, /usr/bin/chromium), and how long the API requests behind them take.
// scripts/bench-web.sh seeds a large database, starts `keel serve` and runs this; it can
// also run on its own against any server whose demo users exist:
//
//   node web/bench/first-screen.mjs --url http://127.0.0.1:8080 [--runs 5] [--api-runs 15]
//        [--user admin@keel.local] [--user sam.rivera@keel.local] [--password P]
//        [--server-log FILE]   (keel serve's KEEL_LOG=info KEEL_LOG_FORMAT=json stderr)
//        [--json FILE]         (every sample, for a closer look)
//
// For each user: the API requests first (one cold call each, then --api-runs timed calls,
// Node's fetch on a kept-alive connection, time to the last byte of the body), then the
// browser: one cold run (fresh browser context: empty HTTP cache) and --runs warm runs in
// the same context (assets cached; cookies cleared before each sign-in). Each run:
//
//   sign-in   /login, fill the form, submit → stat cards ([data-testid=stat-won]) → the
//             dashboard's two chart canvases; timed from the submit event
//   dashboard full load of / with a session: navigation start → stat cards → canvases
//   pipeline  full load of /deals/pipeline: → first .deal-card → every
//             [data-testid=stage-count] showing a number
//   companies full load of /companies: → first table row with a record link
//
// A marker is taken in the page (a MutationObserver installed before the app's scripts
// run) when the element is in the DOM with a non-empty box: that is before the browser
// paints it, by at most a frame. Each API request the pages make is recorded with its
// browser-side duration and, when --server-log is given, the server's own time for it
// (joined on x-request-id), so a slow screen can be pinned on a request or on the client.
// Medians are over the warm runs. Prints Markdown.

import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../e2e/chromium.mjs';

function parseArgs(argv) {
  const o = { url: process.env.KEEL_BENCH_URL, runs: 5, apiRuns: 15, users: [], password: 'keel-demo-password' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => argv[++i];
    if (a === '--url') o.url = v();
    else if (a === '--runs') o.runs = Number(v());
    else if (a === '--api-runs') o.apiRuns = Number(v());
    else if (a === '--user') o.users.push(v());
    else if (a === '--password') o.password = v();
    else if (a === '--server-log') o.serverLog = v();
    else if (a === '--json') o.json = v();
    else {
      console.error(`unknown argument ${a}`);
      process.exit(2);
    }
  }
  if (!o.url) {
    console.error('usage: node web/bench/first-screen.mjs --url http://127.0.0.1:PORT [--runs N] [--api-runs N] [--user EMAIL]...');
    process.exit(2);
  }
  o.url = o.url.replace(/\/$/, '');
  if (o.users.length === 0) o.users = ['admin@keel.local', 'sam.rivera@keel.local'];
  return o;
}

const opts = parseArgs(process.argv.slice(2));

const median = (xs) => {
  const s = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const ms = (x) => (Number.isFinite(x) ? (x >= 100 ? x.toFixed(0) : x.toFixed(1)) : '—');
const today = new Date().toISOString().slice(0, 10); // the browser context runs in UTC too

// ---------------------------------------------------------------- API, from Node

async function login(email) {
  const res = await fetch(`${opts.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: opts.password }),
  });
  if (!res.ok) throw new Error(`sign-in as ${email} failed: ${res.status} ${await res.text()}`);
  const cookie = res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  await res.text();
  return cookie;
}

async function get(cookie, path) {
  const t = performance.now();
  const res = await fetch(`${opts.url}${path}`, { headers: { cookie, 'accept-encoding': 'identity' } });
  const body = await res.text();
  const elapsed = performance.now() - t;
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${body.slice(0, 300)}`);
  return { elapsed, body, requestId: res.headers.get('x-request-id') };
}

async function timeApi(cookie, label, path) {
  const cold = (await get(cookie, path)).elapsed;
  const samples = [];
  for (let i = 0; i < opts.apiRuns; i++) samples.push((await get(cookie, path)).elapsed);
  return { label, path, cold, samples, median: median(samples), max: Math.max(...samples) };
}

async function counts(cookie) {
  const out = {};
  for (const e of ['companies', 'contacts', 'deals', 'activities']) {
    out[e] = JSON.parse((await get(cookie, `/api/v1/${e}?count=true&limit=1`)).body).total;
  }
  return out;
}

async function stageNames(cookie) {
  const schema = JSON.parse((await get(cookie, '/api/v1/schema')).body);
  const entities = schema.entities ?? {};
  const deals = Array.isArray(entities) ? entities.find((e) => e.name === 'deals') : entities.deals;
  const stage = deals?.fields?.find((f) => f.name === 'stage');
  return (stage?.options ?? []).map((o) => (typeof o === 'string' ? o : o.value));
}

async function apiBench(email) {
  const cookie = await login(email);
  const stages = await stageNames(cookie);
  const rows = [];
  rows.push(await timeApi(cookie, 'GET /api/v1/auth/me', '/api/v1/auth/me'));
  rows.push(await timeApi(cookie, 'GET /api/v1/dashboard', `/api/v1/dashboard?today=${today}`));
  rows.push(await timeApi(cookie, 'GET /api/v1/deals/aggregate?group_by=stage', '/api/v1/deals/aggregate?group_by=stage'));
  const perStage = [];
  for (const s of stages) {
    perStage.push(await timeApi(cookie, `GET /api/v1/deals?stage=${s}`, `/api/v1/deals?stage=${encodeURIComponent(s)}&sort=-updated_at&limit=50`));
  }
  rows.push(...perStage);
  rows.push(
    await timeApi(cookie, 'GET /api/v1/companies (first page, count=true)', '/api/v1/companies?sort=-updated_at&limit=25&count=true'),
  );
  return { email, stages, rows };
}

// ---------------------------------------------------------------- the browser

// Installed in every document before the app's scripts: records performance.now() (ms
// since navigation start) when each marker first holds, and when a form is submitted.
const MARKERS = `(() => {
  const marks = (window.__benchMarks = {});
  const boxed = (el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const some = (sel) => { for (const el of document.querySelectorAll(sel)) if (boxed(el)) return true; return false; };
  const checks = {
    stat: () => some('[data-testid=stat-won]'),
    charts: () => document.querySelectorAll('canvas').length >= 2,
    card: () => some('.deal-card'),
    counts: () => {
      const c = document.querySelectorAll('[data-testid=stage-count]');
      return c.length > 0 && [...c].every((e) => /^\\d/.test(e.textContent.trim()));
    },
    row: () => some('tbody tr a.row-link'),
    form: () => some('form input[type=password]'),
  };
  document.addEventListener('submit', () => { marks.submit = performance.now(); }, true);
  const check = () => {
    for (const k in checks) if (!(k in marks) && checks[k]()) marks[k] = performance.now();
  };
  new MutationObserver(check).observe(document, { subtree: true, childList: true, characterData: true });
})();`;

/** Waits until every marker in `names` is set; returns the marks. */
async function waitMarks(page, names, timeout = 120_000) {
  await page.waitForFunction((n) => n.every((k) => k in (window.__benchMarks ?? {})), names, { timeout, polling: 50 });
  return page.evaluate(() => ({ ...window.__benchMarks }));
}

/**
 * Everything the page fetched (Resource Timing), in ms since navigation start: the API
 * requests (fetch) and the app's files, with the wait for a connection (Chromium opens at
 * most 6 per host on HTTP/1.1) and whether it came from the HTTP cache.
 */
async function resourceEntries(page) {
  return page.evaluate(() =>
    performance.getEntriesByType('resource').map((e) => {
      const u = new URL(e.name);
      return {
        url: u.pathname + u.search,
        api: u.pathname.startsWith('/api/'),
        start: e.startTime,
        end: e.responseEnd,
        duration: e.responseEnd - e.startTime,
        queued: e.requestStart > 0 ? e.requestStart - e.startTime : 0,
        cached: e.transferSize === 0 && e.decodedBodySize > 0,
        transferred: e.transferSize,
      };
    }),
  );
}

/** x-request-id of each response, by URL (path + query) and order, for the server's times. */
function trackRequestIds(page) {
  const ids = [];
  page.on('response', (res) => {
    const u = new URL(res.url());
    if (u.pathname.startsWith('/api/')) ids.push({ url: u.pathname + u.search, id: res.headers()['x-request-id'] });
  });
  return ids;
}

function attachIds(entries, ids) {
  const pool = ids.map((x) => ({ ...x }));
  for (const e of entries.filter((x) => x.api)) {
    const i = pool.findIndex((x) => x.url === e.url);
    if (i >= 0) {
      e.requestId = pool[i].id;
      pool.splice(i, 1);
    }
  }
  return entries;
}

async function browserRun(context, email, run) {
  const page = await context.newPage();
  page.setDefaultTimeout(120_000);
  const ids = trackRequestIds(page);
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const out = { run };
  const take = async (name, url, marks, fn) => {
    ids.length = 0;
    if (fn) await fn();
    else await page.goto(url, { waitUntil: 'commit' });
    const m = await waitMarks(page, marks);
    const nav = await page.evaluate(() => {
      const n = performance.getEntriesByType('navigation')[0];
      return n ? { document: n.responseEnd, domContentLoaded: n.domContentLoadedEventEnd } : {};
    });
    const resources = attachIds(await resourceEntries(page), ids);
    out[name] = { marks: m, nav, resources, api: resources.filter((e) => e.api) };
  };

  await context.clearCookies();
  await page.goto('/login', { waitUntil: 'commit' });
  await waitMarks(page, ['form']);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(opts.password);
  // Resource entries before the submit belong to the sign-in page's own load.
  await page.evaluate(() => performance.clearResourceTimings());
  await take('signin', null, ['submit', 'stat', 'charts'], () => page.getByRole('button', { name: 'Sign in' }).click());
  await take('dashboard', '/', ['stat', 'charts']);
  await take('pipeline', '/deals/pipeline', ['card', 'counts']);
  await take('companies', '/companies', ['row']);
  out.errors = errors;
  await page.close();
  return out;
}

function serverTimes(file) {
  const byId = new Map();
  if (!file) return byId;
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return byId;
  }
  for (const line of text.split('\n')) {
    if (!line.includes('"handled"')) continue;
    const id = /"request_id":"([^"]+)"/.exec(line)?.[1];
    const elapsed = /"elapsed_ms":([0-9.eE+-]+)/.exec(line)?.[1];
    if (id && elapsed) byId.set(id, Number(elapsed));
  }
  return byId;
}

/** `/api/v1/deals?stage=Won&sort=…` → `GET /api/v1/deals?stage=Won` style labels for grouping. */
function requestLabel(url) {
  const u = new URL(url, 'http://x');
  const p = u.pathname.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, ':id');
  const keep = ['stage', 'group_by'].filter((k) => u.searchParams.has(k)).map((k) => `${k}=${u.searchParams.get(k)}`);
  if (u.searchParams.has('id[in]')) keep.push('id[in]=…');
  return p + (keep.length ? `?${keep.join('&')}` : '');
}

// ---------------------------------------------------------------- main

const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
const report = { url: opts.url, today, cores: cpus().length, loadBefore: loadavg()[0], users: [] };
try {
  const adminCookie = await login(opts.users[0]);
  report.counts = await counts(adminCookie);
  for (const email of opts.users) {
    console.error(`… ${email}: API`);
    const api = await apiBench(email);
    console.error(`… ${email}: browser, 1 cold + ${opts.runs} warm runs`);
    const context = await browser.newContext({
      baseURL: opts.url,
      viewport: { width: 1280, height: 800 },
      deviceScaleFactor: 1,
      locale: 'en-US',
      timezoneId: 'UTC',
    });
    await context.addInitScript({ content: MARKERS });
    const runs = [];
    for (let r = 0; r <= opts.runs; r++) runs.push(await browserRun(context, email, r));
    await context.close();
    report.users.push({ email, api, runs });
  }
} finally {
  await browser.close();
}

report.loadAfter = loadavg()[0];
// Server times need the log flushed: read it last.
const server = serverTimes(opts.serverLog);
for (const u of report.users) for (const r of u.runs) for (const k of ['signin', 'dashboard', 'pipeline', 'companies'])
  for (const e of r[k].resources) e.server = e.requestId ? server.get(e.requestId) : undefined;
if (opts.json) writeFileSync(opts.json, JSON.stringify(report, null, 2));

// ---------------------------------------------------------------- print

const c = report.counts;
console.log(`Data: ${c.companies} companies, ${c.contacts} contacts, ${c.deals} deals, ${c.activities} activities (as counted by the API for ${opts.users[0]}).`);
console.log(`Server: ${opts.url}; dashboard for ${today}; ${opts.runs} warm browser runs after 1 cold, ${opts.apiRuns} API calls after 1 cold.`);
console.log(`Machine: ${report.cores} cores; 1-minute load average ${report.loadBefore.toFixed(2)} before, ${report.loadAfter.toFixed(2)} after.\n`);

const figures = [
  ['sign-in → stat cards (from submit)', 'signin', (m) => m.stat - m.submit],
  ['sign-in → chart canvases (from submit)', 'signin', (m) => m.charts - m.submit],
  ['dashboard load → stat cards', 'dashboard', (m) => m.stat],
  ['dashboard load → chart canvases', 'dashboard', (m) => m.charts],
  ['pipeline load → first deal card', 'pipeline', (m) => m.card],
  ['pipeline load → all stage counts', 'pipeline', (m) => m.counts],
  ['companies load → first row', 'companies', (m) => m.row],
];
const who = (email) => email.split('@')[0];
console.log(`### Browser (ms since navigation start or submit; median of warm runs, cold run in brackets)\n`);
console.log(`| screen | ${report.users.map((u) => who(u.email)).join(' | ')} |`);
console.log(`|---|${report.users.map(() => '---').join('|')}|`);
for (const [label, key, f] of figures) {
  const cells = report.users.map((u) => {
    const warm = u.runs.slice(1).map((r) => f(r[key].marks));
    return `${ms(median(warm))} (${ms(f(u.runs[0][key].marks))})`;
  });
  console.log(`| ${label} | ${cells.join(' | ')} |`);
}

const MARK_LABELS = {
  stat: '▶ stat cards in the DOM',
  charts: '▶ chart canvases in the DOM',
  card: '▶ first deal card in the DOM',
  counts: '▶ all stage counts numbers',
  row: '▶ first company row in the DOM',
};
const SCREEN_MARKS = { signin: ['stat', 'charts'], dashboard: ['stat', 'charts'], pipeline: ['card', 'counts'], companies: ['row'] };
/** A file's name without its content hash: `index-DijcxIO8.js` → `index.js`. */
const fileLabel = (url) => url.replace(/^\/assets\//, '').replace(/-[A-Za-z0-9_-]{8}\.(js|css)$/, '.$1');

console.log(`\n### Where the time goes (waterfall; median of warm runs, ms)\n`);
console.log(
  'From navigation start (sign-in: from the submit). `start`/`end`: when the browser asked and had the last byte; ' +
    '`queued`: waiting for a free connection; `server`: the time keel logged for the request; ' +
    'app files come from the HTTP cache in warm runs.\n',
);
for (const u of report.users) {
  for (const key of ['signin', 'dashboard', 'pipeline', 'companies']) {
    console.log(`**${who(u.email)}: ${key}**\n`);
    console.log('| what | start | end | queued | server |\n|---|---|---|---|---|');
    const warm = u.runs.slice(1);
    const origin = (r) => (key === 'signin' ? r[key].marks.submit : 0);
    const rows = [];
    if (key !== 'signin') {
      rows.push({
        label: 'document (index.html)',
        start: 0,
        end: median(warm.map((r) => r[key].nav.document)),
      });
    }
    const groups = new Map();
    for (const r of warm) {
      for (const e of r[key].resources) {
        const label = e.api ? `GET ${requestLabel(e.url)}`.replace('GET /api/v1/auth/login', 'POST /api/v1/auth/login') : fileLabel(e.url);
        if (!groups.has(label)) groups.set(label, []);
        groups.get(label).push({ ...e, start: e.start - origin(r), end: e.end - origin(r) });
      }
    }
    for (const [label, es] of groups) {
      rows.push({
        label,
        start: median(es.map((e) => e.start)),
        end: median(es.map((e) => e.end)),
        queued: median(es.map((e) => e.queued)),
        server: median(es.map((e) => e.server)),
      });
    }
    for (const m of SCREEN_MARKS[key]) {
      rows.push({ label: MARK_LABELS[m], start: NaN, end: median(warm.map((r) => r[key].marks[m] - origin(r))) });
    }
    rows.sort((x, y) => (Number.isFinite(x.start) ? x.start : x.end) - (Number.isFinite(y.start) ? y.start : y.end));
    for (const r of rows) console.log(`| ${r.label} | ${ms(r.start)} | ${ms(r.end)} | ${ms(r.queued)} | ${ms(r.server)} |`);
    console.log();
  }
  const errs = u.runs.flatMap((r) => r.errors);
  if (errs.length) console.log(`Page errors for ${who(u.email)}: ${[...new Set(errs)].join('; ')}\n`);
}

console.log(`### API requests from Node (fetch, kept-alive connection, uncompressed; ms)\n`);
console.log(`| request | ${report.users.map((u) => `${who(u.email)} median | max | cold`).join(' | ')} |`);
console.log(`|---|${report.users.map(() => '---|---|---').join('|')}|`);
const labels = report.users[0].api.rows.map((r) => r.label);
for (const label of labels) {
  const cells = report.users.map((u) => {
    const r = u.api.rows.find((x) => x.label === label);
    return r ? `${ms(r.median)} | ${ms(r.max)} | ${ms(r.cold)}` : '— | — | —';
  });
  console.log(`| ${label} | ${cells.join(' | ')} |`);
}
