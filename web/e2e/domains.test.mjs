// Browser tests of tenants by domain against a RUNNING tenantgate server started with --demo,
// `--base-domain app.example.test` and `--dns-server 127.0.0.1:18353` (this file answers
// DNS there; TENANTGATE_E2E_DNS_PORT picks another port):
//   TENANTGATE_URL=http://127.0.0.1:8080 node --test e2e/domains.test.mjs
// Chromium maps *.app.example.test to the server (--host-resolver-rules), so a workspace's
// own address serves the sign-in page in its branding. One sign-up.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import dgram from 'node:dgram';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { chromium } from 'playwright-core';
import { adminToken, baseUrl, capture, CHROMIUM_ARGS, executablePath, gql, newAccount, watchedContext } from './harness.mjs';

const TIMEOUT = 15_000;
const BASE_DOMAIN = 'app.example.test';
const DNS_PORT = Number(process.env.TENANTGATE_E2E_DNS_PORT || 18353);

if (!process.env.TENANTGATE_URL) {
  test('TENANTGATE_URL points at a running tenantgate server', () => {
    baseUrl(); // throws the explanation
  });
}

/** A tiny authoritative DNS server on UDP: TXT answers from `records`, NXDOMAIN otherwise. */
function startDns(port, records) {
  const socket = dgram.createSocket('udp4');
  socket.on('message', (msg, rinfo) => {
    if (msg.length < 12) return;
    // The question: labels up to the zero byte, then type and class.
    let i = 12;
    const labels = [];
    while (i < msg.length && msg[i] !== 0) {
      labels.push(msg.subarray(i + 1, i + 1 + msg[i]).toString('latin1'));
      i += msg[i] + 1;
    }
    const question = msg.subarray(12, i + 5);
    const qtype = msg.readUInt16BE(i + 1);
    const name = labels.join('.').toLowerCase();
    const values = records.get(name);
    const answers = values && qtype === 16 ? values : [];
    const header = Buffer.alloc(12);
    msg.copy(header, 0, 0, 2); // the id
    header.writeUInt16BE(0x8400 | (msg.readUInt16BE(2) & 0x0100) | (values ? 0 : 3), 2); // QR AA RD, NXDOMAIN
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length, 6);
    const rrs = answers.map((value) => {
      const text = Buffer.from(value, 'latin1');
      const rr = Buffer.alloc(12);
      rr.writeUInt16BE(0xc00c, 0); // the question's name
      rr.writeUInt16BE(16, 2); // TXT
      rr.writeUInt16BE(1, 4); // IN
      rr.writeUInt32BE(60, 6);
      rr.writeUInt16BE(text.length + 1, 10);
      return Buffer.concat([rr, Buffer.from([text.length]), text]);
    });
    socket.send(Buffer.concat([header, question, ...rrs]), rinfo.port, rinfo.address);
  });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, '127.0.0.1', () => resolve(socket));
  });
}

