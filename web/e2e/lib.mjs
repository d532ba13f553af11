// Shared helpers for the browser tests in e2e/tests/*.test.mjs. run.mjs starts a fresh
// Keel for each backend and passes where it is and who can sign in through KEEL_E2E_*
// environment variables; this module reads them. The browser (Debian's Chromium, driven
// by playwright-core) is launched on first use and closed after the test file.

import { after } from 'node:test';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { ApiClient } from './api-client.mjs';
import { CHROMIUM, CHROMIUM_ARGS } from './chromium.mjs';

function required(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: run the browser tests with \`npm run e2e\` (web/e2e/run.mjs)`);
  }
  return value;
}

/** Where the server under test is: `http://127.0.0.1:PORT` (no trailing slash). */
export const BASE_URL = required('KEEL_E2E_URL').replace(/\/$/, '');
/** `sqlite` or `postgres`. */
export const BACKEND = required('KEEL_E2E_BACKEND');
/** Screenshots go here: web/e2e/artifacts/<backend>/. */
export const ARTIFACTS = required('KEEL_E2E_ARTIFACTS');

/**
 * The users run.mjs created with `keel user create`. Teams: the manager and `rep` are in
 * team "East", `rep2` in team "West"; the admin is in none.
 */
export const USERS = {
  admin: { email: required('KEEL_E2E_ADMIN_EMAIL'), password: required('KEEL_E2E_ADMIN_PASSWORD'), role: 'admin' },
  manager: {
    email: required('KEEL_E2E_MANAGER_EMAIL'),
    password: required('KEEL_E2E_MANAGER_PASSWORD'),
    role: 'manager',
  },
  rep: { email: required('KEEL_E2E_REP_EMAIL'), password: required('KEEL_E2E_REP_PASSWORD'), role: 'rep' },
  rep2: { email: required('KEEL_E2E_REP2_EMAIL'), password: required('KEEL_E2E_REP2_PASSWORD'), role: 'rep' },
};

/**
 * The records run.mjs created through the API before the tests: for `rep` and for `rep2`,
 * one company, one contact at it and one deal with it, each owned by that rep:
 * `SEED.rep.company.name`, `SEED.rep2.deal.id`, …
 */
export const SEED = JSON.parse(readFileSync(required('KEEL_E2E_SEED'), 'utf8'));

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844, isMobile: true, hasTouch: true };


/** @type {Promise<import('playwright-core').Browser> | null} */
let browser = null;

/** The test file's browser, launched on first use. */
export function launchBrowser() {
  browser ??= chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  return browser;
}

/** Close the browser (done for every test file after its last test). */
export async function closeBrowser() {
  if (browser) {
    const b = await browser;
    browser = null;
    await b.close();
  }
}

after(closeBrowser);

/** @type {WeakMap<import('playwright-core').Page, string[]>} */
const pageProblems = new WeakMap();

/**
 * A page in a context of its own (its own cookies: not signed in), relative URLs resolve
 * against the server: `await page.goto('/companies')`. Defaults to DESKTOP; pass PHONE
 * (390×844, touch, mobile) or any `{ width, height, isMobile, hasTouch }`.
 * @returns {Promise<import('playwright-core').Page>}
 */
export async function newPage({ width = DESKTOP.width, height = DESKTOP.height, isMobile = false, hasTouch = false } = {}) {
  const b = await launchBrowser();
  const context = await b.newContext({
    baseURL: BASE_URL,
    viewport: { width, height },
    isMobile,
    hasTouch,
    deviceScaleFactor: 1,
    locale: 'en-US',
    timezoneId: 'UTC',
  });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.setDefaultNavigationTimeout(30_000);
  const problems = [];
  pageProblems.set(page, problems);
  page.on('pageerror', (err) => problems.push(`uncaught: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && /Content Security Policy|Refused to/i.test(msg.text())) {
      problems.push(`CSP: ${msg.text()}`);
    }
  });
  return page;
}

/**
 * What went wrong in the page so far that a person would not see at once: uncaught
 * exceptions and Content-Security-Policy refusals (failed requests, such as the 401 of
 * a visit before signing in, are not counted). `assert.deepEqual(problems(page), [])`.
 */
export function problems(page) {
  return [...(pageProblems.get(page) ?? [])];
}

/**
 * Sign in on the sign-in page (opened if the page is not on it): fills "Email" and
 * "Password", presses "Sign in" and waits until the URL leaves /login.
 * `signIn(page)` signs in as the admin; `signIn(page, USERS.rep)`, `signIn(page, 'rep')`
 * or `signIn(page, email, password)` as someone else.
 */
export async function signIn(page, who = USERS.admin, password) {
  const user = typeof who === 'string' && !who.includes('@') ? USERS[who] : who;
  if (!user) throw new Error(`signIn: no user ${who}`);
  const email = typeof user === 'string' ? user : user.email;
  const pass = password ?? (typeof user === 'string' ? undefined : user.password);
  if (!pass) throw new Error(`signIn: no password for ${email}`);
  if (!new URL(page.url(), BASE_URL).pathname.startsWith('/login')) {
    await page.goto('/login');
  }
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(pass);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => !url.pathname.startsWith('/login'));
}

/** Save a PNG of the viewport as ARTIFACTS/<name>.png and return its path. */
export async function screenshot(page, name, { fullPage = false } = {}) {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name.replace(/[^\w.-]+/g, '-')}.png`);
  await page.screenshot({ path, fullPage });
  return path;
}

/** @type {Map<string, Promise<ApiClient>>} */
const sessions = new Map();

function client(as) {
  if (as === null || as === 'anonymous') return Promise.resolve(new ApiClient(BASE_URL));
  const user = typeof as === 'string' ? USERS[as] : as;
  if (!user?.email || !user.password) throw new Error(`api: unknown user ${JSON.stringify(as)}`);
  if (!sessions.has(user.email)) {
    const c = new ApiClient(BASE_URL);
    sessions.set(
      user.email,
      c.login(user.email, user.password).then(() => c),
    );
  }
  return sessions.get(user.email);
}

/**
 * A REST call with a session (signed in once per user and test file):
 * `await api('/api/v1/companies', { method: 'POST', body: { name: 'Acme' }, as: 'rep' })`.
 * `as`: 'admin' (default), 'manager', 'rep', 'rep2', 'anonymous' or `{ email, password }`.
 * Writes send JSON with this server's Origin. Returns `{ status, ok, headers, body, text }`
 * (`body` parsed when JSON).
 */
export async function api(path, { method = 'GET', body, as = 'admin', headers } = {}) {
  const c = await client(as);
  return c.request(path, { method, body, headers });
}

/** Minor units as the app shows US dollars in the en-US locale: 5000000 → "$50,000". */
export function usd(minor) {
  const whole = minor % 100 === 0;
  return new Intl.NumberFormat('en-US', {
    style: 'currency',
    currency: 'USD',
    minimumFractionDigits: whole ? 0 : 2,
    maximumFractionDigits: whole ? 0 : 2,
  }).format(minor / 100);
}
