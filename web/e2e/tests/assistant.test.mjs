// The assistant in the app, with no model configured (the built-in engine): answers
// that cite records, a proposed change that happens only on Confirm, an email draft from
// a contact page, a meeting summary on a deal page; and a phone-width chat.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { DESKTOP, PHONE, SEED, api, newPage, problems, screenshot, signIn } from '../lib.mjs';

const tag = randomUUID().slice(0, 6);

test('ask, follow a cited record, and confirm a proposed change', async () => {
  const page = await newPage(DESKTOP);
  await signIn(page, 'rep');
  await page.getByRole('button', { name: /Ask Keel/ }).click();
  const panel = page.getByRole('complementary', { name: 'Assistant' });
  await panel.getByLabel('Ask the assistant').fill('Who is the contact at Acme Anvils?');
  await panel.getByRole('button', { name: 'Send' }).click();
  const answer = panel.getByTestId('msg-assistant').last();
  await answer.waitFor();
  assert.match(await answer.textContent(), /Wile Coyote/);
  await answer.getByRole('link', { name: 'Wile Coyote' }).waitFor();

  // A write is only a proposal until confirmed.
  const subject = `Call about renewal ${tag}`;
  await panel.getByLabel('Ask the assistant').fill(`Log a call with Wile Coyote about renewal ${tag}`);
  await panel.getByRole('button', { name: 'Send' }).click();
  const proposal = panel.getByTestId('proposal').last();
  await proposal.waitFor();
  const calls = async () =>
    (await api(`/api/v1/contacts/${SEED.rep.contact.id}/activities`, { as: 'rep' })).body.data.filter((a) =>
      a.subject.includes(tag),
    );
  assert.equal((await calls()).length, 0, 'nothing written before Confirm');
  await proposal.getByRole('button', { name: 'Confirm' }).click();
  await proposal.getByText('✓ Done').waitFor();
  const logged = await calls();
  assert.equal(logged.length, 1, JSON.stringify(logged));
  assert.equal(logged[0].type, 'Call');
  assert.ok(logged[0].subject.includes(tag), subject);
  await screenshot(page, 'assistant-desktop');

  await panel.getByTestId('msg-assistant').first().getByRole('link', { name: 'Wile Coyote' }).click();
  await page.waitForURL(new RegExp(`/contacts/${SEED.rep.contact.id}$`));
  assert.deepEqual(problems(page), []);
  await page.context().close();
});

test('compose an email from a contact and summarise a meeting on a deal', async () => {
  const page = await newPage(DESKTOP);
  await signIn(page, 'rep');
  await page.goto(`/contacts/${SEED.rep.contact.id}`);
  await page.getByRole('button', { name: /Compose email/ }).click();
  let dialog = page.getByRole('dialog');
  await dialog.getByLabel('Purpose').selectOption('check_in');
  await dialog.getByRole('button', { name: 'Write draft' }).click();
  await dialog.getByLabel('Subject').waitFor();
  assert.ok((await dialog.getByLabel('Subject').inputValue()).length > 0);
  assert.match(await dialog.getByLabel('Body').inputValue(), /Wile/);
  await dialog.getByRole('button', { name: 'Close' }).click();

  await page.goto(`/deals/${SEED.rep.deal.id}`);
  await page.getByRole('button', { name: /Summarise meeting/ }).click();
  dialog = page.getByRole('dialog');
  await dialog
    .getByLabel('Transcript or notes')
    .fill(
      'We reviewed the yearly order. The customer liked the pricing and wants to move forward.\n' +
        'Wile will send the signed order form by Friday.\nNext step: schedule the kickoff call.',
    );
  await dialog.getByRole('button', { name: 'Summarise' }).click();
  const summary = dialog.getByTestId('meeting-summary');
  await summary.waitFor();
  assert.match(await summary.textContent(), /order form/i);
  await screenshot(page, 'meeting-summary-desktop');
  await page.context().close();
});

test('phone: the assistant takes the whole screen', async () => {
  const page = await newPage(PHONE);
  await signIn(page, 'rep');
  await page.getByRole('button', { name: /Ask Keel/ }).click();
  const panel = page.getByRole('complementary', { name: 'Assistant' });
  const box = await panel.boundingBox();
  assert.ok(box && box.width >= PHONE.width - 1, `panel is ${box?.width}px wide`);
  await panel.getByRole('button', { name: 'Which deals are in negotiation?' }).click();
  await panel.getByTestId('msg-assistant').waitFor();
  await screenshot(page, 'assistant-phone');
  await panel.getByRole('button', { name: 'Close assistant' }).click();
  await panel.waitFor({ state: 'detached' });
  await page.context().close();
});

test('a pending proposal opened by its link (as an MCP client gives it) is confirmed on its page', async () => {
  // The change an AI client prepared over MCP without elicitation: a stored proposal.
  const asked = await api('/api/v1/assistant/chat', {
    as: 'rep',
    method: 'POST',
    body: { message: `Log a call with Wile Coyote about pricing ${tag}` },
  });
  const proposal = asked.body.proposals[0];
  assert.ok(proposal, JSON.stringify(asked.body));
  const calls = async () =>
    (await api(`/api/v1/contacts/${SEED.rep.contact.id}/activities`, { as: 'rep' })).body.data.filter((a) =>
      a.subject.toLowerCase().includes(`pricing ${tag}`),
    );
  const page = await newPage(DESKTOP);
  await signIn(page, 'rep');
  await page.goto(`/assistant/proposals/${proposal.id}`);
  const card = page.getByTestId('proposal');
  await card.waitFor();
  assert.ok((await card.textContent()).toLowerCase().includes(`pricing ${tag}`), await card.textContent());
  assert.equal((await calls()).length, 0, 'nothing written before Confirm');
  await card.getByRole('button', { name: 'Confirm' }).click();
  await card.getByText('✓ Done').waitFor();
  assert.equal((await calls()).length, 1);
  assert.deepEqual(problems(page), []);
  await page.context().close();
});
