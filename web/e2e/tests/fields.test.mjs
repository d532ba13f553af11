// Settings → Fields (admins): a custom select field added from the app appears in the
// company form and on the record; adding the same name again shows the server's rule
// under the Name field; a field limited to admins is redacted for a rep by the server.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { DESKTOP, api, newPage, problems, screenshot, signIn } from '../lib.mjs';

const tag = randomUUID().slice(0, 8);

test('an admin adds a custom field that forms, records and the API then carry, then archives it', async (t) => {
  const label = `Tier ${tag}`;
  const name = `cf_tier_${tag}`;
  // The browser tests share one database: a field left active would show up in the
  // other tests' lists and exports, so it is archived even if this test fails half-way.
  t.after(async () => {
    const f = await api(`/api/v1/fields/companies/${name}`);
    if (f.ok && !f.body.archived) await api(`/api/v1/fields/companies/${name}/archive`, { method: 'POST' });
  });
  const page = await newPage(DESKTOP);
  await signIn(page);
  await page.goto('/settings/fields');
  await page.getByRole('tab', { name: 'Companies' }).click();
  await page.getByRole('button', { name: 'Add field' }).click();
  let dialog = page.getByRole('dialog');
  await dialog.getByLabel('Label').fill(label);
  await dialog.getByLabel('Type').selectOption('select');
  await dialog.getByLabel('Options (one per line; value | label)').fill('gold | Gold\nsilver | Silver');
  await dialog.getByLabel('Only these roles may see it (comma-separated; empty: everyone)').fill('admin');
  await dialog.getByRole('button', { name: 'Add field' }).click();
  await dialog.waitFor({ state: 'hidden' });
  await page.getByRole('cell', { name: label, exact: true }).waitFor();
  const fields = (await api('/api/v1/fields/companies')).body;
  const made = (fields.data ?? fields).find((f) => f.name === name);
  assert.ok(made, `the server has ${name}`);
  assert.equal(made.type, 'select');

  // The same name again: the server refuses it, and the app says why under Name.
  await page.getByRole('button', { name: 'Add field' }).click();
  dialog = page.getByRole('dialog');
  await dialog.getByLabel('Label').fill(label);
  await dialog.getByRole('button', { name: 'Add field' }).click();
  await dialog.getByText(/already has a field/).waitFor();
  await dialog.getByRole('button', { name: 'Cancel' }).click();

  // The company form offers the new field; the value is saved and shown.
  const company = `Globex ${tag}`;
  await page.goto('/companies');
  await page.getByRole('button', { name: '+ New Company' }).click();
  dialog = page.getByRole('dialog');
  await dialog.getByRole('textbox', { name: 'Name', exact: true }).fill(company);
  await dialog.getByLabel(label).selectOption('gold');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('heading', { name: company }).waitFor();
  await page.getByText('Gold').first().waitFor();
  const id = page.url().split('/').pop();
  assert.equal((await api(`/api/v1/companies/${id}`)).body[name], 'gold');
  await screenshot(page, 'custom-field-record');

  // Read limited to admins: on a company the rep owns (and sees), the admin sets the
  // field; the rep's answer has no such key, and filtering by it is refused.
  const mine = (await api('/api/v1/companies', { method: 'POST', body: { name: `Initrode ${tag}` }, as: 'rep' })).body;
  const set = await api(`/api/v1/companies/${mine.id}`, {
    method: 'PATCH',
    body: { [name]: 'silver' },
    headers: { 'If-Match': `"${mine.version}"` },
  });
  assert.equal(set.status, 200, set.text);
  assert.equal((await api(`/api/v1/companies/${mine.id}`)).body[name], 'silver');
  const asRep = await api(`/api/v1/companies/${mine.id}`, { as: 'rep' });
  assert.equal(asRep.status, 200);
  // Redacted, not dropped (docs/SECURITY.md): null, and named in `_redacted`.
  assert.equal(asRep.body[name], null, 'the rep does not see the admin-only value');
  assert.ok(asRep.body._redacted?.includes(name), 'the field is listed as redacted');
  assert.equal((await api(`/api/v1/companies?${name}=silver`, { as: 'rep' })).status, 403);

  // Archive from the page: the data is kept, the field leaves forms and lists.
  await page.goto('/settings/fields');
  await page.getByRole('tab', { name: 'Companies' }).click();
  await page.getByRole('row', { name: new RegExp(label) }).getByRole('button', { name: 'Archive' }).click();
  await page.getByText(`${label} archived; its data is kept`).waitFor();
  assert.equal((await api(`/api/v1/fields/companies/${name}`)).body.archived, true);
  const list = (await api('/api/v1/companies?limit=1')).body.data[0];
  assert.equal(name in list, false, 'an archived field is not in records any more');
  assert.deepEqual(problems(page), []);
  await page.context().close();
});
