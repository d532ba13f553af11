// The app loads, sends a visitor to the sign-in page, and lets the admin in, at desktop
// and phone widths.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BASE_URL, DESKTOP, PHONE, USERS, newPage, problems, screenshot, signIn } from '../lib.mjs';

test('the app is served at / with its security headers', async () => {
  const res = await fetch(`${BASE_URL}/`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
  assert.equal(res.headers.get('cache-control'), 'no-cache');
  assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'/);
  const html = await res.text();
  assert.match(html, /<div id="root">/, 'the built web app, not the placeholder page');
});

test('a visitor who is not signed in ends on /login', async () => {
  const page = await newPage(DESKTOP);
  await page.goto('/');
  await page.waitForURL((url) => url.pathname.startsWith('/login'));
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
  await screenshot(page, 'login-desktop');
  assert.deepEqual(problems(page), []);
  await page.context().close();
});

for (const [label, viewport] of [
  ['desktop', DESKTOP],
  ['phone', PHONE],
]) {
  test(`the admin signs in (${label})`, async () => {
    const page = await newPage(viewport);
    await page.goto('/companies');
    await page.waitForURL((url) => url.pathname.startsWith('/login'));
    await signIn(page, USERS.admin);
    assert.ok(!new URL(page.url()).pathname.startsWith('/login'), page.url());
    await page.waitForLoadState('networkidle');
    await screenshot(page, `signed-in-${label}`);
    assert.deepEqual(problems(page), []);
    await page.context().close();
  });
}
