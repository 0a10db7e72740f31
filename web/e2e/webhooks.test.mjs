// Browser tests of the webhooks pages, against a RUNNING tenantgate server started with
// --demo and --webhooks-allow-loopback (so endpoints may be http:// on 127.0.0.1):
// TENANTGATE_URL=http://127.0.0.1:8080 node --test e2e/webhooks.test.mjs
//
// A new workspace adds an endpoint pointing at a receiver this test starts, copies its
// secret (shown once), sends a test event and sees the delivery and its attempt in the
// log; the receiver verifies the signature with the Standard Webhooks reference library
// (`standardwebhooks`), not our code. A replay arrives with the same webhook-id. An API
// key created meanwhile reaches the endpoint as `api_key.created` (the outbox at work).
// Edit, disable, rotate (a new secret, shown once) and delete work; the demo member and
// viewer see no Webhooks entry.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { baseUrl, capture, gql, launch, logIn, newAccount, signInWithPassword, watchedContext } from './harness.mjs';

const TIMEOUT = 20_000;

if (!process.env.TENANTGATE_URL) {
  test('TENANTGATE_URL points at a running tenantgate server', () => {
    baseUrl(); // throws the explanation
  });
}

/** A local receiver: records every POST (headers and raw body) and answers 200. */
async function startReceiver() {
  const received = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end(`ok from the receiver (${received.length})`);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return { url: `http://127.0.0.1:${port}/hooks`, received, close: () => new Promise((r) => server.close(r)) };
}

