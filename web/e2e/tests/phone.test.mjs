// The same everyday flows at phone width (390 px): the tab bar, a form, the list, and
// moving a deal with the card's "Move to" menu (dragging across a phone screen is not
// how people move cards there).

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { DESKTOP, PHONE, api, newPage, problems, screenshot, signIn } from '../lib.mjs';

const tag = randomUUID().slice(0, 8);

test('phone: navigate, create a company, find it, move a deal', async () => {
  const page = await newPage(PHONE);
  await signIn(page);
  await page.getByTestId('stat-won').or(page.getByText('No deals yet')).first().waitFor();
  await screenshot(page, 'dashboard-phone');

  // The sidebar is hidden; the bottom tab bar navigates.
  assert.equal(await page.locator('.sidebar').isVisible(), false);
  await page.locator('.tabbar').getByRole('link', { name: 'Companies' }).click();
  await page.waitForURL(/\/companies$/);

  await page.getByRole('button', { name: '+ New Company' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByRole('textbox', { name: 'Name', exact: true }).fill(`Pendant ${tag}`);
  await dialog.getByLabel('Industry').selectOption('Retail');
  await screenshot(page, 'company-form-phone');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await page.waitForURL(/\/companies\/[0-9a-f-]{36}$/);
  const id = page.url().split('/').pop();
  assert.equal((await api(`/api/v1/companies/${id}`)).body.industry, 'Retail');
  await screenshot(page, 'company-detail-phone');

  await page.locator('.tabbar').getByRole('link', { name: 'Companies' }).click();
  await page.getByLabel('Search name or domain').fill(`Pendant ${tag}`);
  await page.getByRole('link', { name: `Pendant ${tag}` }).waitFor();
  await screenshot(page, 'companies-phone');

  // Move a deal with the card menu.
  const deal = (
    await api('/api/v1/deals', { method: 'POST', body: { company_id: id, title: `Art ${tag}`, stage: 'Prospecting' } })
  ).body;
  await page.locator('.tabbar').getByRole('link', { name: 'Pipeline' }).click();
  const card = page.locator(`[data-stage="Prospecting"] [data-deal-id="${deal.id}"]`);
  await card.waitFor();
  await card.getByRole('button', { name: `Move Art ${tag} to another stage` }).click();
  await page.getByRole('menuitem', { name: 'Proposal' }).click();
  await page.locator(`[data-stage="Proposal"] [data-deal-id="${deal.id}"]`).waitFor({ state: 'attached' });
  await page.waitForFunction(
    async (dealId) => (await (await fetch(`/api/v1/deals/${dealId}`)).json()).stage === 'Proposal',
    deal.id,
  );
  await screenshot(page, 'pipeline-phone');

  // Nothing overflows the screen sideways but the board itself.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `page is ${overflow}px wider than the phone`);
  assert.deepEqual(problems(page), []);
  await page.context().close();
});

test('phone: global search finds a record and opens it', async () => {
  const page = await newPage(PHONE);
  await signIn(page);
  await page.getByRole('button', { name: 'Search (Ctrl+K)' }).click();
  await page.getByRole('combobox', { name: 'Search' }).fill('Acme Anv');
  await page.getByRole('option', { name: /^Acme Anvils acme-anvils/ }).click();
  await page.waitForURL(/\/companies\/[0-9a-f-]{36}$/);
  await page.getByRole('heading', { name: 'Acme Anvils' }).waitFor();
  await page.context().close();
});

test('phone: pages beyond the tab bar are in the user menu (desktop keeps them in the sidebar)', async () => {
  const page = await newPage(PHONE);
  await signIn(page);
  for (const [label, path] of [
    ['Deals', /\/deals$/],
    ['Duplicates', /\/duplicates$/],
    ['Import', /\/import$/],
    ['Automation', /\/automation$/],
    ['Fields', /\/settings\/fields$/],
  ]) {
    assert.equal(await page.locator('.tabbar').getByRole('link', { name: label }).count(), 0, `${label} in tab bar`);
    await page.getByRole('button', { name: 'User menu' }).click();
    await page.getByRole('menuitem', { name: label }).click();
    await page.waitForURL(path);
    await page.locator('main h1').first().waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `${label}: page is ${overflow}px wider than the phone`);
  }
  await screenshot(page, 'fields-phone');
  assert.deepEqual(problems(page), []);
  await page.context().close();

  const desktop = await newPage(DESKTOP);
  await signIn(desktop);
  await desktop.getByRole('button', { name: 'User menu' }).click();
  await desktop.getByRole('menuitem', { name: 'Sign out' }).waitFor();
  assert.equal(await desktop.getByRole('menuitem', { name: 'Import' }).isVisible(), false);
  await desktop.context().close();
});
