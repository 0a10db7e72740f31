// Browser tests of the API keys and audit log pages, against a RUNNING tenantgate server
// started with --demo: TENANTGATE_URL=http://127.0.0.1:8080 node --test e2e/keys.test.mjs
//
// A new workspace creates a key in the UI, copies it from the dialog (clipboard), calls
// /v1/authorize with it, rotates it, revokes it and sees it refused; the audit page shows
// those entries and a new one arriving live from another browser context, and downloads as
// CSV and JSON Lines with its filters. The demo viewer
// (hank@globex.test) sees the keys but no button to change them.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { baseUrl, capture, gql, launch, logIn, newAccount, signInWithPassword, watchedContext } from './harness.mjs';

const TIMEOUT = 15_000;

if (!process.env.TENANTGATE_URL) {
  test('TENANTGATE_URL points at a running tenantgate server', () => {
    baseUrl(); // throws the explanation
  });
}

/** `POST /v1/authorize` with a key, recording one api_call. */
async function authorize(origin, key, idempotencyKey) {
  const res = await fetch(`${origin}/v1/authorize`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ metric: 'api_calls', quantity: 1, ...(idempotencyKey ? { idempotencyKey } : {}) }),
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}

/** Polls `authorize` until it answers `status` (revocations reach the key cache at once, but not in zero time). */
async function authorizeUntil(origin, key, status, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await authorize(origin, key);
    if (last.status === status) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`authorize answered ${last?.status} ${JSON.stringify(last?.body)}, not ${status}`);
}

