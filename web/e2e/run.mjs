#!/usr/bin/env node
// The browser tests, end to end: for each backend (SQLite, then PostgreSQL) a fresh
// database, `keel migrate`, users made with `keel user create`, a little data made through
// the REST API, `keel serve` on a free port, then e2e/tests/*.test.mjs with Node's test
// runner (one file at a time) against it, in headless Chromium. Builds nothing: it runs
// the keel binary cargo built (target/debug/keel, or under CARGO_TARGET_DIR; KEEL_BIN
// overrides), which embeds web/dist, so build the web app first (scripts/test.sh does).
//
//   node e2e/run.mjs [--backend sqlite|postgres]... [test files...]
//
// Exits non-zero if any run failed. Screenshots and the server's log are left in
// e2e/artifacts/<backend>/.

import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiClient } from './api-client.mjs';

const E2E_DIR = dirname(fileURLToPath(import.meta.url));
const WEB_DIR = dirname(E2E_DIR);
const REPO = dirname(WEB_DIR);
const KEEL = process.env.KEEL_BIN ?? join(resolve(REPO, process.env.CARGO_TARGET_DIR ?? 'target'), 'debug', 'keel');
const POSTGRES_ADMIN_URL = process.env.KEEL_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const PASSWORD = 'e2e-password-correct-horse';
const USERS = [
  { key: 'ADMIN', email: 'admin@e2e.test', name: 'Ada Admin', role: 'admin' },
  { key: 'MANAGER', email: 'manager@e2e.test', name: 'Mona Manager', role: 'manager', team: 'East' },
  { key: 'REP', email: 'rep@e2e.test', name: 'Rita Rep', role: 'rep', team: 'East' },
  { key: 'REP2', email: 'rep2@e2e.test', name: 'Ravi Rep', role: 'rep', team: 'West' },
];

function usage(message) {
  console.error(`${message}\nusage: node e2e/run.mjs [--backend sqlite|postgres]... [test files...]`);
  process.exit(2);
}

function parseArgs(argv) {
  const backends = [];
  const files = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--backend') backends.push(argv[++i]);
    else if (a.startsWith('--backend=')) backends.push(a.slice('--backend='.length));
    else if (a.startsWith('-')) usage(`unknown option ${a}`);
    else files.push(resolve(process.cwd(), a));
  }
  for (const b of backends) if (b !== 'sqlite' && b !== 'postgres') usage(`unknown backend ${b}`);
  const testsDir = join(E2E_DIR, 'tests');
  const all = existsSync(testsDir)
    ? readdirSync(testsDir)
        .filter((f) => f.endsWith('.test.mjs'))
        .sort()
        .map((f) => join(testsDir, f))
    : [];
  return { backends: backends.length ? backends : ['sqlite', 'postgres'], files: files.length ? files : all };
}

/** Run `keel <args>` against `databaseUrl` and wait for it; throw with its output if it fails. */
function keel(args, databaseUrl, env = {}) {
  const res = spawnSync(KEEL, args, {
    env: { ...process.env, DATABASE_URL: databaseUrl, KEEL_LOG: 'warn', ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (res.status !== 0) {
    throw new Error(`keel ${args.join(' ')} failed (${res.error ?? `exit ${res.status}`}):\n${res.stdout}${res.stderr}`);
  }
  return res.stdout;
}

function psql(sql) {
  const res = spawnSync('psql', [POSTGRES_ADMIN_URL, '-v', 'ON_ERROR_STOP=1', '-qXc', sql], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (res.status !== 0) {
    throw new Error(`psql failed (${res.error ?? `exit ${res.status}`}) on ${POSTGRES_ADMIN_URL}: ${sql}\n${res.stderr}`);
  }
}

/** A fresh, empty database; `drop()` removes it. */
function createDatabase(backend) {
  if (backend === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'keel-e2e-'));
    return { url: `sqlite://${join(dir, 'keel.db')}`, drop: () => rmSync(dir, { recursive: true, force: true }) };
  }
  const name = `keel_e2e_${randomBytes(6).toString('hex')}`;
  psql(`CREATE DATABASE ${name}`);
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => psql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

/** `keel serve` on a free port; resolves once /readyz answers 200. */
async function startServer(databaseUrl, logPath) {
  const log = createWriteStream(logPath);
  const child = spawn(KEEL, ['serve', '--bind', '127.0.0.1', '--port', '0'], {
    env: { ...process.env, DATABASE_URL: databaseUrl, KEEL_LOG: process.env.KEEL_LOG ?? 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr.pipe(log);
  const exited = new Promise((resolveExit) => child.once('exit', (code, signal) => resolveExit({ code, signal })));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    log.end();
  };
  const url = await new Promise((resolveUrl, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`keel serve printed no URL in 60 s:\n${out}`)), 60_000);
    child.stdout.on('data', (chunk) => {
      out += chunk;
      log.write(chunk);
      const m = /Keel is running at (http:\/\/[^\s/]+)\//.exec(out);
      if (m) {
        clearTimeout(timer);
        resolveUrl(m[1]);
      }
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`keel serve exited (${code ?? signal}) before it was ready; see ${logPath}`));
    });
  }).catch(async (e) => {
    await stop();
    throw e;
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const res = await fetch(`${url}/readyz`);
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${url}/readyz did not answer 200 in 60 s; see ${logPath}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url, stop };
}

/** For each rep: a company, a contact at it and a deal with it, made as that rep. */
async function seed(url) {
  const data = {};
  for (const [key, user, name, domain] of [
    ['rep', USERS[2], 'Acme Anvils', 'acme-anvils.example'],
    ['rep2', USERS[3], 'Globex Gears', 'globex-gears.example'],
  ]) {
    const c = new ApiClient(url);
    await c.login(user.email, PASSWORD);
    const company = await c.create('companies', { name, domain, industry: 'Manufacturing', city: 'Springfield' });
    const [first, last] = key === 'rep' ? ['Wile', 'Coyote'] : ['Hank', 'Scorpio'];
    const contact = await c.create('contacts', {
      company_id: company.id,
      first_name: first,
      last_name: last,
      email: `${first.toLowerCase()}@${domain}`,
      title: 'Head of Purchasing',
    });
    const deal = await c.create('deals', {
      company_id: company.id,
      contact_id: contact.id,
      title: `${name}: yearly order`,
      amount: key === 'rep' ? 1_250_000 : 480_000,
      stage: 'Proposal',
    });
    data[key] = { company, contact, deal };
  }
  return data;
}

function runTests(files, env) {
  const args = ['--test', '--test-concurrency=1', '--test-reporter=spec', ...files];
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, args, { cwd: WEB_DIR, env: { ...process.env, ...env }, stdio: 'inherit' });
    child.once('exit', (code, signal) => resolveRun(code ?? (signal ? 1 : 0)));
  });
}

