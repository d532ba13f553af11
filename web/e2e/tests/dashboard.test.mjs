// The dashboard shows the server's figures: each card equals GET /api/v1/dashboard for
// the same viewer, and a rep's dashboard leaves out what the rep may not see.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DESKTOP, api, newPage, problems, screenshot, signIn, usd } from '../lib.mjs';

const today = new Date().toISOString().slice(0, 10); // the browser runs in UTC (lib.mjs)


for (const who of ['admin', 'rep']) {
  test(`dashboard figures equal the API's aggregates (${who})`, async () => {
    // A won deal this month, so the figures are not all zero.
    const company = (await api('/api/v1/companies', { method: 'POST', body: { name: `Dash ${who} ${Date.now()}` }, as: who }))
      .body;
    const won = await api('/api/v1/deals', {
      method: 'POST',
      body: { company_id: company.id, title: 'Won deal', amount: 777_700, stage: 'Closed Won' },
      as: who,
    });
    assert.equal(won.status, 201, won.text);

    const page = await newPage(DESKTOP);
    await signIn(page, who);
    await page.goto('/');
    await page.getByTestId('stat-won').waitFor();
    const d = (await api(`/api/v1/dashboard?today=${today}`, { as: who })).body;
    assert.ok(d.won_this_month.amount >= 777_700);

    const text = async (id) => (await page.getByTestId(id).textContent()) ?? '';
    assert.match(await text('stat-won'), new RegExp(`^Won this month\\${usd(d.won_this_month.amount)}`));
    assert.match(await text('stat-won'), new RegExp(`${d.won_this_month.count} deals`));
    assert.match(await text('stat-closing-7'), new RegExp(`^Closing in 7 days${d.closing_next_7_days.count}`));
    assert.match(await text('stat-closing-30'), new RegExp(`^Closing in 30 days${d.closing_next_30_days.count}`));
    const rate = d.conversion.rate === null ? '—' : `${new Intl.NumberFormat('en-US', { style: 'percent', maximumFractionDigits: 1 }).format(d.conversion.rate)}`;
    assert.ok((await text('stat-conversion')).includes(rate), `conversion ${rate}`);

    // Open deals by stage: the legend under the chart, per stage.
    await page.getByTestId('open-by-stage').waitFor();
    for (const s of d.open_by_stage) {
      const li = page.locator(`[data-testid=open-by-stage] li[data-stage="${s.stage}"]`);
      assert.match(await li.textContent(), new RegExp(`${s.count} deals\\s*\\${usd(s.amount)}`));
    }
    // …which are the pipeline's own aggregates for open stages.
    const agg = (await api('/api/v1/deals/aggregate?group_by=stage', { as: who })).body;
    for (const s of d.open_by_stage) {
      const g = agg.groups.find((x) => x.key === s.stage);
      assert.equal(s.count, g?.count ?? 0, s.stage);
    }

    const rows = page.locator('[data-testid=top-companies] tbody tr');
    assert.equal(await rows.count(), d.top_companies.length);
    if (d.top_companies[0]) assert.match(await rows.first().textContent(), new RegExp(usd(d.top_companies[0].amount).replace('$', '\\$')));

    // Two canvases: revenue by month and open deals by stage.
    await page.locator('canvas').nth(1).waitFor();
    await screenshot(page, `dashboard-${who}-desktop`);
    assert.deepEqual(problems(page), []);
    await page.context().close();
  });
}
