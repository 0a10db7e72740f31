// Browser tests of the Team and Settings pages against a RUNNING tenantgate server started
// with --demo: TENANTGATE_URL=http://127.0.0.1:8080 node --test e2e/team.test.mjs
// Two sign-ups (the owner of the team test and of the settings test); the invited member
// makes a third account through the invitation. Demo data is only read (hank, the viewer).
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  adminToken,
  baseUrl,
  capture,
  gql,
  launch,
  mailedLink,
  newAccount,
  signInWithPassword,
  watchedContext,
} from './harness.mjs';

const TIMEOUT = 15_000;

if (!process.env.TENANTGATE_URL) {
  test('TENANTGATE_URL points at a running tenantgate server', () => {
    baseUrl(); // throws the explanation
  });
}

describe('team and settings', { skip: !process.env.TENANTGATE_URL && 'TENANTGATE_URL is not set' }, () => {
  let origin;
  let runner;

  before(async () => {
    origin = baseUrl();
    runner = await launch();
  });

  after(async () => {
    await runner?.close();
  });

  /** A watched context with one page; its problems are checked by `done()`. */
  async function open() {
    const watched = await watchedContext(runner.browser, origin);
    const page = await watched.context.newPage();
    page.setDefaultTimeout(TIMEOUT);
    return {
      page,
      async done() {
        await page.waitForTimeout(300);
        const problems = watched.problems();
        await watched.context.close();
        assert.deepEqual(problems, [], 'the pages must load nothing from other origins and log no errors');
      },
    };
  }

  /** Waits until no notification is on screen (they fade: axe would catch them half-drawn). */
  async function quiet(page) {
    await page.locator('.mantine-Notification-root').first().waitFor({ state: 'detached', timeout: 10_000 });
  }

  const row = (page, testId, email) => page.locator(`[data-testid="${testId}"][data-email="${email}"]`);

  test('invite a member, who accepts in another browser; change their role, remove them', async () => {
    const owner = await newAccount(origin, 'team');
    const memberEmail = `team-mate-${crypto.randomBytes(5).toString('hex')}@example.com`;
    const a = await open();
    const b = await open();
    try {
      const page = a.page;
      await signInWithPassword(page, origin, owner.email, owner.password);
      // Unconfirmed: the banner sends the link again, and the link confirms.
      await page.getByRole('button', { name: 'Resend the link' }).click();
      await page.getByText('Sent: check your inbox for a new link.').waitFor();
      await page.goto(await mailedLink(origin, owner.email, 'verify-email'));
      await page.getByText('Email confirmed').waitFor();

      await page.goto(`${origin}/team`);
      await row(page, 'member-row', owner.email).waitFor();
      assert.match(await row(page, 'member-row', owner.email).textContent(), /Owner/);
      await page.getByText('No pending invitations').waitFor();
      await capture(page, 'team');

      // An owner may grant every role.
      await page.getByRole('button', { name: 'Invite member' }).click();
      const dialog = page.getByRole('dialog', { name: 'Invite a member' });
      await dialog.waitFor();
      assert.deepEqual(await dialog.getByRole('radio').evaluateAll((rs) => rs.map((r) => r.value)), [
        'OWNER',
        'ADMIN',
        'MEMBER',
        'BILLING',
        'VIEWER',
      ]);
      // The form checks the address before anything is sent.
      await dialog.getByRole('button', { name: 'Send invitation' }).click();
      await dialog.getByText(/Enter (your|a valid) email address/).first().waitFor();
      await dialog.getByRole('textbox', { name: 'Email' }).fill(memberEmail);
      await dialog.getByRole('radio', { name: 'Admin' }).check();
      await capture(page, 'team-invite-dialog');
      await dialog.getByRole('button', { name: 'Send invitation' }).click();
      await page.getByText('Invitation sent').waitFor();
      await row(page, 'invitation-row', memberEmail).waitFor();
      const firstLink = await mailedLink(origin, memberEmail, 'accept-invitation');

      // Resend: a new link; the first one stops working.
      await page.getByRole('button', { name: `Resend the invitation of ${memberEmail}` }).click();
      await page.getByText(/A new link was sent/).waitFor();
      await row(page, 'invitation-row', memberEmail).waitFor();
      let link = firstLink;
      for (let i = 0; i < 50 && link === firstLink; i++) {
        link = await mailedLink(origin, memberEmail, 'accept-invitation');
        if (link === firstLink) await page.waitForTimeout(100);
      }
      assert.notEqual(link, firstLink, 'the resent invitation has a new link');

      // The member, in a second browser: the old link is refused, the new one joins.
      const mate = b.page;
      await mate.goto(firstLink);
      await mate.getByLabel(/^Choose a password/).fill('a-member-passphrase-42');
      await mate.getByRole('button', { name: 'Accept invitation' }).click();
      const refused = mate.getByRole('alert');
      await refused.waitFor();
      assert.match(await refused.textContent(), /NOT_FOUND/);
      await mate.goto(link);
      await mate.getByLabel(/^Choose a password/).fill('a-member-passphrase-42');
      await capture(mate, 'accept-invitation');
      await mate.getByRole('button', { name: 'Accept invitation' }).click();
      await mate.getByTestId('tenant-name').waitFor();
      assert.equal(await mate.getByTestId('tenant-name').textContent(), owner.tenantName);
      assert.equal(await mate.getByTestId('viewer-role').textContent(), 'admin');
      // As an admin they may invite, but never an owner.
      await mate.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Team' }).click();
      await mate.getByRole('button', { name: 'Invite member' }).click();
      const theirs = mate.getByRole('dialog', { name: 'Invite a member' });
      await theirs.waitFor();
      assert.deepEqual(await theirs.getByRole('radio').evaluateAll((rs) => rs.map((r) => r.value)), [
        'ADMIN',
        'MEMBER',
        'BILLING',
        'VIEWER',
      ]);
      await theirs.getByRole('button', { name: 'Cancel' }).click();
      // Nor manage the owner.
      await row(mate, 'member-row', owner.email).waitFor();
      assert.equal(await mate.getByRole('button', { name: `Manage ${owner.email}` }).count(), 0);

      // The owner sees them and makes them a viewer.
      await page.reload();
      await row(page, 'member-row', memberEmail).waitFor();
      assert.match(await row(page, 'member-row', memberEmail).textContent(), /Admin/);
      assert.equal(await row(page, 'invitation-row', memberEmail).count(), 0, 'the invitation is no longer pending');
      await page.getByRole('button', { name: `Manage ${memberEmail}` }).click();
      await page.getByRole('menuitem', { name: 'Make viewer' }).click();
      await page.getByText(`${memberEmail} is now viewer.`).waitFor();
      await row(page, 'member-row', memberEmail).getByText('Viewer').waitFor();

      // As a viewer, the member sees the team but no buttons that change it.
      await mate.reload();
      await row(mate, 'member-row', memberEmail).waitFor();
      assert.equal(await mate.getByRole('button', { name: 'Invite member' }).count(), 0);
      assert.equal(await mate.getByRole('button', { name: /^Manage / }).count(), 0);
      assert.equal(await mate.getByText('Pending invitations').count(), 0);

      // Removed, with a confirmation.
      await page.getByRole('button', { name: `Manage ${memberEmail}` }).click();
      await page.getByRole('menuitem', { name: 'Remove from workspace' }).click();
      await page.getByRole('dialog', { name: `Remove ${memberEmail}?` }).getByRole('button', { name: 'Remove member' }).click();
      await page.getByText(`${memberEmail} was removed`).waitFor();
      await row(page, 'member-row', memberEmail).waitFor({ state: 'detached' });

      // The last owner cannot leave: the server's answer is shown.
      await page.getByRole('button', { name: 'Leave workspace' }).click();
      await page.getByRole('dialog', { name: /^Leave / }).getByRole('button', { name: 'Leave workspace' }).click();
      const conflict = page.locator('[role="alert"][data-code="CONFLICT"]');
      await conflict.waitFor();
      assert.match(await conflict.textContent(), /owner/);
    } finally {
      await b.done();
      await a.done();
    }
  });

  test('a viewer sees the team and the settings, with no buttons to change them', async () => {
    const v = await open();
    try {
      const page = v.page;
      await signInWithPassword(page, origin, 'hank@globex.test');
      await page.goto(`${origin}/team`);
      await row(page, 'member-row', 'hank@globex.test').waitFor();
      await row(page, 'member-row', 'grace@globex.test').waitFor();
      assert.equal(await page.getByRole('button', { name: 'Invite member' }).count(), 0);
      assert.equal(await page.getByRole('button', { name: /^Manage / }).count(), 0);
      assert.equal(await page.getByRole('button', { name: /^(Resend|Revoke) / }).count(), 0);
      assert.equal(await page.getByText('Pending invitations').count(), 0);
      await capture(page, 'team-viewer');
      await page.goto(`${origin}/settings`);
      await page.getByText('Only admins and owners change').waitFor();
      assert.equal(await page.getByRole('button', { name: 'Save changes' }).count(), 0);
      assert.equal(await page.getByRole('textbox', { name: 'Name', exact: true }).getAttribute('readonly'), '');
    } finally {
      await v.done();
    }
  });

  test('settings: rename, a taken slug on its field, branding needs a plan, then the portal wears it', async () => {
    const owner = await newAccount(origin, 'brand');
    const s = await open();
    try {
      const page = s.page;
      await signInWithPassword(page, origin, owner.email, owner.password);
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
      const name = page.getByRole('textbox', { name: 'Name', exact: true });
      await name.waitFor();
      assert.equal(await name.inputValue(), owner.tenantName);

      // Rename: the header follows.
      await name.fill('Branded Works');
      await page.getByRole('button', { name: 'Save changes' }).click();
      await page.getByText('Settings saved').waitFor();
      await page.getByRole('banner').getByText('Branded Works').waitFor();

      // A slug someone else has: the server's CONFLICT, on the slug field.
      await page.getByRole('textbox', { name: 'Slug' }).fill('acme');
      await page.getByRole('button', { name: 'Save changes' }).click();
      await page.locator('[role="alert"][data-code="CONFLICT"]').waitFor();
      await page.getByText('that slug is taken').first().waitFor();
      assert.equal(await page.getByRole('textbox', { name: 'Slug' }).getAttribute('aria-invalid'), 'true');
      await page.getByRole('button', { name: 'Discard changes' }).click();

      // The free plan has no custom branding: PAYMENT_REQUIRED and where to upgrade.
      await page.getByRole('textbox', { name: 'Primary colour' }).fill('#0f766e');
      await page.getByRole('textbox', { name: 'Support email' }).fill('help@branded.example');
      const preview = page.getByTestId('branding-preview');
      await preview.getByText('help@branded.example').waitFor();
      assert.equal(
        await page.getByTestId('preview-button').evaluate((el) => getComputedStyle(el).backgroundColor),
        'rgb(15, 118, 110)',
        'the preview uses the colour (dark enough for white text as it is)',
      );
      await page.getByRole('button', { name: 'Save changes' }).click();
      await page.locator('[role="alert"][data-code="PAYMENT_REQUIRED"]').waitFor();
      assert.match(await page.getByTestId('upgrade-hint').textContent(), /pro plan includes it/);
      await quiet(page);
      await capture(page, 'settings-upgrade');

      // On a plan with custom branding (a platform admin moves the tenant), it saves and
      // the portal's primary colour follows.
      await gql(
        origin,
        'mutation($t: ID!) { setTenantPlan(tenantId: $t, planKey: "pro") { id } }',
        { t: owner.tenantId },
        await adminToken(origin),
      );
      await page.reload();
      const save = page.getByRole('button', { name: 'Save changes' });
      await save.waitFor();
      const before = await save.evaluate((el) => getComputedStyle(el).backgroundColor);
      await page.getByRole('textbox', { name: 'Primary colour' }).fill('#0f766e');
      await page.getByRole('textbox', { name: 'Accent colour' }).fill('#f59f00');
      await page.getByRole('textbox', { name: 'Display name' }).fill('Branded');
      await page.getByTestId('preview-accent').waitFor();
      await save.click();
      await page.getByText('Settings saved').waitFor();
      await page.locator('style[data-brand-color="#0f766e"]').waitFor({ state: 'attached' });
      const afterColour = await save.evaluate((el) => getComputedStyle(el).backgroundColor);
      assert.notEqual(afterColour, before, 'the primary colour changed');
      await page.getByRole('banner').getByText('Branded', { exact: true }).waitFor();
      await quiet(page);
      await capture(page, 'settings');
      // It stays after a reload (it is the tenant's, not this tab's).
      await page.reload();
      await page.locator('style[data-brand-color="#0f766e"]').waitFor({ state: 'attached' });
    } finally {
      await s.done();
    }
  });
});
