// Workflow automation in the app (admins): build a workflow in the editor (a template
// mistake is shown on its field), dry-run it on a record, see it run when the record
// changes, install a built-in template; a rep has no way in.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { DESKTOP, api, newPage, problems, screenshot, signIn } from '../lib.mjs';

const tag = randomUUID().slice(0, 8);

test('build, dry-run and run a workflow from the app', async () => {
  const page = await newPage(DESKTOP);
  await signIn(page);
  await page.getByRole('link', { name: 'Automation' }).click();
  await page.waitForURL(/\/automation$/);
  await page.getByRole('link', { name: '+ New workflow' }).first().click();

  await page.getByLabel('Name').fill(`Stage note ${tag}`);
  await page.getByLabel('Only when this field changes').selectOption('stage');
  await page.locator('#a0-subject').fill('Stage is now {{ deal.nope }}');
  await page.getByRole('button', { name: 'Save workflow' }).click();
  // The server checks templates against the schema when saving.
  await page.locator('.field', { has: page.locator('#a0-subject') }).locator('.field-error').waitFor();
  assert.equal((await api('/api/v1/workflows')).body.data.filter((w) => w.name === `Stage note ${tag}`).length, 0);

  await page.locator('#a0-subject').fill(`Stage is now {{ deal.stage }} (${tag})`);
  await page.getByRole('button', { name: 'Save workflow' }).click();
  await page.waitForURL(/\/automation\/[0-9a-f-]{36}$/);
  const id = page.url().split('/').pop();
  const saved = (await api(`/api/v1/workflows/${id}`)).body;
  assert.equal(saved.trigger.field, 'stage');
  assert.equal(saved.actions[0].type, 'create_activity');

  // Dry run on a deal: shows the rendered note, writes nothing.
  const company = (await api('/api/v1/companies', { method: 'POST', body: { name: `Flow ${tag}` } })).body;
  const deal = (
    await api('/api/v1/deals', { method: 'POST', body: { company_id: company.id, title: `Flow deal ${tag}`, stage: 'Proposal' } })
  ).body;
  await page.locator('#wf-record').fill(`Flow deal ${tag}`);
  await page.getByRole('option', { name: deal.title }).click();
  await page.getByRole('button', { name: 'Dry run' }).click();
  const dry = page.getByTestId('dry-run');
  await dry.waitFor();
  assert.match(await dry.textContent(), new RegExp(`Stage is now ${deal.stage} \\(${tag}\\)`));
  const notes = async () =>
    (await api(`/api/v1/deals/${deal.id}/activities`)).body.data.filter((a) => a.subject.includes(tag));
  assert.equal((await notes()).length, 0, 'a dry run does nothing');

  // A real change runs it in the background; the history shows it.
  const current = (await api(`/api/v1/deals/${deal.id}`)).body;
  const res = await api(`/api/v1/deals/${deal.id}`, {
    method: 'PATCH',
    body: { stage: 'Negotiation' },
    headers: { 'if-match': `"${current.version}"` },
  });
  assert.equal(res.status, 200, res.text);
  await page.locator('.run .badge', { hasText: 'succeeded' }).first().waitFor({ timeout: 30_000 });
  const made = await notes();
  assert.equal(made.length, 1);
  assert.equal(made[0].subject, `Stage is now Negotiation (${tag})`);
  await screenshot(page, 'workflow-desktop');

  // A built-in template installs disabled, for review.
  await page.goto('/automation');
  await page.getByRole('tab', { name: 'Templates' }).click();
  const before = (await api('/api/v1/workflows')).body.data.length;
  await page.locator('.template', { hasText: 'Notify on deal stage change' }).getByRole('button', { name: 'Install' }).click();
  await page.getByText(/Installed “Notify on deal stage change”/).waitFor();
  const after = (await api('/api/v1/workflows')).body.data;
  assert.equal(after.length, before + 1);
  assert.equal(after.find((w) => w.name === 'Notify on deal stage change')?.enabled, false);

  // Territory assignment asks for a default owner first; the installed workflow then
  // opens in the editor and saves back unchanged.
  const territory = page.locator('.template', { hasText: 'territory' });
  assert.equal(await territory.getByRole('button', { name: 'Install' }).isDisabled(), true);
  await territory.locator('select').selectOption({ label: 'Mona Manager' });
  await territory.getByRole('button', { name: 'Install' }).click();
  await page.getByText(/Installed “Auto-assign deals by territory”/).waitFor();
  const installed = (await api('/api/v1/workflows')).body.data.find((w) => w.name === 'Auto-assign deals by territory');
  await page.goto(`/automation/${installed.id}/edit`);
  await page.getByRole('button', { name: 'Save workflow' }).click();
  await page.waitForURL(new RegExp(`/automation/${installed.id}$`));
  const resaved = (await api(`/api/v1/workflows/${installed.id}`)).body;
  assert.deepEqual(resaved.actions, installed.actions);

  assert.deepEqual(problems(page), []);
  await page.context().close();
});

test('a rep sees no automation and is refused by the server', async () => {
  const page = await newPage(DESKTOP);
  await signIn(page, 'rep');
  assert.equal(await page.getByRole('link', { name: 'Automation' }).count(), 0);
  await page.goto('/automation');
  await page.getByRole('alert').first().waitFor();
  assert.equal((await api('/api/v1/workflows', { as: 'rep' })).status, 403);
  await page.context().close();
});
