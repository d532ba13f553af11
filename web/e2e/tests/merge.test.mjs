// Duplicates: a contact page offers its likely duplicate; the merge dialog keeps one
// record, takes a field from the other, and the other's deal moves over. Then the merge is
// undone from the Duplicates page. Every step is checked against the REST API.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { DESKTOP, api, newPage, screenshot, signIn } from '../lib.mjs';

const tag = randomUUID().slice(0, 8);

test('merge duplicate contacts from the contact page and undo it', async () => {
  const company = (await api('/api/v1/companies', { method: 'POST', body: { name: `Stark ${tag}` } })).body;
  const keep = (
    await api('/api/v1/contacts', {
      method: 'POST',
      body: { first_name: 'Wanda', last_name: `Max${tag}`, company_id: company.id, email: `wanda-${tag}@stark.example` },
    })
  ).body;
  const dupe = (
    await api('/api/v1/contacts', {
      method: 'POST',
      body: { first_name: 'Wanda', last_name: `Maxx${tag}`, company_id: company.id, title: 'Director' },
    })
  ).body;
  const deal = (
    await api('/api/v1/deals', { method: 'POST', body: { title: `Vision ${tag}`, company_id: company.id, contact_id: dupe.id, amount: 1000 } })
  ).body;
  assert.ok(keep.id && dupe.id && deal.id, 'seeded');

  const page = await newPage(DESKTOP);
  await signIn(page);
  await page.goto(`/contacts/${keep.id}`);
  await page.getByRole('button', { name: 'Possible duplicates (1)' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel(`Keep Wanda Max${tag}`, { exact: true }).check();
  await dialog.getByLabel(`Job title from Wanda Maxx${tag}`, { exact: true }).check();
  await screenshot(page, 'merge-dialog-desktop');
  await dialog.getByRole('button', { name: 'Merge 2 records' }).click();
  await dialog.waitFor({ state: 'detached' });

  const survivor = (await api(`/api/v1/contacts/${keep.id}`)).body;
  assert.equal(survivor.title, 'Director', 'the chosen value survives');
  assert.equal(survivor.email, `wanda-${tag}@stark.example`, 'unchosen fields keep the survivor value');
  assert.ok((await api(`/api/v1/contacts/${dupe.id}`)).body.deleted_at, 'the other is in the trash');
  assert.equal((await api(`/api/v1/deals/${deal.id}`)).body.contact_id, keep.id, 'the deal moved');

  // Undo from the Duplicates page.
  await page.goto('/duplicates');
  await page.getByRole('heading', { name: 'Recent merges' }).waitFor();
  await page.getByRole('button', { name: 'Undo' }).first().click();
  await page.getByText('Merge undone').waitFor();
  const back = (await api(`/api/v1/contacts/${dupe.id}`)).body;
  assert.equal(back.deleted_at, null, 'restored');
  assert.equal((await api(`/api/v1/deals/${deal.id}`)).body.contact_id, dupe.id, 'the deal moved back');
  assert.equal((await api(`/api/v1/contacts/${keep.id}`)).body.title, null, 'the survivor value is back');
  await page.close();
});
