// The deal pipeline: a drag to another stage is saved (it is still there after a reload),
// a drop the server refuses puts the card back with a message, and the column totals
// are the server's aggregates.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { SEED, api, newPage, problems, screenshot, signIn, usd } from '../lib.mjs';

const tag = randomUUID().slice(0, 8);
const card = (page, stage, id) => page.locator(`[data-stage="${stage}"] [data-deal-id="${id}"]`);

async function drag(page, locator, toStage) {
  const from = await locator.boundingBox();
  const to = await page.locator(`[data-stage="${toStage}"] .stage-cards`).boundingBox();
  assert.ok(from && to, 'card and column are on screen');
  await page.mouse.move(from.x + 40, from.y + 50);
  await page.mouse.down();
  await page.mouse.move(from.x + 60, from.y + 60, { steps: 4 });
  await page.mouse.move(to.x + to.width / 2, to.y + 80, { steps: 12 });
  await page.mouse.up();
}

test('dragging a deal to another stage saves it', async () => {
  const company = (await api('/api/v1/companies', { method: 'POST', body: { name: `Vandelay ${tag}` } })).body;
  const deal = (
    await api('/api/v1/deals', {
      method: 'POST',
      body: { company_id: company.id, title: `Latex ${tag}`, amount: 4_200_000, stage: 'Qualification', priority: 'High' },
    })
  ).body;
  const page = await newPage({ width: 1600, height: 900 });
  await signIn(page);
  await page.goto('/deals/pipeline');
  await card(page, 'Qualification', deal.id).waitFor();
  assert.match(await card(page, 'Qualification', deal.id).textContent(), /\$42,000/);

  await drag(page, card(page, 'Qualification', deal.id), 'Negotiation');
  await card(page, 'Negotiation', deal.id).waitFor();
  await page.getByText(`moved to Negotiation`).first().waitFor();
  const saved = (await api(`/api/v1/deals/${deal.id}`)).body;
  assert.equal(saved.stage, 'Negotiation');
  assert.equal(saved.probability, 75);

  await page.reload();
  await card(page, 'Negotiation', deal.id).waitFor();
  assert.equal(await card(page, 'Qualification', deal.id).count(), 0);

  // The keyboard way: Space picks the card up, an arrow moves one stage, Space drops.
  await card(page, 'Negotiation', deal.id).locator('xpath=ancestor-or-self::article').focus();
  await page.keyboard.press('Space');
  await page.waitForTimeout(150);
  await page.keyboard.press('ArrowLeft');
  await page.waitForTimeout(300);
  await page.keyboard.press('Space');
  await card(page, 'Proposal', deal.id).waitFor();
  await page.waitForFunction(
    async (id) => (await (await fetch(`/api/v1/deals/${id}`)).json()).stage === 'Proposal',
    deal.id,
  );
  await screenshot(page, 'pipeline-desktop');
  assert.deepEqual(problems(page), []);
  await page.context().close();
});

test('a drop the server refuses rolls back, with a message', async () => {
  // The manager's deal: the rep (same team) sees it, but may not change it.
  const company = (
    await api('/api/v1/companies', { method: 'POST', body: { name: `Kramerica ${tag}` }, as: 'manager' })
  ).body;
  const deal = (
    await api('/api/v1/deals', {
      method: 'POST',
      body: { company_id: company.id, title: `Oil tanker ${tag}`, amount: 990_000, stage: 'Proposal' },
      as: 'manager',
    })
  ).body;
  const page = await newPage({ width: 1600, height: 900 });
  await signIn(page, 'rep');
  await page.goto('/deals/pipeline');
  await card(page, 'Proposal', deal.id).waitFor();
  const countBefore = await page.locator('[data-stage="Proposal"] [data-testid=stage-count]').textContent();

  await drag(page, card(page, 'Proposal', deal.id), 'Negotiation');
  const toast = page.getByTestId('toast').filter({ hasText: 'Could not move' });
  await toast.waitFor();
  await card(page, 'Proposal', deal.id).waitFor();
  assert.equal(await card(page, 'Negotiation', deal.id).count(), 0);
  assert.equal(await page.locator('[data-stage="Proposal"] [data-testid=stage-count]').textContent(), countBefore);
  assert.equal((await api(`/api/v1/deals/${deal.id}`)).body.stage, 'Proposal');
  await screenshot(page, 'pipeline-refused-desktop');

  // The rep's own deal moves.
  await drag(page, card(page, 'Proposal', SEED.rep.deal.id), 'Negotiation');
  await card(page, 'Negotiation', SEED.rep.deal.id).waitFor();
  await page.waitForFunction(
    async (id) => (await (await fetch(`/api/v1/deals/${id}`)).json()).stage === 'Negotiation',
    SEED.rep.deal.id,
  );
  await page.context().close();
});

test('column counts and totals are the server aggregates, filters included', async () => {
  const page = await newPage({ width: 1600, height: 900 });
  await signIn(page);
  for (const [query, owner] of [
    ['', null],
    ['?owner=me', 'me'],
  ]) {
    await page.goto(`/deals/pipeline${query}`);
    const me = (await api('/api/v1/auth/me')).body;
    const agg = (await api(`/api/v1/deals/aggregate?group_by=stage${owner ? `&owner_id=${me.id}` : ''}`)).body;
    for (const g of agg.groups) {
      const col = page.locator(`[data-stage="${g.key}"]`);
      await page.waitForFunction(
        ([stage, n]) =>
          document.querySelector(`[data-stage="${stage}"] [data-testid=stage-count]`)?.textContent === String(n),
        [g.key, g.count],
      );
      const total = await col.getByTestId('stage-total').textContent();
      assert.equal(total, usd(g.sum.amount), `${g.key} total`);
      assert.match(await col.getByTestId('stage-weighted').textContent(), new RegExp(`^\\${usd(g.weighted_amount)}`));
    }
  }
  await page.context().close();
});

