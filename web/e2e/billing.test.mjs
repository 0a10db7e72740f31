// Browser tests of the billing and usage pages against a RUNNING tenantgate server started
// with --demo (its Stripe simulator serves Checkout; its plans have monthly api_calls
// quotas): TENANTGATE_URL=http://127.0.0.1:8080 node --test e2e/billing.test.mjs
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { baseUrl, capture, gql, launch, newAccount, signInWithPassword, watchedContext } from './harness.mjs';

const TIMEOUT = 20_000;

if (!process.env.TENANTGATE_URL) {
  test('TENANTGATE_URL points at a running tenantgate server', () => {
    baseUrl(); // throws the explanation
  });
}

describe('billing and usage', { skip: !process.env.TENANTGATE_URL && 'TENANTGATE_URL is not set' }, () => {
  let origin;
  let runner;

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
      await fn(page, watched);
      await page.waitForTimeout(300);
      assert.deepEqual(watched.problems(), [], 'the pages must load nothing from other origins and log no errors');
    } finally {
      await watched.context.close();
    }
  }

  /** Picks an option of a SegmentedControl (its radio input is hidden under the label). */
  const segment = (page, name) => page.locator('label').filter({ hasText: new RegExp(`^${name}$`) }).click();

  const quotaText = (page) => page.getByTestId('quota-api_calls-used').textContent();

  test('upgrade through Checkout, then usage recorded with a key moves the chart and the quota bar', async () => {
    const owner = await newAccount(origin, 'e2e-billing');
    await withPage(async (page, watched) => {
      await signInWithPassword(page, origin, owner.email, owner.password);

      // Free plan: its quota.
      await page.getByRole('link', { name: 'Usage', exact: true }).click();
      await page.getByRole('heading', { name: 'Usage', level: 1 }).waitFor();
      await page.getByTestId('quota-api_calls-used').waitFor();
      assert.match(await quotaText(page), /^0 of 10,000/);

      // The plans, Free marked as the tenant's.
      await page.getByRole('link', { name: 'Billing', exact: true }).click();
      const free = page.getByTestId('plan-free');
      await free.getByText('Current plan').waitFor();
      await page.getByTestId('subscription').getByText(/No running subscription/).waitFor();
      await page.getByRole('button', { name: 'Upgrade to Basic' }).waitFor();
      await segment(page, 'Yearly');
      await page.getByTestId('plan-basic').getByText('$290.00').waitFor();
      await segment(page, 'Monthly');
      await page.getByTestId('plan-basic').getByText('$29.00').waitFor();
      await capture(page, 'billing');

      // Checkout on the simulator's hosted page (another origin: Stripe's, in production).
      await page.getByRole('button', { name: 'Upgrade to Basic' }).click();
      await page.waitForURL(/\/checkout\/cs_/);
      watched.allowOrigin(page.url());
      await page.getByRole('heading', { name: 'Subscribe' }).waitFor();
      await capture(page, 'stripe-checkout');
      await page.getByRole('button', { name: 'Pay', exact: true }).click();

      // Back in the app: the success URL the server gave Checkout.
      await page.waitForURL((url) => url.origin === origin && url.pathname === '/billing' && url.searchParams.get('checkout') === 'success');
      await page.getByTestId('checkout-return').waitFor();
      await capture(page, 'billing-checkout-return');
      await page.getByTestId('plan-basic').getByText('Current plan').waitFor();
      await page.getByTestId('checkout-return').getByText(/now on the Basic plan/).waitFor();
      assert.equal(await page.getByTestId('subscription-status').textContent(), 'Trial');
      assert.equal(await free.getByText('Current plan').count(), 0);

      // The trial banner shows across the app; the quota follows the new plan.
      await page.getByRole('link', { name: 'Usage', exact: true }).click();
      await page.getByTestId('billing-banner').getByText(/free trial ends on/).waitFor();
      await page.waitForFunction(() => /of 100,000/.test(document.querySelector('[data-testid="quota-api_calls-used"]')?.textContent ?? ''));
      await page.getByTestId('live-state').getByText('Live').waitFor();
      const before = await quotaText(page);
      assert.match(before, /^0 of 100,000/);

      // A key with usage:write records usage through the HTTP API; the page follows live.
      const { createApiKey } = await gql(
        origin,
        'mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { secret } }',
        { i: { name: 'e2e usage', scopes: ['USAGE_WRITE'] } },
        owner.token,
      );
      const res = await fetch(`${origin}/v1/usage`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-API-Key': createApiKey.secret },
        body: JSON.stringify({
          events: [
            { metric: 'api_calls', quantity: 92_000, occurredAt: new Date().toISOString(), idempotencyKey: `e2e-${Date.now()}` },
          ],
        }),
      });
      assert.equal(res.status, 200, await res.clone().text());
      assert.equal((await res.json()).recorded, 1);

      await page.waitForFunction(() => /^92,000 of 100,000/.test(document.querySelector('[data-testid="quota-api_calls-used"]')?.textContent ?? ''));
      assert.equal(await page.getByTestId('quota-api_calls').getAttribute('data-level'), 'warning');
      await page.getByTestId('usage-total').getByText('92,000').waitFor();
      await page.getByTestId('quota-banner').getByText(/nearly used up/).waitFor();
      await page.getByTestId('usage-chart').locator('.recharts-bar-rectangle path').first().waitFor();
      await capture(page, 'usage');

      // By the day over 30 days: the same total.
      await segment(page, '30 days');
      await page.getByTestId('usage-total').getByText(/last 30 days/).waitFor();
      await page.getByTestId('usage-total').getByText('92,000').waitFor();
    });
  });

  test('change plan (prorated), cancel at period end and resume; a canceled checkout', async () => {
    const owner = await newAccount(origin, 'e2e-billing');
    await withPage(async (page, watched) => {
      await signInWithPassword(page, origin, owner.email, owner.password);
      await page.goto(`${origin}/billing?checkout=canceled`);
      await page.getByTestId('checkout-return').getByText('Nothing was charged').waitFor();
      await page.getByRole('button', { name: 'Dismiss' }).click();
      await page.waitForURL(`${origin}/billing`);

      // A second tab still shows the free tenant's offers.
      const stale = await watched.context.newPage();
      await stale.goto(`${origin}/billing`);
      await stale.getByRole('button', { name: 'Upgrade to Enterprise' }).waitFor();

      await page.getByRole('button', { name: 'Upgrade to Pro' }).click();
      await page.waitForURL(/\/checkout\/cs_/);
      watched.allowOrigin(page.url());
      await page.getByRole('button', { name: 'Pay', exact: true }).click();
      await page.waitForURL((url) => url.origin === origin && url.pathname === '/billing');
      await page.getByTestId('plan-pro').getByText('Current plan').waitFor();

      // The stale tab's checkout is refused: the error shows its message and code.
      await stale.getByRole('button', { name: 'Upgrade to Enterprise' }).click();
      const refused = stale.locator('[role="alert"][data-code="CONFLICT"]');
      await refused.getByText(/already has a subscription/).waitFor();
      await refused.getByText('CONFLICT', { exact: true }).waitFor();
      await stale.close();


      // A prorated change to a plan with a trial keeps the trial.
      await page.getByRole('button', { name: 'Downgrade to Basic' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByText(/prorated/).waitFor();
      await dialog.getByRole('button', { name: 'Downgrade to Basic' }).click();
      await page.getByTestId('plan-basic').getByText('Current plan').waitFor();

      // The change is invoiced at once (prorated); invoices link to Stripe's hosted page.
      const view = page.getByTestId('invoices').getByRole('link', { name: /^View invoice/ }).first();
      await view.waitFor();
      assert.match(await view.getAttribute('href'), /^http:\/\/127\.0\.0\.1:\d+\/invoices\//);
      await capture(page, 'billing-subscribed');

      // Cancel at the period's end: the plan stays, the page and the app say when it ends.
      await page.getByRole('button', { name: 'Cancel subscription' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Cancel at period end' }).click();
      await page.getByTestId('billing-warning').getByText(/will not continue|ends on/).waitFor();
      await page.getByTestId('plan-basic').getByText('Current plan').waitFor();
      await page.getByRole('link', { name: 'Overview', exact: true }).click();
      await page.getByTestId('billing-banner').waitFor();
      await page.getByRole('link', { name: 'Billing', exact: true }).click();
      await page.getByRole('button', { name: 'Resume subscription' }).click();
      await page.getByRole('button', { name: 'Cancel subscription' }).waitFor();
      assert.equal(await page.getByTestId('billing-warning').count(), 0);
      // Stripe's billing portal (the simulator's page) and back.
      await page.getByRole('button', { name: 'Manage in Stripe portal' }).click();
      await page.waitForURL(/\/portal\/bps_|\/portal\//);
      await page.getByRole('heading', { name: 'Billing' }).waitFor();
      await capture(page, 'stripe-portal');
      await page.getByRole('link', { name: 'Return' }).click();
      await page.waitForURL(`${origin}/billing`);
      await page.getByTestId('plan-basic').getByText('Current plan').waitFor();
    });
  });

  test('a declining card: past due shows across the app, plan changes wait, the portal fixes it', async () => {
    const owner = await newAccount(origin, 'e2e-billing');
    await withPage(async (page, watched) => {
      await signInWithPassword(page, origin, owner.email, owner.password);
      await page.goto(`${origin}/billing`);
      await page.getByRole('button', { name: 'Upgrade to Pro' }).click();
      await page.waitForURL(/\/checkout\/cs_/);
      watched.allowOrigin(page.url());
      await page.getByRole('button', { name: 'Pay with a card that will be declined' }).click();
      await page.waitForURL((url) => url.origin === origin && url.pathname === '/billing');
      await page.getByTestId('plan-pro').getByText('Current plan').waitFor();

      // Enterprise has no trial: the change ends it and charges the declining card.
      await page.getByRole('button', { name: 'Upgrade to Enterprise' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByText(/ends your trial/).waitFor();
      await dialog.getByRole('button', { name: 'Upgrade to Enterprise' }).click();
      await page.getByTestId('subscription-status').getByText('Payment overdue').waitFor();
      await page.getByTestId('billing-warning').getByText(/payment failed/i).waitFor();
      const pro = page.getByTestId('plan-pro');
      await pro.getByText(/overdue/).waitFor();
      assert.equal(await pro.getByRole('button').isDisabled(), true);
      await capture(page, 'billing-past-due');
      await page.getByRole('link', { name: 'Overview', exact: true }).click();
      await page.getByTestId('billing-banner').getByText('A payment failed', { exact: true }).waitFor();

      // The portal takes a working card and pays what is open.
      await page.getByRole('link', { name: 'Billing', exact: true }).click();
      await page.getByRole('button', { name: 'Manage in Stripe portal' }).click();
      await page.waitForURL(/\/portal\//);
      await page.getByRole('button', { name: /Use a working card/ }).click();
      await page.getByRole('link', { name: 'Return' }).click();
      await page.waitForURL(`${origin}/billing`);
      await page.getByTestId('subscription-status').getByText('Active').waitFor({ timeout: 30_000 });
      assert.equal(await page.getByTestId('billing-warning').count(), 0);
    });
  });

  test('a member and a viewer see the plans and usage, and no billing actions', async () => {
    await withPage(async (page) => {
      await signInWithPassword(page, origin, 'hank@globex.test');
      await page.getByRole('link', { name: 'Billing', exact: true }).click();
      await page.getByTestId('plan-free').getByText('Current plan').waitFor();
      await page.getByText('Owners and billing members change it.').waitFor();
      assert.equal(await page.getByRole('button', { name: /Upgrade|Downgrade|Subscribe|Cancel|portal/ }).count(), 0);
      assert.equal(await page.getByTestId('subscription').count(), 0);
      await capture(page, 'billing-viewer');
      await page.getByRole('link', { name: 'Usage', exact: true }).click();
      await page.getByTestId('quota-api_calls-used').waitFor();
    });
  });
});