/** One backend, start to end. Returns true when every test passed. */
async function runBackend(backend, files, cleanups) {
  console.log(`\n== e2e on ${backend}`);
  const artifacts = join(E2E_DIR, 'artifacts', backend);
  rmSync(artifacts, { recursive: true, force: true });
  mkdirSync(artifacts, { recursive: true });
  const db = createDatabase(backend);
  cleanups.add(db.drop);
  let server = null;
  try {
    keel(['migrate'], db.url);
    for (const u of USERS) {
      keel(['user', 'create', '--email', u.email, '--role', u.role, '--name', u.name], db.url, {
        KEEL_PASSWORD: PASSWORD,
      });
      if (u.team) keel(['user', 'set-team', '--email', u.email, '--team', u.team], db.url);
    }
    server = await startServer(db.url, join(artifacts, 'server.log'));
    cleanups.add(server.stop);
    const seedFile = join(artifacts, 'seed.json');
    writeFileSync(seedFile, JSON.stringify(await seed(server.url), null, 2));
    const env = {
      KEEL_E2E_URL: server.url,
      KEEL_E2E_BACKEND: backend,
      KEEL_E2E_ARTIFACTS: artifacts,
      KEEL_E2E_SEED: seedFile,
    };
    for (const u of USERS) {
      env[`KEEL_E2E_${u.key}_EMAIL`] = u.email;
      env[`KEEL_E2E_${u.key}_PASSWORD`] = PASSWORD;
    }
    console.log(`Keel (${backend}) at ${server.url}; ${files.length} test file(s)`);
    const code = await runTests(files, env);
    return code === 0;
  } catch (e) {
    console.error(`e2e on ${backend}: ${e.stack ?? e}`);
    return false;
  } finally {
    if (server) {
      await server.stop();
      cleanups.delete(server.stop);
    }
    try {
      db.drop();
    } catch (e) {
      console.error(`e2e on ${backend}: could not drop the database: ${e.message}`);
    }
    cleanups.delete(db.drop);
  }
}

async function main() {
  const { backends, files } = parseArgs(process.argv.slice(2));
  if (!existsSync(KEEL)) {
    console.error(`error: no keel binary at ${KEEL}: build it first (cargo build -p keel)`);
    process.exit(1);
  }
  const dist = join(WEB_DIR, 'dist', 'index.html');
  if (!existsSync(dist)) {
    console.warn('warning: web/dist was not built: keel serves its placeholder page (bash scripts/build-web.sh)');
  } else if (statSync(dist).mtimeMs > statSync(KEEL).mtimeMs) {
    console.warn(`warning: web/dist is newer than ${KEEL}, which may embed an older web app (cargo build -p keel)`);
  }
  if (files.length === 0) {
    console.error('error: no test files (e2e/tests/*.test.mjs)');
    process.exit(1);
  }

  // Ctrl-C or a kill: stop the server and drop the database before leaving.
  const cleanups = new Set();
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, async () => {
      for (const cleanup of cleanups) {
        try {
          await cleanup();
        } catch {
          // leaving anyway
        }
      }
      process.exit(130);
    });
  }

  const results = [];
  for (const backend of backends) {
    results.push([backend, await runBackend(backend, files, cleanups)]);
  }
  console.log(`\ne2e: ${results.map(([b, ok]) => `${b} ${ok ? 'passed' : 'FAILED'}`).join(', ')}`);
  process.exit(results.every(([, ok]) => ok) ? 0 : 1);
}

await main();