/** hostTenant as answered for `host` (node's fetch cannot set Host: plain http). */
function hostTenantAt(origin, host) {
  const url = new URL(`${origin}/graphql`);
  const body = JSON.stringify({ query: '{ hostTenant { id name } }' });
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { host, 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve(JSON.parse(text)));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('tenants by domain', { skip: !process.env.TENANTGATE_URL && 'TENANTGATE_URL is not set' }, () => {
  let origin;
  let browser;
  let dns;
  const records = new Map();

  before(async () => {
    origin = baseUrl();
    const probe = await hostTenantAt(origin, `nobody-${crypto.randomBytes(4).toString('hex')}.${BASE_DOMAIN}`);
    assert.equal(
      probe.errors?.[0]?.extensions?.code,
      'NOT_FOUND',
      `start the server with --base-domain ${BASE_DOMAIN} --dns-server 127.0.0.1:${DNS_PORT}`,
    );
    dns = await startDns(DNS_PORT, records);
  });

  after(async () => {
    await browser?.close();
    dns?.close();
  });

  /**
   * A chromium that resolves *.app.example.test to the server and trusts `origins` (plain
   * http here; https in production) like localhost: else it warns about the COOP header.
   */
  async function launchFor(origins) {
    await browser?.close();
    browser = await chromium.launch({
      executablePath: executablePath(),
      args: [
        ...CHROMIUM_ARGS,
        `--host-resolver-rules=MAP *.${BASE_DOMAIN} 127.0.0.1`,
        `--unsafely-treat-insecure-origin-as-secure=${origins.join(',')}`,
      ],
    });
  }

  async function open(at) {
    const watched = await watchedContext(browser, at);
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

  async function quiet(page) {
    await page.locator('.mantine-Notification-root').first().waitFor({ state: 'detached', timeout: 10_000 });
  }

  test("a workspace's own address wears its branding; its settings verify a custom domain", async () => {
    const owner = await newAccount(origin, 'domains');
    const { tenant } = await gql(origin, '{ tenant { slug } }', {}, owner.token);
    const port = new URL(origin).port;
    const tenantOrigin = `http://${tenant.slug}.${BASE_DOMAIN}:${port}`;
    await launchFor([tenantOrigin]);

    // On the free plan, the settings card offers an upgrade.
    {
      const { page, done } = await open(tenantOrigin);
      await page.goto(`${tenantOrigin}/auth/sign-in`);
      await page.getByRole('textbox', { name: 'Email' }).fill(owner.email);
      await page.getByLabel(/^Password/).fill(owner.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('navigation', { name: 'Main' }).waitFor();
      await page.goto(`${tenantOrigin}/settings`);
      await page.getByTestId('domain-upgrade-hint').waitFor();
      await done();
    }

    // Pro plan (custom branding and domains), a display name and a colour.
    const admin = await adminToken(origin);
    await gql(
      origin,
      'mutation($t: ID!) { setTenantPlan(tenantId: $t, planKey: "pro") { id } }',
      { t: owner.tenantId },
      admin,
    );
    const brandName = `Shop ${crypto.randomBytes(3).toString('hex')}`;
    await gql(
      origin,
      'mutation($i: UpdateTenantInput!) { updateTenant(input: $i) { id } }',
      { i: { branding: { displayName: brandName, primaryColor: '#0b7a3b' } } },
      owner.token,
    );

    const { page, done } = await open(tenantOrigin);
    // The sign-in page on the workspace's address, before anyone signs in.
    await page.goto(`${tenantOrigin}/auth/sign-in`);
    const brand = page.getByTestId('auth-brand');
    await brand.waitFor();
    assert.equal(await brand.getAttribute('data-tenant'), owner.tenantId);
    assert.match(await brand.textContent(), new RegExp(brandName));
    assert.equal(await page.locator('style[data-brand-color]').getAttribute('data-brand-color'), '#0b7a3b');
    await capture(page, 'sign-in-branded');
    // The portal's own address stays unbranded.
    assert.equal((await hostTenantAt(origin, new URL(origin).host)).data.hostTenant, null);

    // Sign in there, claim a domain, publish the record, verify.
    await page.getByRole('textbox', { name: 'Email' }).fill(owner.email);
    await page.getByLabel(/^Password/).fill(owner.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
    await page.goto(`${tenantOrigin}/settings`);
    const card = page.getByTestId('custom-domain');
    const domain = `portal-${crypto.randomBytes(4).toString('hex')}.example.com`;
    // A refused value shows the server's message on the field.
    await card.getByRole('textbox', { name: 'Domain' }).fill('10.0.0.1');
    await card.getByRole('button', { name: 'Add domain' }).click();
    await card.getByText('an IP address is not a domain name').first().waitFor();
    await card.getByRole('textbox', { name: 'Domain' }).fill(domain);
    await card.getByRole('button', { name: 'Add domain' }).click();
    await card.getByText(`_tenantgate.${domain}`).waitFor();
    assert.equal(await card.getByTestId('domain-status').textContent(), 'Pending');
    const token = await card.locator('code', { hasText: 'tg-verify-' }).textContent();
    await card.getByRole('button', { name: 'Copy record value' }).waitFor();

    // Not published yet: failed, with the resolver's answer.
    await card.getByRole('button', { name: 'Verify' }).click();
    await card.getByTestId('domain-last-result').getByText(`no TXT record found at _tenantgate.${domain}`).waitFor();
    assert.equal(await card.getByTestId('domain-status').textContent(), 'Not verified');
    await quiet(page);
    await capture(page, 'settings-custom-domain-failed');

    // Published: verified, and the domain names the workspace.
    records.set(`_tenantgate.${domain}`, [token]);
    await card.getByRole('button', { name: 'Verify' }).click();
    await card.getByTestId('domain-status').getByText('Verified', { exact: true }).waitFor();
    const routed = await hostTenantAt(origin, domain);
    assert.equal(routed.data.hostTenant.id, owner.tenantId);
    await quiet(page);
    await capture(page, 'settings-custom-domain');

    // Removed (after a confirmation): back to the form, and the domain is refused (NOT_FOUND):
    // a custom host that routes to no workspace serves nothing, so no session starts there.
    await card.getByRole('button', { name: 'Remove domain' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Remove domain' }).click();
    await card.getByRole('textbox', { name: 'Domain' }).waitFor();
    const gone = await hostTenantAt(origin, domain);
    assert.equal(gone.data, undefined);
    assert.equal(gone.errors?.[0]?.extensions?.code, 'NOT_FOUND');
    await done();
  });

  test('an address under the base domain that names no workspace says so', async () => {
    const port = new URL(origin).port;
    const nowhere = `http://nobody-${crypto.randomBytes(4).toString('hex')}.${BASE_DOMAIN}:${port}`;
    await launchFor([nowhere]);
    const { page, done } = await open(nowhere);
    await page.goto(`${nowhere}/auth/sign-in`);
    await page.getByRole('alert').getByText('This address serves no workspace').waitFor();
    assert.match(await page.getByRole('alert').textContent(), /NOT_FOUND/);
    await capture(page, 'sign-in-unknown-address');
    await done();
  });
});
