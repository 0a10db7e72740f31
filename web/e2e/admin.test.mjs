// The platform admins' dashboard in a real browser against a --demo server: find a new
// tenant by search, open it, suspend it with a reason; its owner (another browser context)
// is shown the reason instead of a blank page; reactivated, the owner works again; a plan
// change is refused with CONFLICT (shown) while a Stripe subscription owns the plan; the
// platform stats; a non-admin opening /admin gets the FORBIDDEN state.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  DEMO_ADMIN,
  baseUrl,
  capture,
  gql,
  launch,
  newAccount,
  signInWithPassword,
  watchedContext,
} from './harness.mjs';

const REASON = 'Unpaid invoices since November: contact billing@example.com';

describe('admin dashboard', () => {
  let origin;
  let browser;
  let close;

  before(async () => {
    origin = baseUrl();
    ({ browser, close } = await launch());
  });
  after(async () => {
    await close?.();
  });

  test('an admin finds a tenant, suspends it; its owner sees why; reactivated, the owner works again', async () => {
    const account = await newAccount(origin, 'adm');
    // Some API calls through a key of the tenant, today and on earlier days (the charts).
    const { createApiKey } = await gql(
      origin,
      'mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { secret } }',
      { i: { name: 'e2e usage', scopes: ['USAGE_WRITE'] } },
      account.token,
    );
    const events = [0, 1, 3].map((daysAgo, i) => ({
      metric: 'api_calls',
      quantity: 5 + 7 * i,
      occurredAt: new Date(Date.now() - daysAgo * 86_400_000).toISOString(),
      idempotencyKey: `e2e-admin-${i}`,
    }));
    const recorded = await fetch(`${origin}/v1/usage`, {
      method: 'POST',
      headers: { 'x-api-key': createApiKey.secret, 'content-type': 'application/json' },
      body: JSON.stringify({ events }),
    });
    assert.equal(recorded.status, 200, await recorded.text());
    const admin = await watchedContext(browser, origin);
    const owner = await watchedContext(browser, origin);
    try {
      const op = await owner.context.newPage();
      await signInWithPassword(op, origin, account.email, account.password);
      await op.getByTestId('tenant-name').waitFor();

      const ap = await admin.context.newPage();
      await signInWithPassword(ap, origin, DEMO_ADMIN);
      await ap.getByRole('link', { name: 'Admin dashboard' }).click();
      await ap.getByTestId('tenants-table').waitFor();
      await capture(ap, 'admin-tenants');

      // Sorting is in the URL and reversible from the keyboard.
      await ap.getByRole('button', { name: /^Name/ }).press('Enter');
      await ap.waitForURL(/sort=name/);
      await ap.getByRole('columnheader', { name: /Name/ }).and(ap.locator('[aria-sort="ascending"]')).waitFor();

      await ap.getByRole('searchbox', { name: 'Search tenants' }).fill(account.tenantName);
      await ap.waitForURL(/q=/);
      const link = ap.getByRole('link', { name: account.tenantName, exact: true });
      await link.waitFor();
      await ap.waitForFunction(() => document.querySelectorAll('[data-testid="tenants-table"] tbody tr').length === 1);
      await link.click();
      await ap.getByRole('heading', { name: account.tenantName, level: 1 }).waitFor();
      await ap.getByRole('table', { name: 'Members' }).getByText(account.email).waitFor();
      await ap.getByRole('table', { name: 'API keys' }).getByText('e2e usage').waitFor();
      await ap.getByText('36 in all').waitFor();
      await ap.locator('.recharts-area').first().waitFor();
      await ap.getByRole('table', { name: 'Audit trail' }).waitFor();
      await capture(ap, 'admin-tenant');

      // A reason is required; then the tenant is suspended.
      await ap.getByRole('button', { name: 'Suspend tenant' }).click();
      const dialog = ap.getByRole('dialog');
      await dialog.getByRole('button', { name: 'Suspend', exact: true }).click();
      await dialog.getByText(/Give a reason/).waitFor();
      await dialog.getByRole('textbox', { name: /^Reason/ }).fill(REASON);
      await dialog.getByRole('button', { name: 'Suspend', exact: true }).click();
      await ap.getByTestId('suspension-reason').getByText(REASON).waitFor();
      await ap.getByRole('button', { name: 'Reactivate tenant' }).waitFor();

      // The owner is shown why, not a blank page or a raw error.
      await op.reload();
      await op.getByTestId('suspended-notice').waitFor();
      assert.ok((await op.getByTestId('suspended-reason').textContent()).includes(REASON));
      await capture(op, 'suspended-notice');
      // The API refuses the workspace with the same reason.
      await assert.rejects(gql(origin, '{ tenant { id } }', {}, account.token), (e) => {
        assert.match(e.message, /^FORBIDDEN: .*Unpaid invoices since November/);
        return true;
      });

      // A deep link to the list filtered by status finds it; back returns to the tenant.
      await ap.goto(`${origin}/admin?status=SUSPENDED&q=${encodeURIComponent(account.tenantName)}`);
      await ap.getByRole('link', { name: account.tenantName, exact: true }).waitFor();
      assert.equal(await ap.getByRole('textbox', { name: 'Status' }).inputValue(), 'Suspended');
      await ap.goBack();
      await ap.getByRole('heading', { name: account.tenantName, level: 1 }).waitFor();

      // Reactivated: the owner checks again and works.
      await ap.getByRole('button', { name: 'Reactivate tenant' }).click();
      await ap.getByRole('dialog').getByRole('button', { name: 'Reactivate' }).click();
      await ap.getByRole('button', { name: 'Suspend tenant' }).waitFor();
      await op.getByRole('button', { name: 'Check again' }).click();
      await op.getByTestId('tenant-name').waitFor();
      assert.equal(await op.getByTestId('tenant-name').textContent(), account.tenantName);

      // The admin moves the tenant to Pro; the page says so.
      await ap.getByRole('textbox', { name: 'Plan' }).click();
      await ap.getByRole('option', { name: 'Pro' }).click();
      await ap.getByRole('button', { name: 'Change plan' }).click();
      await ap.getByRole('dialog').getByRole('button', { name: 'Change plan' }).click();
      await ap.getByText(/· Pro plan/).waitFor();

      // Once a Stripe subscription owns the plan, a change is refused: CONFLICT, shown.
      const { createCheckoutSession } = await gql(
        origin,
        'mutation { createCheckoutSession(planKey: "basic", interval: MONTH) { url } }',
        {},
        account.token,
      );
      const stripe = await browser.newContext(); // the simulator's pages are another origin
      try {
        const pay = await stripe.newPage();
        await pay.goto(createCheckoutSession.url);
        await pay.getByRole('button', { name: 'Pay', exact: true }).click();
        await pay.waitForLoadState('load');
      } finally {
        await stripe.close();
      }
      let subscribed = false;
      for (let i = 0; i < 50 && !subscribed; i++) {
        const d = await gql(origin, '{ tenant { billing { subscription { status } } } }', {}, account.token);
        subscribed = d.tenant.billing.subscription?.status === 'ACTIVE' || d.tenant.billing.subscription?.status === 'TRIALING';
        if (!subscribed) await new Promise((r) => setTimeout(r, 200));
      }
      assert.ok(subscribed, 'the checkout made a subscription');
      await ap.reload();
      await ap.getByRole('heading', { name: account.tenantName, level: 1 }).waitFor();
      await ap.getByRole('textbox', { name: 'Plan' }).click();
      await ap.getByRole('option', { name: 'Enterprise' }).click();
      await ap.getByRole('button', { name: 'Change plan' }).click();
      await ap.getByRole('dialog').getByRole('button', { name: 'Change plan' }).click();
      const refused = ap.locator('[role="alert"][data-code="CONFLICT"]');
      await refused.waitFor();
      assert.match(await refused.textContent(), /subscription/i);

      // Platform stats, with the new tenant among them.
      await ap.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Platform stats' }).click();
      await ap.waitForURL(/\/admin\/stats$/);
      await ap.getByTestId('stat-tenants').waitFor();
      assert.ok(Number((await ap.getByTestId('stat-tenants').textContent()).replace(/\D/g, '')) >= 3);
      await ap.getByRole('heading', { name: 'Tenants by plan' }).waitFor();
      assert.ok(Number((await ap.getByTestId('stat-api-calls').textContent()).replace(/\D/g, '')) >= 5);
      await ap.getByRole('link', { name: account.tenantName }).waitFor(); // among the top consumers
      await ap.locator('.recharts-bar-rectangle').first().waitFor();
      await capture(ap, 'admin-stats');

      assert.deepEqual(admin.problems(), []);
      assert.deepEqual(owner.problems(), []);
    } finally {
      await admin.context.close();
      await owner.context.close();
    }
  });

  test('a member who is not a platform admin opening /admin sees the FORBIDDEN state', async () => {
    const account = await newAccount(origin, 'adm');
    const watched = await watchedContext(browser, origin);
    try {
      const page = await watched.context.newPage();
      await signInWithPassword(page, origin, account.email, account.password);
      assert.equal(await page.getByRole('link', { name: 'Admin dashboard' }).count(), 0);
      for (const path of ['/admin', '/admin/stats', `/admin/tenants/${account.tenantId}`]) {
        await page.goto(`${origin}${path}`);
        const state = page.getByTestId('admin-forbidden');
        await state.waitFor();
        assert.match(await state.textContent(), /Platform admins only/);
        assert.match(await state.textContent(), /FORBIDDEN/);
      }
      await capture(page, 'admin-forbidden');
      assert.deepEqual(watched.problems(), []);
    } finally {
      await watched.context.close();
    }
  });
});
