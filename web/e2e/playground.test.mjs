// Browser tests of the GraphQL playground (/playground) against a RUNNING tenantgate server:
// TENANTGATE_URL=http://127.0.0.1:8080 node --test e2e/playground.test.mjs
// The schema loads (GraphiQL's real introspection query, no 4xx), the docs panel finds
// `Query`, the app's session (sessionStorage) is in the headers and runs an operation,
// `?example=<page>` opens that page's operations, and axe finds nothing serious.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { baseUrl, capture, launch, newAccount, watchedContext } from './harness.mjs';

const TIMEOUT = 20_000;
const TOKEN_KEY = 'tenantgate.accessToken';

if (!process.env.TENANTGATE_URL) {
  test('TENANTGATE_URL points at a running tenantgate server', () => {
    baseUrl(); // throws the explanation
  });
}

describe('playground', { skip: !process.env.TENANTGATE_URL && 'TENANTGATE_URL is not set' }, () => {
  let origin;
  let runner;

  let account; // one sign-up for the file (sign-ups are budgeted per address)

  before(async () => {
    origin = baseUrl();
    runner = await launch();
    account = await newAccount(origin, 'e2e-pg');
  });

  after(async () => {
    await runner?.close();
  });

  /**
   * A watched page with `token` in sessionStorage (as the app leaves it), recording every
   * /graphql answer; `done()` checks that nothing went wrong.
   */
  async function open(token) {
    const watched = await watchedContext(runner.browser, origin);
    if (token) {
      await watched.context.addInitScript(
        ([key, value, at]) => {
          if (window.location.origin === at) window.sessionStorage.setItem(key, value);
        },
        [TOKEN_KEY, token, origin],
      );
    }
    const page = await watched.context.newPage();
    page.setDefaultTimeout(TIMEOUT);
    const answers = [];
    page.on('response', (res) => {
      if (new URL(res.url()).pathname === '/graphql') answers.push(res.status());
    });
    return {
      page,
      answers,
      async done() {
        await page.waitForTimeout(300);
        const problems = watched.problems();
        await watched.context.close();
        assert.deepEqual(problems, [], 'the playground loads nothing from other origins and logs no errors');
      },
    };
  }

  /** Waits for GraphiQL and for the schema (the docs button works once it is loaded). */
  async function loaded(page, path = '/playground') {
    await page.goto(`${origin}${path}`);
    await page.locator('.graphiql-query-editor .CodeMirror').waitFor();
    await page.waitForFunction(() => !document.querySelector('.graphiql-spinner'));
  }

  /** The text of a CodeMirror editor under `selector`. */
  function editorText(page, selector) {
    return page.locator(selector).first().evaluate((el) => el.CodeMirror.getValue());
  }

  async function run(page, operation) {
    await page
      .locator('.graphiql-query-editor .CodeMirror')
      .evaluate((el, text) => el.CodeMirror.setValue(text), operation);
    // GraphiQL reads the operation's name from the editor a moment after a change.
    await page.waitForTimeout(700);
    await page.getByRole('button', { name: 'Execute query (Ctrl-Enter)' }).click();
    await page.waitForFunction(() => {
      const el = document.querySelector('.graphiql-response .CodeMirror');
      return el && el.CodeMirror.getValue().trim().startsWith('{');
    });
    return JSON.parse(await editorText(page, '.graphiql-response .CodeMirror'));
  }

  test('loads the schema, finds Query in the docs, runs an operation with the session', async () => {
    const { page, answers, done } = await open(account.token);
    await loaded(page);
    // The introspection query ran and nothing on load was refused.
    await page.waitForTimeout(500);
    assert.ok(answers.length > 0, 'the schema was fetched');
    assert.deepEqual(answers.filter((s) => s >= 400), [], `answers on load: ${answers.join(', ')}`);

    // The session's token is in the headers editor.
    const headers = JSON.parse(await editorText(page, '.graphiql-editor-tool .graphiql-editor:nth-child(2) .CodeMirror'));
    assert.equal(headers.Authorization, `Bearer ${account.token}`);

    // The docs panel shows the schema, from Query down to its fields.
    await page.getByRole('button', { name: 'Show Documentation Explorer' }).click();
    const docs = page.locator('.graphiql-doc-explorer');
    await docs.getByRole('link', { name: 'Query', exact: true }).click();
    await docs.getByRole('link', { name: 'viewer', exact: true }).waitFor();
    await capture(page, 'playground-docs');
    await page.getByRole('button', { name: 'Hide Documentation Explorer' }).click();

    // An operation runs as the signed-in user.
    const result = await run(page, '{ viewer { user { email } } }');
    assert.equal(result.data?.viewer?.user?.email, account.email, JSON.stringify(result));
    // Nothing of the token outlives the session: GraphiQL's history, favorites and tabs in
    // localStorage carry no headers.
    const stored = await page.evaluate(() => JSON.stringify(Object.entries(localStorage)));
    assert.ok(!stored.includes('Bearer') && !stored.includes(account.token), 'no token in localStorage');
    await capture(page, 'playground');

    // A reload brings the tabs back, still with the session in the headers.
    await page.reload();
    await page.locator('.graphiql-query-editor .CodeMirror').waitFor();
    const again = JSON.parse(await editorText(page, '.graphiql-editor-tool .graphiql-editor:nth-child(2) .CodeMirror'));
    assert.equal(again.Authorization, `Bearer ${account.token}`);
    await done();
  });

  test('?example=keys opens the API keys examples, which run', async () => {
    const { page, answers, done } = await open(account.token);
    await loaded(page, '/playground?example=keys');
    // GraphiQL's tabs, as a list of buttons (see src/playground/a11y.ts).
    const tabs = page.locator('.graphiql-tabs .graphiql-tab-button');
    await tabs.first().waitFor();
    assert.equal(await tabs.count(), 3, 'three example tabs');
    assert.match(await tabs.nth(0).textContent(), /Keys/);
    assert.match(await tabs.nth(1).textContent(), /CreateKey/);
    assert.equal(await tabs.nth(0).getAttribute('aria-current'), 'true');
    // The first tab (the keys with their usage) runs with its variables.
    await page.getByRole('button', { name: 'Execute query (Ctrl-Enter)' }).click();
    await page.waitForFunction(() => {
      const el = document.querySelector('.graphiql-response .CodeMirror');
      return el && el.CodeMirror.getValue().includes('apiKeys');
    });
    const keys = JSON.parse(await editorText(page, '.graphiql-response .CodeMirror'));
    assert.equal(keys.errors, undefined, JSON.stringify(keys.errors));
    assert.deepEqual(keys.data.tenant.apiKeys.nodes, []);
    // Creating a key from the second tab answers its secret.
    await tabs.nth(1).click();
    await page.waitForFunction(() =>
      document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.getValue().includes('createApiKey'),
    );
    assert.equal(await tabs.nth(1).getAttribute('aria-current'), 'true');
    assert.equal(await tabs.nth(0).getAttribute('aria-current'), null);
    await page.waitForTimeout(300);
    await page.getByRole('button', { name: 'Execute query (Ctrl-Enter)' }).click();
    await page.waitForFunction(() => {
      const el = document.querySelector('.graphiql-response .CodeMirror');
      return el && el.CodeMirror.getValue().includes('secret');
    });
    const made = JSON.parse(await editorText(page, '.graphiql-response .CodeMirror'));
    assert.match(made.data.createApiKey.secret, /^tg_test_/);
    assert.deepEqual(answers.filter((s) => s >= 400), []);
    await capture(page, 'playground-example-keys');
    await done();
  });

  test('signed out: no headers, the schema still loads, axe finds nothing serious', async () => {
    const { page, answers, done } = await open(null);
    await loaded(page);
    await page.waitForTimeout(500);
    assert.deepEqual(answers.filter((s) => s >= 400), []);
    assert.match(await editorText(page, '.graphiql-query-editor .CodeMirror'), /Sign in at \//);
    await page.getByRole('button', { name: 'Show Documentation Explorer' }).click();
    await page.locator('.graphiql-doc-explorer').getByRole('link', { name: 'Query', exact: true }).waitFor();
    await capture(page, 'playground-signed-out');
    await done();
  });
});
