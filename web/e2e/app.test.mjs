// Browser tests against a RUNNING tenantgate server: TENANTGATE_URL=http://127.0.0.1:8080 npm run e2e
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { baseUrl, launch, screenshot, watchedContext } from './harness.mjs';

const PASSWORD = 'correct-horse-battery-9';
const WORKSPACE = 'E2E Works';
const TIMEOUT = 15_000;

if (!process.env.TENANTGATE_URL) {
  test('TENANTGATE_URL points at a running tenantgate server', () => {
    baseUrl(); // throws the explanation
  });
}

describe('tenantgate web', { skip: !process.env.TENANTGATE_URL && 'TENANTGATE_URL is not set' }, () => {
  let origin;
  let runner;
  const email = `e2e-${crypto.randomBytes(6).toString('hex')}@example.com`;

  before(async () => {
    origin = baseUrl(); // throws a clear error when TENANTGATE_URL is unset
    runner = await launch();
  });

  after(async () => {
    await runner?.close();
  });

  async function withPage(fn) {
    const watched = await watchedContext(runner.browser, origin);
    const page = await watched.context.newPage();
    page.setDefaultTimeout(TIMEOUT);
    try {
      await fn(page);
      // Let late console messages / requests land before judging.
      await page.waitForTimeout(300);
      assert.deepEqual(watched.problems(), [], 'the pages must load nothing from other origins and log no errors');
      assert.ok(watched.requests().length > 0, 'requests were observed');
    } finally {
      await watched.context.close();
    }
  }

  async function fillSignUp(page) {
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByLabel('Workspace name').fill(WORKSPACE);
  }

  test('sign up through the form, see the viewer, survive a reload, sign out', async () => {
    await withPage(async (page) => {
      await page.goto(`${origin}/`);
      await page.getByRole('heading', { name: 'Create your workspace' }).waitFor();
      assert.equal(await page.getByRole('link', { name: /playground/i }).first().getAttribute('href'), '/playground');
      await fillSignUp(page);
      await screenshot(page, 'app-sign-up-form');

      const submit = page.getByRole('button', { name: /create workspace/i });
      // Record whether the submit button gets disabled while the request is in flight.
      await submit.evaluate((button) => {
        window.__submitWasDisabled = false;
        new MutationObserver(() => {
          if (button.disabled) window.__submitWasDisabled = true;
        }).observe(button, { attributes: true });
      });
      await submit.click();
      const viewer = page.getByTestId('viewer');
      await viewer.waitFor();
      assert.equal(await page.getByTestId('viewer-email').textContent(), email);
      assert.equal(await page.getByTestId('viewer-tenant-name').textContent(), WORKSPACE);
      assert.match(await page.getByTestId('viewer-role').textContent(), /^owner$/i);
      assert.match(await page.getByTestId('viewer-tenant-slug').textContent(), /\S/);
      assert.equal(await page.evaluate(() => window.__submitWasDisabled), true, 'submit disables while in flight');
      await screenshot(page, 'app-signed-in');

      await page.reload();
      await viewer.waitFor();
      assert.equal(await page.getByTestId('viewer-email').textContent(), email, 'still signed in after a reload');

      // The playground picks up the session: the headers editor holds the bearer token and
      // the default Viewer query runs as this user.
      await page.goto(`${origin}/playground`);
      const headersEditor = page.locator('.graphiql-editor-tool .CodeMirror').last();
      await headersEditor.waitFor();
      assert.match(await headersEditor.textContent(), /"Authorization":\s*"Bearer \S+"/);
      await page.getByRole('button', { name: /execute query/i }).click();
      await page.waitForFunction(
        (expected) => document.querySelector('.graphiql-response .result-window')?.textContent?.includes(expected),
        email,
        { timeout: TIMEOUT },
      );
      await screenshot(page, 'playground-signed-in');

      await page.goto(`${origin}/`);
      await viewer.waitFor();
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Create your workspace' }).waitFor();
      await page.reload();
      await page.getByRole('heading', { name: 'Create your workspace' }).waitFor();
      assert.equal(await page.getByTestId('viewer').count(), 0, 'signed out stays signed out');
    });
  });

  test('signing up again with the same email shows the conflict', async () => {
    await withPage(async (page) => {
      await page.goto(`${origin}/`);
      await fillSignUp(page);
      await page.getByRole('button', { name: /create workspace/i }).click();
      const alert = page.getByRole('alert');
      await alert.waitFor();
      const text = await alert.textContent();
      assert.match(text, /CONFLICT/);
      assert.equal(await page.getByTestId('viewer').count(), 0);
      assert.ok(await page.getByRole('button', { name: /create workspace/i }).isEnabled(), 'the form can be resubmitted');
      await screenshot(page, 'app-conflict');
    });
  });

  test('the playground renders GraphiQL and runs { __typename }', async () => {
    await withPage(async (page) => {
      await page.goto(`${origin}/playground`);
      const editor = page.locator('.graphiql-query-editor .CodeMirror');
      await editor.waitFor();
      // The schema was introspected (the docs explorer button is enabled once it has).
      await page.locator('.graphiql-container').waitFor();

      await editor.click();
      await page.keyboard.press('Control+A');
      await page.keyboard.press('Delete');
      // insertText does not fire key events, so CodeMirror's bracket auto-closing stays out.
      await page.keyboard.insertText('{ __typename }');
      // GraphiQL re-parses the operation (and forgets the old operation name) after a 100 ms debounce.
      await page.waitForTimeout(500);
      await page.getByRole('button', { name: /execute query/i }).click();

      const result = page.locator('.graphiql-response .result-window');
      await page.waitForFunction(
        () => document.querySelector('.graphiql-response .result-window')?.textContent?.includes('"Query"'),
        null,
        { timeout: TIMEOUT },
      );
      assert.match(await result.textContent(), /"__typename":\s*"Query"/);
      await screenshot(page, 'playground');
    });
  });
});
