// GraphiQL in the app (/graphiql): reached from the user menu and from the old explorer at
// /api/graphql, it loads offline under the app's CSP, completes field names from the
// schema, runs a query with the session cookie and shows the same result the API gives.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BASE_URL, DESKTOP, SEED, USERS, api, newPage, problems, screenshot, signIn } from '../lib.mjs';

const QUERY = '{ companies(first: 2) { edges { node { name } } } }';

/** The text of the CodeMirror editor inside the GraphiQL pane `selector`. */
function editorValue(page, selector) {
  return page.evaluate((sel) => document.querySelector(`${sel} .CodeMirror`)?.CodeMirror?.getValue() ?? null, selector);
}

test('the explorer at /api/graphql links to GraphiQL', async () => {
  const res = await fetch(`${BASE_URL}/api/graphql`, { headers: { accept: 'text/html' } });
  assert.equal(res.status, 200);
  assert.match(await res.text(), /href="\/graphiql"/);
});

for (const who of ['admin', 'rep']) {
  test(`GraphiQL completes and runs a query with the session (${who})`, async () => {
    const page = await newPage(DESKTOP);
    const violations = [];
    await page.exposeFunction('__cspViolation', (v) => violations.push(v));
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) =>
        window.__cspViolation(`${e.violatedDirective} ${e.blockedURI}`),
      );
    });
    await signIn(page, USERS[who]);

    // From the user menu.
    await page.getByRole('button', { name: 'User menu' }).click();
    await page.getByRole('menuitem', { name: 'GraphQL explorer' }).click();
    await page.waitForURL((url) => url.pathname === '/graphiql');
    const editor = page.locator('.graphiql-query-editor .CodeMirror');
    await editor.waitFor();

    // Autocompletion from the introspected schema: "{ compa" offers `companies`.
    await editor.click();
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Delete');
    await page.keyboard.type('{ compa');
    await page.keyboard.press('Control+Space');
    const hints = page.locator('.CodeMirror-hints');
    await hints.getByText('companies', { exact: true }).first().waitFor();

    // Run the query: the result is what POST /api/graphql answers for the same user.
    await page.keyboard.press('Escape');
    await page.evaluate((q) => document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(q), QUERY);
    await page.getByRole('button', { name: /Execute query/ }).click();
    const expected = (await api('/api/graphql', { method: 'POST', body: { query: QUERY }, as: who })).body;
    assert.ok(expected?.data?.companies?.edges?.length > 0, JSON.stringify(expected));
    let shown = null;
    for (let i = 0; i < 50; i++) {
      const text = await editorValue(page, '.graphiql-response');
      if (text && text.includes('"companies"')) {
        shown = JSON.parse(text);
        break;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.deepEqual(shown, expected);
    if (who === 'rep') {
      // The policy applies as in REST: another rep's company is not in this rep's answer.
      assert.ok(!JSON.stringify(shown).includes(SEED.rep2.company.name), JSON.stringify(shown));
    }
    await screenshot(page, `graphiql-${who}`);
    assert.deepEqual(problems(page), []);
    assert.deepEqual(violations, []);
    await page.context().close();
  });
}
