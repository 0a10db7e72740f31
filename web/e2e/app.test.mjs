// Browser tests of signing up, in and out, against a RUNNING tenantgate server started with
// --demo: TENANTGATE_URL=http://127.0.0.1:8080 npm run e2e
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { baseUrl, capture, launch, mailedLink, newAccount, signInWithPassword, watchedContext } from './harness.mjs';

const PASSWORD = 'correct-horse-battery-9';
const WORKSPACE = 'E2E Works';
const TIMEOUT = 15_000;

if (!process.env.TENANTGATE_URL) {
  test('TENANTGATE_URL points at a running tenantgate server', () => {
    baseUrl(); // throws the explanation
  });
}

describe('signing up, in and out', { skip: !process.env.TENANTGATE_URL && 'TENANTGATE_URL is not set' }, () => {
  let origin;
  let runner;
  const email = `e2e-${crypto.randomBytes(6).toString('hex')}@example.com`;

  before(async () => {
    origin = baseUrl();
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
      await fn(page, watched.context);
      await page.waitForTimeout(300);
      assert.deepEqual(watched.problems(), [], 'the pages must load nothing from other origins and log no errors');
    } finally {
      await watched.context.close();
    }
  }

  async function fillSignUp(page) {
    await page.getByLabel(/^Workspace name/).fill(WORKSPACE);
    await page.getByRole('textbox', { name: 'Email' }).fill(email);
    await page.getByLabel(/^Password/).fill(PASSWORD);
  }

  test('sign up, see the workspace, survive a reload and a new tab, sign out everywhere', async () => {
    await withPage(async (page, context) => {
      await page.goto(`${origin}/`);
      await page.waitForURL(/\/auth\/sign-in$/);
      await capture(page, 'sign-in');
      await page.getByRole('link', { name: 'Create a workspace' }).click();
      await page.getByRole('heading', { name: 'Create your workspace' }).waitFor();
      // The form checks its fields before anything is sent.
      await page.getByRole('button', { name: /create workspace/i }).click();
      await page.getByText('Name your workspace').waitFor();
      await fillSignUp(page);
      await capture(page, 'sign-up');
      await page.getByRole('button', { name: /create workspace/i }).click();
      await page.getByTestId('tenant-name').waitFor();
      assert.equal(await page.getByTestId('tenant-name').textContent(), WORKSPACE);
      assert.equal(await page.getByTestId('viewer-role').textContent(), 'owner');
      await capture(page, 'overview');

      await page.reload();
      await page.getByTestId('tenant-name').waitFor();

      // A second tab has no access token of its own: it gets one from the refresh cookie.
      const tab = await context.newPage();
      await tab.goto(`${origin}/`);
      await tab.getByTestId('tenant-name').waitFor();

      // Deep links and the back button.
      await page.goto(`${origin}/no/such/page`);
      await page.getByRole('heading', { name: 'Page not found' }).waitFor();
      await capture(page, 'not-found');
      await page.goBack();
      await page.getByTestId('tenant-name').waitFor();

      await page.getByRole('button', { name: 'Account menu' }).click();
      await page.getByRole('menuitem', { name: 'Sign out' }).click();
      await page.waitForURL(/\/auth\/sign-in/);
      // The other tab hears of it and signs out too.
      await tab.waitForURL(/\/auth\/sign-in/);
      await page.reload();
      await page.waitForURL(/\/auth\/sign-in/);
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    });
  });

  test('signing up again with the same email shows the conflict and its code', async () => {
    await withPage(async (page) => {
      await page.goto(`${origin}/auth/sign-up`);
      await fillSignUp(page);
      await page.getByRole('button', { name: /create workspace/i }).click();
      const alert = page.getByRole('alert');
      await alert.waitFor();
      assert.match(await alert.textContent(), /CONFLICT/);
      assert.ok(await page.getByRole('button', { name: /create workspace/i }).isEnabled());
    });
  });

  test('a wrong password says so; the right one signs in and goes where it was asked', async () => {
    const account = await newAccount(origin);
    await withPage(async (page) => {
      await page.goto(`${origin}/some/deep/link`);
      await page.waitForURL(/\/auth\/sign-in\?next=/);
      await page.getByRole('textbox', { name: 'Email' }).fill(account.email);
      await page.getByLabel(/^Password/).fill('not-the-password-at-all');
      await page.getByRole('button', { name: 'Sign in' }).click();
      const alert = page.getByRole('alert');
      await alert.waitFor();
      assert.match(await alert.textContent(), /UNAUTHENTICATED/);
      await page.getByLabel(/^Password/).fill(account.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(`${origin}/some/deep/link`);
      await page.getByRole('heading', { name: 'Page not found' }).waitFor();
    });
  });

  test('sign in with a magic link from the outbox', async () => {
    const account = await newAccount(origin);
    await withPage(async (page) => {
      await page.goto(`${origin}/auth/sign-in`);
      await page.getByText('With an email link').click();
      await page.getByRole('textbox', { name: 'Email' }).fill(account.email);
      await page.getByRole('button', { name: /email me a sign-in link/i }).click();
      await page.getByText('Check your inbox').waitFor();
      const link = await mailedLink(origin, account.email, 'magic-link');
      await page.goto(link);
      await page.getByTestId('tenant-name').waitFor();
      assert.equal(await page.getByTestId('tenant-name').textContent(), account.tenantName);
      assert.ok(!page.url().includes('token='), 'the token leaves the address bar');
      // A link works once.
      await page.goto(link);
      await page.getByRole('alert').waitFor();
    });
  });

  test('forgot password: the reset link sets a new one and signs in', async () => {
    const account = await newAccount(origin);
    await withPage(async (page) => {
      await page.goto(`${origin}/auth/sign-in`);
      await page.getByRole('link', { name: /forgot your password/i }).click();
      await page.getByRole('textbox', { name: 'Email' }).fill(account.email);
      await capture(page, 'forgot-password');
      await page.getByRole('button', { name: /reset link/i }).click();
      await page.getByText('Check your inbox').waitFor();
      const link = await mailedLink(origin, account.email, 'reset-password');
      await page.goto(link);
      await page.getByLabel(/^New password/).fill('a-brand-new-passphrase-1');
      await page.getByLabel(/^Repeat it/).fill('a-brand-new-passphrase-1');
      await capture(page, 'reset-password');
      await page.getByRole('button', { name: /set password/i }).click();
      await page.getByTestId('tenant-name').waitFor();
    });
    // The new password works.
    await withPage(async (page) => {
      await signInWithPassword(page, origin, account.email, 'a-brand-new-passphrase-1');
    });
  });
});
