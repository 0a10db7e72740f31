// Browser tests of erasure against a RUNNING tenantgate server started with --demo:
// TENANTGATE_URL=http://127.0.0.1:8080 node --test e2e/erasure.test.mjs
// An owner deletes the workspace from Settings (typing its slug; the server's
// REAUTHENTICATION_REQUIRED makes the dialog ask for the password and sign in again),
// every page shows the deletion banner, the owner cancels; a person deletes their
// account (refused while they are the last owner of a workspace, which the dialog lists).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { adminToken, baseUrl, capture, DEMO_ADMIN, gql, launch, mailedLink, newAccount, signInWithPassword, watchedContext } from './harness.mjs';

const TIMEOUT = 15_000;

if (!process.env.TENANTGATE_URL) {
  test('TENANTGATE_URL points at a running tenantgate server', () => {
    baseUrl(); // throws the explanation
  });
}

describe('erasure', { skip: !process.env.TENANTGATE_URL && 'TENANTGATE_URL is not set' }, () => {
  let origin;
  let runner;
  /** The first test's workspace, which the last one purges. */
  let kept;

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
      await fn(page);
      await page.waitForTimeout(300);
      assert.deepEqual(watched.problems(), [], 'the pages must load nothing from other origins and log no errors');
    } finally {
      await watched.context.close();
    }
  }

  test('an owner deletes the workspace after signing in again, sees the banner everywhere, and cancels', async () => {
    const owner = await newAccount(origin, 'erase');
    kept = owner;
    await withPage(async (page) => {
      await signInWithPassword(page, origin, owner.email, owner.password);
      await page.getByRole('link', { name: 'Settings' }).click();
      await page.getByTestId('danger-zone').waitFor();
      await capture(page, 'settings-danger-zone');
      const { tenant } = await gql(origin, '{ tenant { slug } }', {}, owner.token);

      // The first attempt is answered as a stale sign-in would be: the dialog asks for the
      // password, signs in again and retries (the server's rule is tested in Rust).
      let stale = true;
      await page.route('**/graphql', async (route) => {
        const body = route.request().postData() ?? '';
        if (stale && body.includes('DeleteTenant')) {
          stale = false;
          await route.fulfill({
            status: 200,
            contentType: 'application/graphql-response+json',
            body: JSON.stringify({
              data: null,
              errors: [
                {
                  message: 'this needs a sign-in of the last 5 minutes: sign in again (password or email link), then retry',
                  path: ['deleteTenant'],
                  extensions: { code: 'REAUTHENTICATION_REQUIRED', requestId: 'e2e-stale' },
                },
              ],
            }),
          });
          return;
        }
        await route.fallback();
      });

      await page.getByRole('button', { name: 'Delete workspace…' }).click();
      const dialog = page.getByRole('dialog');
      const confirm = dialog.getByRole('button', { name: 'Delete workspace' });
      assert.equal(await confirm.isDisabled(), true, 'nothing is deleted before the slug is typed');
      await dialog.getByLabel(/Type the workspace's slug/).fill(tenant.slug);
      await capture(page, 'delete-workspace-dialog');
      await confirm.click();
      await dialog.getByTestId('reauthenticate').waitFor();
      await dialog.getByLabel(/^Password/).fill(owner.password);
      await capture(page, 'delete-workspace-sign-in-again');
      await dialog.getByRole('button', { name: 'Sign in and continue' }).click();
      await page.getByTestId('deletion-banner').waitFor();
      await page.unroute('**/graphql');
      assert.match(await page.getByTestId('deletion-banner').textContent(), /will be erased on/);
      await page.getByText('Workspace scheduled for deletion').waitFor();
      // (The notification goes by itself: the banner is the page's state.)
      await page.getByText('Workspace scheduled for deletion').waitFor({ state: 'detached', timeout: 10_000 });
      await capture(page, 'deletion-banner');

      // Reads go on; changes are refused with their own code.
      await page.getByRole('link', { name: 'Team' }).click();
      await page.getByTestId('deletion-banner').waitFor();
      const refused = await fetch(`${origin}/graphql`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${owner.token}` },
        body: JSON.stringify({ query: 'mutation { updateTenant(input: { name: "Nope" }) { name } }' }),
      }).then((r) => r.json());
      assert.equal(refused.errors[0].extensions.code, 'TENANT_PENDING_DELETION');

      await page.getByTestId('deletion-banner').getByRole('button', { name: 'Cancel deletion' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Cancel deletion' }).click();
      await page.getByText('Deletion cancelled').waitFor();
      await page.getByTestId('deletion-banner').waitFor({ state: 'detached' });
      const { tenant: now } = await gql(origin, '{ tenant { status } }', {}, owner.token);
      assert.equal(now.status, 'ACTIVE');
    });
  });

  test('deleting my account is refused while I am the last owner, then erases me', async () => {
    const leaver = await newAccount(origin, 'leave');
    const helper = await newAccount(origin, 'help');
    await withPage(async (page) => {
      await signInWithPassword(page, origin, leaver.email, leaver.password);
      await page.getByRole('button', { name: 'Account menu' }).click();
      await page.getByRole('menuitem', { name: 'Your account' }).click();
      await page.getByTestId('account-danger-zone').waitFor();
      await capture(page, 'account');
      await page.getByRole('button', { name: 'Delete my account…' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByLabel(/Type your email/).fill(leaver.email);
      await dialog.getByRole('button', { name: 'Delete my account' }).click();
      await dialog.getByTestId('last-owned').waitFor();
      assert.match(await dialog.getByTestId('last-owned').textContent(), new RegExp(leaver.tenantName));
      assert.equal(await dialog.locator('[data-code]').getAttribute('data-code'), 'CONFLICT');
      await capture(page, 'delete-account-last-owner');

      // Someone else becomes an owner of the workspace: now the account can go.
      await gql(origin, 'mutation { requestEmailVerification }', {}, leaver.token);
      const verify = new URL(await mailedLink(origin, leaver.email, 'verify-email'));
      await gql(origin, 'mutation($t: String!) { verifyEmail(token: $t) { emailVerified } }', { t: verify.searchParams.get('token') }, leaver.token);
      await gql(
        origin,
        'mutation($i: InviteMemberInput!) { inviteMember(input: $i) { id } }',
        { i: { email: helper.email, role: 'OWNER' } },
        leaver.token,
      );
      const invite = new URL(await mailedLink(origin, helper.email, 'accept-invitation'));
      await gql(
        origin,
        'mutation($i: AcceptInvitationInput!) { acceptInvitation(input: $i) { accessToken } }',
        { i: { token: invite.searchParams.get('token') } },
        helper.token,
      );
      await dialog.getByRole('button', { name: 'Delete my account' }).click();
      await page.waitForURL(/\/auth\/sign-in/);
      await page.getByText('Your account was deleted').waitFor();
      const gone = await fetch(`${origin}/graphql`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
          query: 'mutation($i: LogInInput!) { logIn(input: $i) { accessToken } }',
          variables: { i: { email: leaver.email, password: leaver.password } },
        }),
      }).then((r) => r.json());
      assert.equal(gone.errors[0].extensions.code, 'UNAUTHENTICATED', 'the account no longer exists');
    });
  });

  test('a platform admin purges a workspace at once; its tombstone remains', async () => {
    assert.ok(kept, 'the first test made a workspace');
    await withPage(async (page) => {
      await signInWithPassword(page, origin, DEMO_ADMIN);
      await page.goto(`${origin}/admin/tenants/${kept.tenantId}`);
      await page.getByRole('button', { name: 'Purge now…' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByLabel(/Type the workspace's name/).fill(kept.tenantName);
      await capture(page, 'admin-purge-dialog');
      await dialog.getByRole('button', { name: 'Purge now' }).click();
      await page.waitForURL(/\/admin$/);
      await page.getByText(`${kept.tenantName} is purged`).waitFor();
    });
    const data = await gql(origin, '{ admin { tenantTombstones(first: 20) { id reason } } }', {}, await adminToken(origin));
    const stone = data.admin.tenantTombstones.find((t) => t.id === kept.tenantId);
    assert.equal(stone?.reason, 'PLATFORM_ADMIN');
  });
});
