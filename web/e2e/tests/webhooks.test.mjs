// Outbound webhooks in the app (admins): a bad URL is shown on its field; a webhook made
// with event checkboxes shows its secret; a test event reaches a real local receiver,
// signed with that secret, and the delivery log shows it; Redeliver sends it again.

import assert from 'node:assert/strict';
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import { test } from 'node:test';
import { DESKTOP, api, newPage, problems, screenshot, signIn } from '../lib.mjs';

const tag = randomUUID().slice(0, 8);

/** A receiver on a free local port that records every request and answers 200. */
async function receiver() {
  const got = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      got.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  return { got, url: `http://127.0.0.1:${server.address().port}/hook-${tag}`, close: () => server.close() };
}

/** The documented check: HMAC-SHA256 of "<t>.<raw body>" with the secret, within 5 minutes. */
function verify(secret, header, body) {
  const parts = Object.fromEntries(header.split(',').map((p) => p.split('=')));
  if (Math.abs(Date.now() / 1000 - Number(parts.t)) > 300) return false;
  const mac = createHmac('sha256', secret).update(`${parts.t}.${body}`).digest();
  const given = Buffer.from(parts.v1 ?? '', 'hex');
  return given.length === mac.length && timingSafeEqual(given, mac);
}

async function until(what, check, timeout = 30_000) {
  const start = Date.now();
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() - start > timeout) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('create a webhook, send a test event and redeliver it from the app', async (t) => {
  const r = await receiver();
  // An open server would keep the test process alive after a failure.
  t.after(() => r.close());
  const page = await newPage(DESKTOP);
  await signIn(page);
  await page.goto('/automation');
  await page.getByRole('tab', { name: 'Webhooks' }).click();
  await page.getByRole('button', { name: '+ New webhook' }).click();

  // The server's field error shows under the URL.
  await page.locator('#wh-url').fill('ftp://nowhere');
  await page.getByLabel('deals.updated').check();
  await page.getByRole('button', { name: 'Create webhook' }).click();
  await page.locator('.field', { has: page.locator('#wh-url') }).locator('.field-error').waitFor();

  await page.locator('#wh-url').fill(r.url);
  await page.locator('#wh-desc').fill(`E2E ${tag}`);
  await page.getByLabel('contacts.created').check();
  await page.locator('#wh-filter').fill('{"field": "deal.stage", "op": "eq", "value": "Closed Won"}');
  await page.getByRole('button', { name: 'Create webhook' }).click();
  await page.getByText('Webhook created').waitFor();
  const hook = (await api('/api/v1/webhooks')).body.data.find((w) => w.url === r.url);
  assert.ok(hook, 'saved');
  assert.deepEqual(hook.events.sort(), ['contacts.created', 'deals.updated']);
  assert.equal(hook.filter.value, 'Closed Won');
  assert.equal(await page.locator(`#secret-${hook.id}`).inputValue(), hook.secret);

  await page.getByRole('button', { name: 'Send test event' }).click();
  await until('the test event', () => r.got.length >= 1);
  assert.equal(r.got[0].headers['x-keel-event'], 'webhook.test');
  assert.ok(verify(hook.secret, r.got[0].headers['x-keel-signature'], r.got[0].body), 'signed with the shown secret');
  const log = page.locator('.webhook-detail tbody tr');
  await log.first().locator('.badge', { hasText: 'succeeded' }).waitFor({ timeout: 30_000 });

  await log.first().getByRole('button', { name: 'Redeliver' }).click();
  await until('the redelivery', () => r.got.length >= 2);
  assert.equal(JSON.parse(r.got[1].body).id, JSON.parse(r.got[0].body).id, 'the same event');
  assert.notEqual(r.got[1].headers['x-keel-delivery'], r.got[0].headers['x-keel-delivery']);
  await screenshot(page, 'webhooks-desktop');

  assert.deepEqual(problems(page), []);
  await page.context().close();
});

test('a rep is refused webhooks by the server', async () => {
  assert.equal((await api('/api/v1/webhooks', { as: 'rep' })).status, 403);
  assert.equal((await api('/api/v1/webhooks', { as: 'manager' })).status, 403);
});
