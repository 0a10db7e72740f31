// Browser tests of signing up, in and out, against a RUNNING tenantgate server started with
// --demo: TENANTGATE_URL=http://127.0.0.1:8080 npm run e2e
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { baseUrl, capture, gql, launch, logIn, mailedLink, newAccount, signInWithPassword, watchedContext } from './harness.mjs';

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

  test('a user of two workspaces switches between them; another tab follows', async () => {
    // grace (owner of Globex) joins Acme as a member through an invitation from ada; she
    // leaves again at the end, so the demo data stays as the other files expect it.
    const ada = await logIn(origin, 'ada@acme.test');
    const acmeId = (await gql(origin, '{ viewer { tenant { id } } }', {}, ada)).viewer.tenant.id;
    const invited = await gql(
      origin,
      'mutation($i: InviteMemberInput!) { inviteMember(input: $i) { id } }',
      { i: { email: 'grace@globex.test', role: 'MEMBER' } },
      ada,
    );
    assert.ok(invited.inviteMember.id);
    const link = new URL(await mailedLink(origin, 'grace@globex.test', 'accept-invitation'));
    const grace = await logIn(origin, 'grace@globex.test');
    const joined = await gql(
      origin,
      'mutation($i: AcceptInvitationInput!) { acceptInvitation(input: $i) { user { id } } }',
      { i: { token: link.searchParams.get('token') } },
      grace,
    );
    try {
      await withPage(async (page, context) => {
        await signInWithPassword(page, origin, 'grace@globex.test');
        const before = await page.getByTestId('tenant-name').textContent();
        const other = before === 'Globex' ? 'Acme Corporation' : 'Globex';
        const tab = await context.newPage();
        await tab.goto(`${origin}/`);
        await tab.getByTestId('tenant-name').waitFor();
        assert.equal(await tab.getByTestId('tenant-name').textContent(), before);

        const workspace = page.getByRole('textbox', { name: 'Workspace', exact: true });
        await workspace.click();
        await page.getByRole('option', { name: new RegExp(`^${other} \\(`) }).click();
        await page.getByTestId('tenant-name').filter({ hasText: other }).waitFor();
        assert.equal(await page.getByTestId('viewer-role').textContent(), other === 'Globex' ? 'owner' : 'member');
        await capture(page, 'tenant-switched');
        // The other tab hears of it and follows.
        await tab.getByTestId('tenant-name').filter({ hasText: other }).waitFor();
        // A reload stays in the chosen workspace (the session's default moved).
        await page.reload();
        await page.getByTestId('tenant-name').filter({ hasText: other }).waitFor();
      });
    } finally {
      const acme = await logIn(origin, 'grace@globex.test');
      await gql(origin, 'mutation($t: ID!) { switchTenant(tenantId: $t) { accessToken } }', { t: acmeId }, acme)
        .then((d) => gql(origin, 'mutation { leaveTenant }', {}, d.switchTenant.accessToken))
        .catch(async () => {
          const id = joined.acceptInvitation.user.id;
          await gql(origin, 'mutation($u: ID!) { removeMember(userId: $u) }', { u: id }, ada);
        });
    }
  });

  test('signing in as someone else in another tab: this tab follows, nothing of the first user stays', async () => {
    await withPage(async (page, context) => {
      await signInWithPassword(page, origin, 'bob@acme.test');
      await page.getByTestId('tenant-name').filter({ hasText: 'Acme Corporation' }).waitFor();
      // hank's sign-in link, opened in another tab of the same browser.
      await gql(origin, 'mutation { requestMagicLink(email: "hank@globex.test") }');
      const link = await mailedLink(origin, 'hank@globex.test', 'magic-link');
      const tab = await context.newPage();
      await tab.goto(link);
      await tab.getByTestId('tenant-name').filter({ hasText: 'Globex' }).waitFor();
      // The cookie is shared: the first tab now acts as hank, with a new cache.
      await page.getByTestId('tenant-name').filter({ hasText: 'Globex' }).waitFor();
      assert.equal(await page.getByTestId('viewer-role').textContent(), 'viewer');
      assert.ok(!(await page.content()).includes('bob@acme.test'), 'nothing of bob is left on the page');
    });
  });
});