describe('API keys and the audit log', { skip: !process.env.TENANTGATE_URL && 'TENANTGATE_URL is not set' }, () => {
  let origin;
  let runner;

  before(async () => {
    origin = baseUrl();
    runner = await launch();
  });

  after(async () => {
    await runner?.close();
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

  /** Creates a key through the dialog; returns the secret the dialog shows. */
  async function createKeyInUi(page, name, scopes = []) {
    await page.getByTestId('create-key').click();
    const dialog = page.getByRole('dialog', { name: 'Create an API key' });
    await dialog.getByRole('textbox', { name: 'Name' }).fill(name);
    for (const scope of scopes) await dialog.getByRole('checkbox', { name: scope }).check();
    await dialog.getByRole('button', { name: 'Create key' }).click();
    const secretDialog = page.getByTestId('secret-dialog');
    await secretDialog.waitFor();
    return secretDialog.getByRole('textbox', { name: 'Secret key' }).inputValue();
  }

  test('create, copy, authorize, rotate, revoke; the audit log shows it, live', async () => {
    const account = await newAccount(origin, 'keys');
    await withContext(async (page, context) => {
      await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
      await signInWithPassword(page, origin, account.email, account.password);
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'API keys' }).click();
      await page.waitForURL(`${origin}/keys`);
      await page.getByText('No API keys yet').waitFor();

      // The form checks its fields before anything is sent.
      await page.getByTestId('create-key').click();
      const form = page.getByRole('dialog', { name: 'Create an API key' });
      await form.getByRole('button', { name: 'Create key' }).click();
      await form.getByText('Name the key').waitFor();
      await form.getByRole('switch', { name: 'Its own rate limit' }).check();
      await form.getByRole('textbox', { name: 'Calls' }).waitFor();
      await capture(page, 'key-create');
      await form.getByRole('button', { name: 'Cancel' }).click();
      await form.waitFor({ state: 'detached' });

      const shown = await createKeyInUi(page, 'production backend', ['usage:write', 'keys:read']);
      assert.match(shown, /^tg_live_[A-Za-z0-9]{40}$/);
      await page.getByText('Copy it now: it is shown only this once').waitFor();
      await capture(page, 'key-secret-dialog');
      // A stray Escape does not take a shown-once secret away.
      await page.keyboard.press('Escape');
      await page.waitForTimeout(300);
      assert.ok(await page.getByTestId('secret-dialog').isVisible(), 'Escape leaves the secret shown');
      await page.getByRole('button', { name: 'Copy key' }).click();
      await page.getByText('Copied to the clipboard.').waitFor();
      const copied = await page.evaluate(() => navigator.clipboard.readText());
      assert.equal(copied, shown, 'the clipboard holds the secret');

      // The copied key works.
      const ok = await authorize(origin, copied, 'e2e-1');
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.equal(ok.body.allowed, true);
      assert.equal(ok.body.recorded, true);
      for (let i = 2; i <= 4; i++) assert.equal((await authorize(origin, copied, `e2e-${i}`)).status, 200);

      await page.getByRole('button', { name: 'I have stored it' }).click();
      await page.getByTestId('secret-dialog').waitFor({ state: 'detached' });
      const row = page.locator('tr', { hasText: 'production backend' });
      await row.getByText('active').waitFor();
      await row.getByText('usage:write').waitFor();
      await row.getByText(account.email).waitFor();
      await capture(page, 'keys');

      // The key's own page: a deep link, with its usage (written within 250 ms).
      await row.getByRole('link', { name: 'production backend' }).click();
      await page.waitForURL(/\/keys\/[0-9a-f-]{36}$/);
      const detailUrl = page.url();
      await page.getByRole('heading', { name: 'production backend' }).waitFor();
      await page.waitForTimeout(500);
      await page.goto(detailUrl);
      await page.getByTestId('usage-total').filter({ hasText: /^4 in the last 24 hours/ }).waitFor();
      await page.getByRole('img', { name: /API calls per hour: 4 in total/ }).waitFor();
      await page.locator('label', { hasText: /^30 days$/ }).click();
      await page.getByTestId('usage-total').filter({ hasText: /^4 in the last 30 days/ }).waitFor();
      await page.locator('label', { hasText: /^24 hours$/ }).click();
      await page.getByTestId('usage-total').filter({ hasText: /24 hours/ }).waitFor();
      await capture(page, 'key-detail');

      // Rotate with a one-hour grace: the new secret is shown once, both work meanwhile.
      await page.getByRole('button', { name: 'Rotate' }).click();
      const rotate = page.getByRole('dialog', { name: /Rotate/ });
      await rotate.getByRole('textbox', { name: 'Grace period for the old secret' }).click();
      await page.getByRole('option', { name: '1 hour' }).click();
      await rotate.getByRole('button', { name: 'Rotate key' }).click();
      await page.getByTestId('secret-dialog').waitFor();
      const rotated = await page.getByRole('textbox', { name: 'Secret key' }).inputValue();
      assert.notEqual(rotated, shown);
      await page.getByText(/The previous secret keeps working until/).waitFor();
      await page.getByRole('button', { name: 'I have stored it' }).click();
      await page.getByText('rotating').first().waitFor();
      assert.equal((await authorize(origin, rotated)).status, 200);
      assert.equal((await authorize(origin, shown)).status, 200, 'the old secret works during the grace period');

      // Revoke, confirmed: both secrets are refused.
      await page.getByRole('button', { name: 'Revoke' }).click();
      const confirm = page.getByRole('dialog', { name: /Revoke/ });
      await confirm.getByText('This cannot be undone').waitFor();
      await confirm.getByRole('button', { name: 'Revoke key' }).click();
      await page.getByText('revoked', { exact: true }).first().waitFor();
      await authorizeUntil(origin, shown, 401);
      await authorizeUntil(origin, rotated, 401);
      assert.equal(await page.getByRole('button', { name: 'Rotate' }).count(), 0, 'a revoked key offers no actions');

      // The audit log has the key's story, and hears a new entry live.
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit log' }).click();
      await page.waitForURL(`${origin}/audit`);
      await page.locator('[data-testid="feed-state"][data-state="live"]').waitFor();
      for (const action of ['api_key.create', 'api_key.rotate', 'api_key.revoke']) {
        await page.locator('tbody tr', { hasText: action }).first().waitFor();
      }
      await page.locator('tbody tr', { hasText: 'api_key.revoke' }).getByText(account.email).waitFor();

      await withContext(async (other, otherContext) => {
        // This browser refuses the clipboard: the dialog selects the key for Ctrl+C instead.
        await otherContext.addInitScript(() => {
          Object.defineProperty(navigator, 'clipboard', {
            configurable: true,
            value: { writeText: () => Promise.reject(new DOMException('refused', 'NotAllowedError')) },
          });
        });
        await signInWithPassword(other, origin, account.email, account.password);
        await other.goto(`${origin}/keys`);
        const secret = await createKeyInUi(other, 'from another tab');
        await other.getByRole('button', { name: 'Copy key' }).click();
        await other.getByText('The browser did not allow copying. The key is selected').waitFor();
        const selected = await other.evaluate(() => {
          const el = document.activeElement;
          return el && 'value' in el ? el.value.slice(el.selectionStart, el.selectionEnd) : null;
        });
        assert.equal(selected, secret, 'the whole key is selected');
      });
      const live = page.locator('tbody tr[data-live="true"]', { hasText: 'api_key.create' });
      await live.waitFor();
      assert.equal(await page.locator('tbody tr').first().getAttribute('data-live'), 'true', 'new entries appear at the top');
      await capture(page, 'audit');

      // Filters: by action, then by actor; a page with nothing says so.
      await page.getByRole('textbox', { name: 'Action' }).fill('api_key.revoke');
      await page.waitForFunction(() =>
        [...document.querySelectorAll('tbody tr')].every((tr) => tr.textContent.includes('api_key.revoke')),
      );
      assert.equal(await page.locator('tbody tr').count(), 1);
      await page.getByRole('textbox', { name: 'Action' }).fill('tenant.suspend');
      await page.getByText('No entries match these filters').waitFor();
      await page.getByRole('textbox', { name: 'Action' }).fill('');
      await page.getByRole('textbox', { name: 'Actor' }).click();
      await page.getByRole('option', { name: account.email }).click();
      await page.locator('tbody tr', { hasText: 'api_key.create' }).first().waitFor();
      const tomorrow = new Date(Date.now() + 86_400_000);
      const ymd = `${tomorrow.getFullYear()}-${String(tomorrow.getMonth() + 1).padStart(2, '0')}-${String(tomorrow.getDate()).padStart(2, '0')}`;
      await page.getByLabel('From').fill(ymd);
      await page.getByText('No entries match these filters').waitFor();
    });
  });

  test('the audit feed says when it reconnects, and re-reads what it missed', async () => {
    const owner = await logIn(origin, 'ada@acme.test');
    await withContext(async (page) => {
      // Every socket to /graphql goes through the test, which can drop it.
      const sockets = [];
      await page.routeWebSocket(/\/graphql$/, (ws) => {
        ws.connectToServer();
        sockets.push(ws);
      });
      await signInWithPassword(page, origin, 'ada@acme.test');
      await page.goto(`${origin}/audit`);
      await page.locator('[data-testid="feed-state"][data-state="live"]').waitFor();
      // Dropped (1012: service restart, which graphql-ws retries).
      for (const ws of sockets) await ws.close({ code: 1012, reason: 'test drop' });
      await page.locator('[data-testid="feed-state"][data-state="reconnecting"]').waitFor();
      assert.match(await page.getByTestId('feed-state').textContent(), /Reconnecting/);
      // Made while the socket is down: no push reaches the page, the re-read finds it.
      const name = `while away ${Date.now()}`;
      const made = await gql(
        origin,
        'mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { apiKey { id } } }',
        { i: { name } },
        owner,
      );
      const id = made.createApiKey.apiKey.id;
      await page.locator('[data-testid="feed-state"][data-state="live"]').waitFor({ timeout: 20_000 });
      await page.locator(`tbody tr[data-target-id="${id}"]`, { hasText: 'api_key.create' }).waitFor();
    });
  });

  test("the audit log downloads as CSV and JSON Lines, with the page's filters", async () => {
    const owner = await logIn(origin, 'ada@acme.test');
    const name = `export check ${Date.now()}`;
    await gql(origin, 'mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { apiKey { id } } }', { i: { name } }, owner);
    await withContext(async (page) => {
      await signInWithPassword(page, origin, 'ada@acme.test');
      await page.goto(`${origin}/audit`);
      await page.locator('tbody tr').first().waitFor();
      const download = async (item) => {
        await page.getByTestId('audit-export').click();
        const [file] = await Promise.all([page.waitForEvent('download'), page.getByRole('menuitem', { name: item }).click()]);
        const failure = await file.failure();
        assert.equal(failure, null, `the download failed: ${failure}`);
        return { name: file.suggestedFilename(), text: await readFile(await file.path(), 'utf8') };
      };
      const csv = await download(/CSV/);
      assert.match(csv.name, /^audit-log-[0-9a-f-]{36}-\d{8}T\d{6}Z\.csv$/);
      const rows = csv.text.trim().split('\r\n');
      assert.equal(rows[0], 'id,createdAt,action,actorType,actorId,actorLabel,targetType,targetId,ip,userAgent,requestId,before,after');
      assert.ok(rows.some((r) => r.includes(',api_key.create,')), 'the new key is in the file');
      await page.getByText('The audit log was downloaded as CSV.').waitFor();

      // The filters apply: one action only.
      await page.getByRole('textbox', { name: 'Action' }).fill('audit_log.export');
      await page.waitForFunction(() => {
        const rows = [...document.querySelectorAll('tbody tr')];
        return rows.length > 0 && rows.every((tr) => tr.textContent.includes('audit_log.export'));
      });
      const jsonl = await download(/JSON Lines/);
      assert.match(jsonl.name, /\.jsonl$/);
      const lines = jsonl.text.trim().split('\n').map((l) => JSON.parse(l));
      assert.ok(lines.length >= 1);
      assert.ok(lines.every((l) => l.action === 'audit_log.export'), 'only the filtered action');
      assert.ok(lines.some((l) => l.actorLabel === 'ada@acme.test' && l.after.format === 'csv'), 'the CSV download is audited');
    });
  });

  test('a viewer sees the keys but no button to create, rotate or revoke', async () => {
    const owner = await logIn(origin, 'grace@globex.test');
    const made = await gql(
      origin,
      'mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { apiKey { id } } }',
      { i: { name: `viewer check ${Date.now()}`, scopes: ['TENANT_READ'] } },
      owner,
    );
    const id = made.createApiKey.apiKey.id;
    await withContext(async (page) => {
      await signInWithPassword(page, origin, 'hank@globex.test');
      const nav = page.getByRole('navigation', { name: 'Main' });
      await nav.getByRole('link', { name: 'API keys' }).click();
      await page.locator(`tr[data-key-id="${id}"]`).waitFor();
      assert.equal(await page.getByRole('button', { name: 'Create key' }).count(), 0);
      assert.equal(await page.getByRole('button', { name: /^(Rotate|Revoke)/ }).count(), 0);
      assert.equal(await page.getByRole('columnheader', { name: 'Actions' }).count(), 0);
      assert.equal(await nav.getByRole('link', { name: 'Audit log' }).count(), 0, 'viewers cannot read the audit log');
      await page.goto(`${origin}/keys/${id}`);
      await page.getByTestId('usage-total').waitFor();
      assert.equal(await page.getByRole('button', { name: /^(Rotate|Revoke)/ }).count(), 0);
      // A key of another workspace is not there.
      await page.goto(`${origin}/keys/00000000-0000-0000-0000-000000000000`);
      await page.getByText('No such key').waitFor();
      // The audit log, opened anyway, shows the server's refusal and its code.
      await page.goto(`${origin}/audit`);
      const alert = page.getByRole('alert').first();
      await alert.waitFor();
      assert.match(await alert.textContent(), /FORBIDDEN/);
    });
  });
});
