// The companies list: search and filters narrow the rows, live in the URL, and survive a
// reload; column headers sort.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { DESKTOP, api, newPage, problems, screenshot, signIn } from '../lib.mjs';

const tag = `q${randomUUID().slice(0, 6)}`;

test('search, filter and sort the companies list; the view is in the URL', async () => {
  for (const [name, industry] of [
    [`${tag} Umbrella`, 'Healthcare'],
    [`${tag} Cyberdyne`, 'Technology'],
    [`${tag} Tyrell`, 'Technology'],
  ]) {
    const res = await api('/api/v1/companies', { method: 'POST', body: { name, industry } });
    assert.equal(res.status, 201, res.text);
  }
  const page = await newPage(DESKTOP);
  await signIn(page);
  await page.goto('/companies');
  const rows = page.locator('table.data-table tbody tr');

  await page.getByLabel('Search name or domain').fill(tag);
  await page.waitForURL((u) => u.searchParams.get('q') === tag);
  await expectRows(rows, 3);

  await page.getByLabel('Industry').selectOption('Technology');
  await page.waitForURL((u) => u.searchParams.get('industry') === 'Technology');
  await expectRows(rows, 2);

  await page.getByRole('button', { name: 'Name' }).click();
  await page.waitForURL((u) => u.searchParams.get('sort') === 'name');
  await page.waitForFunction(
    (t) => document.querySelector('table.data-table tbody tr a')?.textContent === `${t} Cyberdyne`,
    tag,
  );
  await page.getByRole('button', { name: 'Name' }).click();
  await page.waitForURL((u) => u.searchParams.get('sort') === '-name');
  await page.waitForFunction(
    (t) => document.querySelector('table.data-table tbody tr a')?.textContent === `${t} Tyrell`,
    tag,
  );

  // A bookmarked view comes back as it was.
  const url = page.url();
  await page.reload();
  await expectRows(rows, 2);
  assert.equal(await page.getByLabel('Search name or domain').inputValue(), tag);
  assert.equal(await page.getByLabel('Industry').inputValue(), 'Technology');
  assert.equal(page.url(), url);
  await screenshot(page, 'companies-filtered-desktop');

  // Export this view: its rows and its columns, as a download (audited on the server).
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Export' }).click().then(() => page.getByRole('menuitem', { name: 'CSV for Excel' }).click()),
  ]);
  const csv = readFileSync(await download.path(), 'utf8');
  assert.ok(csv.startsWith('\ufeff# Exported by'), csv.slice(0, 40));
  const lines = csv.trim().split('\r\n');
  assert.equal(lines[1], 'id,name,industry,size,website,owner_id,created_at');
  assert.equal(lines.length, 4, 'watermark, header and the two rows of this view');
  assert.ok(lines[2].includes(`${tag} Tyrell`) && lines[3].includes(`${tag} Cyberdyne`), csv);

  // Nothing matches → an empty state that offers to clear the filters.
  await page.getByLabel('Industry').selectOption('Retail');
  await page.getByText('Nothing matches these filters.').waitFor();
  await page.getByRole('button', { name: 'Clear filters' }).click();
  await page.waitForURL((u) => !u.searchParams.has('industry') && !u.searchParams.has('q'));

  assert.deepEqual(problems(page), []);
  await page.context().close();
});

test('bulk change owner and bulk delete selected rows', async () => {
  const names = [`${tag} Soylent`, `${tag} Wonka`];
  const ids = [];
  for (const name of names) ids.push((await api('/api/v1/companies', { method: 'POST', body: { name } })).body.id);
  const users = (await api('/api/v1/users?limit=200')).body.data;
  const manager = users.find((u) => u.role === 'manager');
  const page = await newPage(DESKTOP);
  await signIn(page);
  await page.goto(`/companies?q=${encodeURIComponent(`${tag} Soylent`)}`);
  await expectRows(page.locator('table.data-table tbody tr'), 1);
  await page.goto(`/companies?q=${encodeURIComponent(tag)}&sort=name`);
  for (const name of names) {
    await page.locator('tr', { hasText: name }).getByRole('checkbox', { name: 'Select row' }).check();
  }
  await page.getByText('2 selected').waitFor();
  await page.getByRole('button', { name: 'Change owner' }).click();
  await page.getByRole('dialog').getByLabel('New owner').selectOption(manager.id);
  await page.getByRole('dialog').getByRole('button', { name: 'Change owner' }).click();
  await page.getByText('Owner changed on 2 companies').waitFor();
  for (const id of ids) assert.equal((await api(`/api/v1/companies/${id}`)).body.owner_id, manager.id);

  for (const name of names) {
    await page.locator('tr', { hasText: name }).getByRole('checkbox', { name: 'Select row' }).check();
  }
  await page.getByRole('button', { name: 'Delete', exact: true }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete', exact: true }).click();
  await page.getByText('2 companies moved to the trash').waitFor();
  for (const id of ids) assert.ok((await api(`/api/v1/companies/${id}`)).body.deleted_at);
  await page.context().close();
});

async function expectRows(rows, n) {
  await rows.first().page().waitForFunction(
    (count) => document.querySelectorAll('table.data-table tbody tr').length === count,
    n,
  );
  assert.equal(await rows.count(), n);
}
