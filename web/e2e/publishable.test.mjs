// Browser tests of publishable keys against a RUNNING tenantgate server started with --demo:
// TENANTGATE_URL=http://127.0.0.1:8080 node --test e2e/publishable.test.mjs
//
// A widget page served by a tiny static server of the test's own, on another port, calls
// /v1/public/{key}/check (a POST with JSON: a real CORS preflight) and /branding with fetch.
// From the allowed origin (http://127.0.0.1:P) it succeeds; the same page from
// http://localhost:P (another origin, not on the list) gets a CORS failure; once the key is
// revoked, both get a readable, coded 401 (the widget can say why). The widget pages
// use plain contexts (a refused CORS request logs a console error by design); the portal
// page runs in a watched context with an axe capture.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { baseUrl, capture, gql, launch, newAccount, signInWithPassword, watchedContext } from './harness.mjs';

const TIMEOUT = 15_000;

if (!process.env.TENANTGATE_URL) {
  test('TENANTGATE_URL points at a running tenantgate server', () => {
    baseUrl(); // throws the explanation
  });
}

/** The widget: calls both public endpoints and writes what happened into #out. */
function widgetPage(api, key) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Widget</title></head>
<body><main><h1>Widget</h1><pre id="out">running</pre></main><script>
(async () => {
  const out = {};
  try {
    const r = await fetch(${JSON.stringify(`${api}/v1/public/${key}/check`)}, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ metric: 'api_calls' }),
    });
    out.check = { status: r.status, body: await r.json() };
  } catch (e) { out.check = { failed: String(e) }; }
  try {
    const r = await fetch(${JSON.stringify(`${api}/v1/public/${key}/branding`)});
    out.branding = { status: r.status, body: await r.json() };
  } catch (e) { out.branding = { failed: String(e) }; }
  document.getElementById('out').textContent = JSON.stringify(out);
  document.getElementById('out').dataset.done = 'yes';
})();
</script></body></html>`;
}

describe('publishable keys from a browser', { skip: !process.env.TENANTGATE_URL && 'TENANTGATE_URL is not set' }, () => {
  let origin;
  let runner;
  let account;
  let server;
  let port;
  let key;

  before(async () => {
    origin = baseUrl();
    runner = await launch();
    account = await newAccount(origin, 'pk');
    server = http.createServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(widgetPage(origin, key));
    });
    await new Promise((resolve) => server.listen(0, '0.0.0.0', resolve));
    port = server.address().port;
  });

  after(async () => {
    await runner?.close();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve()));
  });

  async function runWidget(widgetOrigin) {
    const context = await runner.browser.newContext();
    try {
      const page = await context.newPage();
      page.setDefaultTimeout(TIMEOUT);
      await page.goto(`${widgetOrigin}/widget.html`);
      await page.locator('#out[data-done="yes"]').waitFor();
      return JSON.parse(await page.locator('#out').textContent());
    } finally {
      await context.close();
    }
  }

  test('the portal makes a key and allows an origin; the widget works from it and not from another origin', async () => {
    const watched = await watchedContext(runner.browser, origin);
    const page = await watched.context.newPage();
    page.setDefaultTimeout(TIMEOUT);
    try {
      await signInWithPassword(page, origin, account.email, account.password);
      await page.getByRole('link', { name: 'Publishable keys' }).click();
      await page.getByRole('heading', { name: 'Publishable keys', level: 1 }).waitFor();
      await page.getByText('No publishable keys yet').waitFor();
      await page.getByText('No allowed origins yet').waitFor();

      // The form checks before sending; the server's refusal lands on the field.
      await page.getByTestId('create-publishable-key').click();
      await page.getByText('Give the key a name').waitFor();
      await page.getByRole('textbox', { name: 'Name' }).fill('Pricing widget');
      await page.getByTestId('create-publishable-key').click();
      const cell = page.getByRole('table', { name: 'Publishable keys' }).locator('code');
      await cell.first().waitFor();
      key = (await cell.first().textContent()).trim();
      assert.match(key, /^tg_pk_live_[0-9A-Za-z]{40}$/);

      await page.getByRole('textbox', { name: 'Origin' }).fill('https://*.example.com');
      await page.getByTestId('add-origin').click();
      await page.getByText('Wildcards are not allowed').waitFor();
      await page.getByRole('textbox', { name: 'Origin' }).fill('https://shop.example.com/path');
      await page.getByTestId('add-origin').click();
      await page.getByText(/an origin has no path/).waitFor();
      await page.getByRole('textbox', { name: 'Origin' }).fill(`http://127.0.0.1:${port}/`);
      await page.getByTestId('add-origin').click();
      await page.getByRole('table', { name: 'Allowed origins' }).getByText(`http://127.0.0.1:${port}`).waitFor();
      await capture(page, 'publishable-keys');
      await page.waitForTimeout(300);
      assert.deepEqual(watched.problems(), [], 'the portal loads nothing from other origins and logs no errors');
    } finally {
      await watched.context.close();
    }

    // The allowed origin: both calls succeed, through a real preflight.
    const ok = await runWidget(`http://127.0.0.1:${port}`);
    assert.equal(ok.check.status, 200, JSON.stringify(ok));
    assert.equal(ok.check.body.allowed, true);
    assert.equal(ok.check.body.tenant.name, account.tenantName);
    assert.equal(ok.branding.status, 200, JSON.stringify(ok));
    assert.equal(ok.branding.body.tenant.name, account.tenantName);

    // The same page from another origin: the browser refuses to hand over the answers.
    const refused = await runWidget(`http://localhost:${port}`);
    assert.match(refused.check.failed ?? '', /TypeError|Failed to fetch/, JSON.stringify(refused));
    assert.match(refused.branding.failed ?? '', /TypeError|Failed to fetch/, JSON.stringify(refused));
  });

  test('a revoked key stops working in the widget at once', async () => {
    assert.ok(key, 'the first test made a key');
    const watched = await watchedContext(runner.browser, origin);
    const page = await watched.context.newPage();
    page.setDefaultTimeout(TIMEOUT);
    try {
      await signInWithPassword(page, origin, account.email, account.password);
      await page.goto(`${origin}/publishable-keys`);
      await page.getByRole('button', { name: 'Revoke “Pricing widget”' }).click();
      await page.getByRole('button', { name: 'Revoke key' }).click();
      await page.getByRole('table', { name: 'Publishable keys' }).getByText('revoked').waitFor();
      await page.waitForTimeout(300);
      assert.deepEqual(watched.problems(), []);
    } finally {
      await watched.context.close();
    }
    // The page can read why: a coded 401 (through a real preflight for the POST), the same
    // from any well-formed origin, naming nothing of the workspace.
    for (const from of [`http://127.0.0.1:${port}`, `http://localhost:${port}`]) {
      const gone = await runWidget(from);
      for (const call of [gone.check, gone.branding]) {
        assert.equal(call.status, 401, JSON.stringify(gone));
        assert.equal(call.body.errors[0].extensions.code, 'UNAUTHENTICATED', JSON.stringify(gone));
        assert.match(call.body.errors[0].message, /revoked, or never issued/);
        assert.ok(!JSON.stringify(call.body).includes(account.tenantName), 'nothing of the workspace');
      }
    }
    // A publishable key is no credential for the API itself.
    await assert.rejects(gql(origin, '{ tenant { members { nodes { role } } } }', {}, key), /FORBIDDEN/);
  });
});