async function until(what, fn, timeoutMs = TIMEOUT) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('Webhooks', { skip: !process.env.TENANTGATE_URL && 'TENANTGATE_URL is not set' }, () => {
  let origin;
  let runner;
  let receiver;

  before(async () => {
    origin = baseUrl();
    runner = await launch();
    receiver = await startReceiver();
  });

  after(async () => {
    await runner?.close();
    await receiver?.close();
  });

  async function withContext(fn) {
    const watched = await watchedContext(runner.browser, origin);
    const page = await watched.context.newPage();
    page.setDefaultTimeout(TIMEOUT);
    try {
      await fn(page, watched.context, watched);
      await page.waitForTimeout(300);
      assert.deepEqual(watched.problems(), [], 'the pages must load nothing from other origins and log no errors');
    } finally {
      await watched.context.close();
    }
  }

  test('add an endpoint, send a test event, see it delivered and signed, replay it; edit, disable, rotate, delete', async () => {
    const { Webhook } = await import('standardwebhooks');
    const account = await newAccount(origin, 'hooks');
    await withContext(async (page, context) => {
      await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
      await signInWithPassword(page, origin, account.email, account.password);
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Webhooks' }).click();
      await page.waitForURL(`${origin}/webhooks`);
      await page.getByText('No webhook endpoints yet').waitFor();
      await capture(page, 'webhooks-empty');

      // The form checks its fields before anything is sent.
      await page.getByTestId('add-endpoint').click();
      const form = page.getByRole('dialog', { name: 'Add a webhook endpoint' });
      await form.getByRole('button', { name: 'Add endpoint' }).click();
      await form.getByText('Enter the URL events are sent to').waitFor();
      await form.getByRole('textbox', { name: 'Endpoint URL' }).fill('not a url');
      await form.getByRole('radio', { name: 'Only the events I choose' }).check();
      await form.getByRole('button', { name: 'Add endpoint' }).click();
      await form.getByText('Enter a full URL').waitFor();
      await form.getByText('Tick at least one event').waitFor();
      await form.getByRole('checkbox', { name: 'api_key.created' }).check();
      await form.getByRole('checkbox', { name: 'member.joined' }).check();
      await form.getByRole('textbox', { name: 'Endpoint URL' }).fill(receiver.url);
      await form.getByRole('textbox', { name: /Description/ }).fill('e2e receiver');
      await capture(page, 'webhook-create');
      await form.getByRole('button', { name: 'Add endpoint' }).click();

      // The secret, shown once, copied.
      const dialog = page.getByTestId('webhook-secret-dialog');
      await dialog.waitFor();
      const secret = await dialog.getByRole('textbox', { name: 'Signing secret' }).inputValue();
      assert.match(secret, /^whsec_[A-Za-z0-9+/=]+$/);
      await capture(page, 'webhook-secret-dialog');
      await page.keyboard.press('Escape');
      await page.waitForTimeout(300);
      assert.ok(await dialog.isVisible(), 'Escape leaves the secret shown');
      await dialog.getByRole('button', { name: 'Copy secret' }).click();
      await page.getByText('Copied to the clipboard.').waitFor();
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);
      await dialog.getByRole('button', { name: 'I have stored it' }).click();
      await dialog.waitFor({ state: 'detached' });

      const row = page.locator('tr', { hasText: receiver.url });
      await row.getByText('Enabled').waitFor();
      await row.getByText('api_key.created, member.joined').waitFor();
      await row.getByText('None yet').waitFor();
      await capture(page, 'webhooks');

      // Its page: no deliveries; a test event is delivered, signed, and logged.
      await row.getByRole('link', { name: receiver.url }).click();
      await page.waitForURL(/\/webhooks\/[0-9a-f-]{36}$/);
      const detailUrl = page.url();
      await page.getByText('No deliveries yet').waitFor();
      await page.getByTestId('send-test').click();
      await page.getByText('Test event queued').waitFor();
      const test1 = await until('the test event at the receiver', () => receiver.received.find((r) => JSON.parse(r.body).type === 'webhook.test'));
      const verified = new Webhook(secret).verify(test1.body, {
        'webhook-id': test1.headers['webhook-id'],
        'webhook-timestamp': test1.headers['webhook-timestamp'],
        'webhook-signature': test1.headers['webhook-signature'],
      });
      assert.equal(verified.type, 'webhook.test');
      const delivered = page.locator('tbody tr[data-status="SUCCEEDED"]', { hasText: 'webhook.test' });
      await delivered.waitFor();
      await delivered.getByText('200 ·').waitFor();
      await delivered.getByRole('button', { name: 'Details' }).click();
      const details = page.getByTestId('delivery-details').first();
      await details.getByText('ok from the receiver').waitFor();
      await details.getByText(test1.headers['webhook-id']).waitFor();
      await capture(page, 'webhook-detail');

      // Replay: a new delivery of the same message (the same webhook-id).
      const before = receiver.received.length;
      await delivered.getByRole('button', { name: /^Replay/ }).click();
      await page.getByText('Replay queued').waitFor();
      const replayed = await until('the replay at the receiver', () => receiver.received.length > before && receiver.received[before]);
      assert.equal(replayed.headers['webhook-id'], test1.headers['webhook-id']);
      new Webhook(secret).verify(replayed.body, replayed.headers);
      await page.locator('tbody tr[data-replay="true"][data-status="SUCCEEDED"]').waitFor();

      // A change in the workspace reaches the endpoint: an API key created.
      await gql(origin, 'mutation { createApiKey(input: { name: "hooked" }) { apiKey { id } } }', {}, account.token);
      const created = await until('api_key.created at the receiver', () =>
        receiver.received.map((r) => JSON.parse(r.body)).find((b) => b.type === 'api_key.created'),
      );
      assert.equal(created.data.name, 'hooked');
      assert.match(created.data.prefix, /^tg_live_/);
      // Nothing was pending on the page: the Refresh button reads the log.
      await page.getByRole('button', { name: 'Refresh' }).click();
      await page.locator('tbody tr', { hasText: 'api_key.created' }).first().waitFor();

      // Edit: only member.joined now; the description changes.
      await page.getByRole('button', { name: 'Edit', exact: true }).click();
      const edit = page.getByRole('dialog', { name: 'Edit the endpoint' });
      await edit.getByRole('checkbox', { name: 'api_key.created' }).uncheck();
      await edit.getByRole('textbox', { name: /Description/ }).fill('e2e receiver, members only');
      await edit.getByRole('button', { name: 'Save changes' }).click();
      await page.getByText('Endpoint saved.').waitFor();
      await page.getByText('e2e receiver, members only').waitFor();

      // Disable: no test event can be sent; enable again.
      await page.getByRole('button', { name: 'Disable', exact: true }).click();
      await page.getByText('Disabled', { exact: true }).first().waitFor();
      assert.equal(await page.getByTestId('send-test').isDisabled(), true);
      await page.getByRole('button', { name: 'Enable', exact: true }).click();
      await page.getByText('Enabled', { exact: true }).first().waitFor();

      // Rotate: a new secret, shown once; both sign for 24 hours.
      await page.getByRole('button', { name: 'Rotate secret' }).click();
      await page.getByRole('dialog', { name: 'Rotate the signing secret?' }).getByRole('button', { name: 'Rotate secret' }).click();
      const rotatedDialog = page.getByTestId('webhook-secret-dialog');
      await rotatedDialog.waitFor();
      const rotated = await rotatedDialog.getByRole('textbox', { name: 'Signing secret' }).inputValue();
      assert.match(rotated, /^whsec_/);
      assert.notEqual(rotated, secret);
      await rotatedDialog.getByText(/signature by the previous secret too/).waitFor();
      await rotatedDialog.getByRole('button', { name: 'I have stored it' }).click();
      await page.getByText(/the previous secret also signs until/).waitFor();

      // Delete, confirmed: back to the empty list.
      await page.getByRole('button', { name: 'Delete', exact: true }).click();
      const confirm = page.getByRole('dialog', { name: 'Delete this endpoint?' });
      await confirm.getByText('This cannot be undone').waitFor();
      await confirm.getByRole('button', { name: 'Delete endpoint' }).click();
      await page.waitForURL(`${origin}/webhooks`);
      await page.getByText('No webhook endpoints yet').waitFor();

      // A deleted endpoint's page says so.
      await page.goto(detailUrl);
      await page.getByText('No such endpoint').waitFor();
    });
  });

  test('members and viewers see no Webhooks entry, and the server refuses them', async () => {
    for (const email of ['bob@acme.test', 'hank@globex.test']) {
      await withContext(async (page) => {
        await signInWithPassword(page, origin, email);
        const nav = page.getByRole('navigation', { name: 'Main' });
        await nav.getByRole('link', { name: 'Overview' }).waitFor();
        assert.equal(await nav.getByRole('link', { name: 'Webhooks' }).count(), 0, `${email} sees no Webhooks entry`);
      });
      const token = await logIn(origin, email);
      await assert.rejects(gql(origin, '{ tenant { webhookEndpoints { id } } }', {}, token), /FORBIDDEN/);
    }
  });
});
