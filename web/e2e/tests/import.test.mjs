// Import a spreadsheet from the app: the mapping the server proposes, a check that
// reports bad rows and writes nothing, then the import itself.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { DESKTOP, api, newPage, problems, screenshot, signIn } from '../lib.mjs';

const tag = randomUUID().slice(0, 6);

test('import contacts from a CSV file, after a check that finds a bad row', async () => {
  const page = await newPage(DESKTOP);
  await signIn(page);
  await page.goto('/import');
  await page.getByLabel('Import into').selectOption('contacts');
  const bad = [
    'First Name,Last Name,E-mail Address,Company Name,Job Title',
    `Ada,Lovelace,ada-${tag}@engines.example,Engines ${tag},Analyst`,
    `Charles,Babbage,not-an-email,Engines ${tag},Inventor`,
  ].join('\n');
  await page.getByLabel('CSV file').setInputFiles({ name: 'people.csv', mimeType: 'text/csv', buffer: Buffer.from(bad) });
  const mapping = page.getByTestId('mapping');
  await mapping.waitFor();
  assert.equal(await page.getByLabel('Field for E-mail Address').inputValue(), 'email');
  assert.equal(await page.getByLabel('Field for Job Title').inputValue(), 'title');
  await page.getByLabel('Create companies that do not exist yet').check();

  await page.getByRole('button', { name: 'Check file' }).click();
  const report = page.getByTestId('import-report');
  await report.waitFor();
  assert.match(await report.textContent(), /1 of 2 rows have errors/);
  assert.match(await report.textContent(), /email/i);
  const found = async () => (await api(`/api/v1/contacts?q=${encodeURIComponent(`ada-${tag}`)}`)).body.data;
  assert.equal((await found()).length, 0, 'a check writes nothing');
  await screenshot(page, 'import-check-desktop');

  const good = bad.replace('not-an-email', `charles-${tag}@engines.example`);
  await page.getByLabel('CSV file').setInputFiles({ name: 'people.csv', mimeType: 'text/csv', buffer: Buffer.from(good) });
  await mapping.waitFor();
  await page.getByLabel('Create companies that do not exist yet').check();
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  await page.getByText(/Imported: 2 created, 0 updated, 1 companies created/).waitFor();
  const ada = await found();
  assert.equal(ada.length, 1);
  assert.equal(ada[0].title, 'Analyst');
  const company = (await api(`/api/v1/companies/${ada[0].company_id}`)).body;
  assert.equal(company.name, `Engines ${tag}`);
  await page.getByRole('region', { name: 'Past imports' }).getByText('people.csv').first().waitFor();
  assert.deepEqual(problems(page), []);
  await page.context().close();
});
