// Create a company, a contact and a deal through the app's forms; edit; a server-side
// validation error shown on its field; delete (with the company's deals) and restore.
// Every step is checked against the REST API, not only the screen.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { DESKTOP, api, newPage, problems, screenshot, signIn } from '../lib.mjs';

const tag = randomUUID().slice(0, 8);

test('create, edit, delete and restore records from the app', async () => {
  const page = await newPage(DESKTOP);
  await signIn(page);
  const name = `Initech ${tag}`;

  // Create a company from the list page.
  await page.goto('/companies');
  await page.getByRole('button', { name: '+ New Company' }).click();
  let dialog = page.getByRole('dialog');
  await dialog.getByRole('textbox', { name: 'Name', exact: true }).fill(name);
  await dialog.getByLabel('Industry').selectOption('Technology');
  await dialog.getByLabel('Size').selectOption('51-200');
  await dialog.getByLabel('Website').fill(`initech-${tag}.example`);
  await screenshot(page, 'company-form-desktop');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await page.waitForURL(/\/companies\/[0-9a-f-]{36}$/);
  await page.getByRole('heading', { name }).waitFor();
  const companyId = page.url().split('/').pop();
  const company = (await api(`/api/v1/companies/${companyId}`)).body;
  assert.equal(company.name, name);
  assert.equal(company.industry, 'Technology');
  assert.equal(company.website, `https://initech-${tag}.example/`, 'the server adds the scheme');

  // A contact from the company page: the company is filled in.
  await page.getByRole('button', { name: '+ Add Contact' }).click();
  dialog = page.getByRole('dialog');
  await page.waitForFunction(() => document.querySelector('#f-company_id')?.value !== '');
  assert.equal(await dialog.getByLabel('Company').inputValue(), name);
  await dialog.getByLabel('First name').fill('Peter');
  await dialog.getByLabel('Last name').fill('Gibbons');
  await dialog.getByLabel('Email', { exact: true }).fill(`peter@initech-${tag}.example`);
  await dialog.getByLabel('Job title').fill('Engineer');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await dialog.waitFor({ state: 'detached' });
  await page.getByRole('link', { name: 'Peter Gibbons' }).waitFor();
  const contacts = (await api(`/api/v1/companies/${companyId}/contacts`)).body.data;
  assert.equal(contacts.length, 1);
  assert.equal(contacts[0].email, `peter@initech-${tag}.example`);

  // A deal from the company's Deals tab.
  await page.getByRole('tab', { name: 'Deals' }).click();
  await page.getByRole('button', { name: '+ New Deal' }).click();
  dialog = page.getByRole('dialog');
  await dialog.getByRole('textbox', { name: 'Title', exact: true }).fill(`TPS reports ${tag}`);
  await dialog.getByLabel('Amount').fill('25,000');
  await dialog.getByLabel('Stage').selectOption('Qualification');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await dialog.waitFor({ state: 'detached' });
  await page.locator('[data-stage="Qualification"] .deal-card', { hasText: `TPS reports ${tag}` }).waitFor();
  const deals = (await api(`/api/v1/companies/${companyId}/deals`)).body.data;
  assert.equal(deals.length, 1);
  assert.equal(deals[0].amount, 2_500_000, '$25,000 is stored in cents');
  assert.equal(deals[0].probability, 25, 'the stage sets the probability');

  // Edit the company; the details card shows the change.
  await page.getByRole('button', { name: 'Edit' }).first().click();
  dialog = page.getByRole('dialog');
  await dialog.getByLabel('City').fill('Austin');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await dialog.waitFor({ state: 'detached' });
  const edited = (await api(`/api/v1/companies/${companyId}`)).body;
  assert.equal(edited.city, 'Austin');
  assert.equal(edited.version, company.version + 1);
  await page.getByText('Austin').waitFor();

  // The server's uniqueness rule appears next to the Name field, and nothing is created.
  await page.goto('/companies');
  await page.getByRole('button', { name: '+ New Company' }).click();
  dialog = page.getByRole('dialog');
  await dialog.getByRole('textbox', { name: 'Name', exact: true }).fill(name.toUpperCase());
  await dialog.getByRole('button', { name: 'Save' }).click();
  const nameError = dialog.locator('#f-name-err');
  await nameError.waitFor();
  assert.match(await nameError.textContent(), /already|exists|taken|unique/i);
  const same = (await api(`/api/v1/companies?name[contains]=${encodeURIComponent(`initech ${tag}`)}`)).body.data;
  assert.equal(same.length, 1);
  page.once('dialog', (d) => d.accept());
  await dialog.getByRole('button', { name: 'Cancel' }).click();

  // Delete: the company has a deal, so the app asks before taking it along.
  await page.goto(`/companies/${companyId}`);
  await page.getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete', exact: true }).click();
  await page.getByRole('button', { name: 'Delete with its deals' }).click();
  await page.waitForURL(/\/companies$/);
  const trashed = (await api(`/api/v1/companies/${companyId}`)).body;
  assert.ok(trashed.deleted_at, 'in the trash');
  assert.ok((await api(`/api/v1/deals/${deals[0].id}`)).body.deleted_at, 'its deal too');

  // Undo from the toast restores both.
  await page.getByRole('button', { name: 'Undo' }).click();
  await page.waitForURL(new RegExp(`/companies/${companyId}$`));
  await page.getByRole('heading', { name }).waitFor();
  assert.equal((await api(`/api/v1/companies/${companyId}`)).body.deleted_at, null);
  assert.equal((await api(`/api/v1/deals/${deals[0].id}`)).body.deleted_at, null);
  await screenshot(page, 'company-detail-desktop');

  assert.deepEqual(problems(page), []);
  await page.context().close();
});

test('a deal form refuses a past close date with the server rule, next to the field', async () => {
  const page = await newPage(DESKTOP);
  await signIn(page);
  const company = (await api('/api/v1/companies', { method: 'POST', body: { name: `Hooli ${tag}` } })).body;
  await page.goto(`/companies/${company.id}`);
  await page.getByRole('tab', { name: 'Deals' }).click();
  await page.getByRole('button', { name: '+ New Deal' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByRole('textbox', { name: 'Title', exact: true }).fill(`Nucleus ${tag}`);
  await dialog.getByLabel('Expected close').fill('2020-01-01');
  await dialog.getByRole('button', { name: 'Save' }).click();
  const err = dialog.locator('#f-expected_close_date-err');
  await err.waitFor();
  assert.match(await err.textContent(), /past/i);
  assert.equal((await api(`/api/v1/companies/${company.id}/deals`)).body.data.length, 0, 'nothing was created');
  await page.context().close();
});
