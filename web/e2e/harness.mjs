// Shared setup for the browser tests: launches Debian's chromium through playwright-core and
// watches every page for third-party requests, console errors, page errors and CSP violations.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const RESULTS_DIR = path.resolve(here, '..', 'test-results');

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The running tenantgate server, from TENANTGATE_URL; throws a clear error when unset. */
export function baseUrl() {
  const raw = process.env.TENANTGATE_URL;
  if (!raw) {
    throw new Error(
      'TENANTGATE_URL is not set. Start tenantgate and run e.g. ' +
        '`TENANTGATE_URL=http://127.0.0.1:8080 npm run e2e` in web/.',
    );
  }
  let url;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`TENANTGATE_URL is not a URL: ${JSON.stringify(raw)}`);
  }
  return url.origin;
}

export function executablePath() {
  const p = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
  if (!fs.existsSync(p)) {
    throw new Error(`No browser at ${p}. Install it with: sudo sh web/scripts/ensure-browser.sh (or set CHROMIUM_PATH).`);
  }
  return p;
}

/** A headless chromium; playwright gives every launch a fresh, temporary user-data-dir. */
export async function launch() {
  const browser = await chromium.launch({
    executablePath: executablePath(),
    args: CHROMIUM_ARGS,
  });
  return { browser, close: () => browser.close() };
}

// The API may answer an operation with a 4xx status and a GraphQL JSON body (e.g. a
// validation error); chromium then logs "Failed to load resource" for /graphql. That is an
// API-level error the page shows, not a page problem, so it alone is tolerated.
function isToleratedConsoleError(msg, origin) {
  const loc = msg.location()?.url ?? '';
  return (
    /^Failed to load resource: the server responded with a status of 4\d\d/.test(msg.text()) &&
    loc === `${origin}/graphql`
  );
}

/**
 * A fresh browser context whose pages are all watched. `problems()` lists everything that
 * went wrong so far: requests to another origin, console errors, uncaught page errors, CSP
 * violations, and documents served without the expected Content-Security-Policy.
 */
export async function watchedContext(browser, origin) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const problems = [];
  const requests = [];

  // Report CSP violations from inside the page too (in addition to chromium's console message).
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || '(inline)'} in ${e.sourceFile}:${e.lineNumber}`);
    });
  });

  // Origins a test allows besides the app's (e.g. the Stripe simulator's checkout page,
  // learnt only once the app sends the browser there): checked when problems() is read.
  const alsoAllowed = new Set();
  const originOf = (url) => {
    const u = new URL(url);
    const httpish = u.protocol === 'ws:' ? 'http:' : u.protocol === 'wss:' ? 'https:' : u.protocol;
    return `${httpish}//${u.host}`;
  };
  const local = (url) => url.startsWith('data:') || url.startsWith('blob:') || url === 'about:blank';
  const ours = (url) => local(url) || originOf(url) === origin;
  const allowed = (url) => ours(url) || alsoAllowed.has(originOf(url));
  const foreign = [];

  context.on('request', (req) => {
    requests.push(req.url());
    if (!ours(req.url())) foreign.push({ url: req.url(), text: `request to another origin: ${req.method()} ${req.url()}` });
  });
  context.on('response', async (res) => {
    const req = res.request();
    if (req.resourceType() !== 'document' || !ours(res.url())) return;
    const csp = (await res.allHeaders())['content-security-policy'] ?? '';
    if (!csp.includes("script-src 'self'")) {
      problems.push(`document ${res.url()} was served without the expected Content-Security-Policy (got: ${csp || 'none'})`);
    }
  });
  context.on('page', (page) => watchPage(page));

  function watchPage(page) {
    page.on('console', (msg) => {
      if (msg.type() === 'error' && !isToleratedConsoleError(msg, origin)) {
        problems.push(`console error on ${page.url()}: ${msg.text()}`);
      } else if (/Content Security Policy/i.test(msg.text())) {
        problems.push(`CSP message on ${page.url()}: ${msg.text()}`);
      }
    });
    page.on('pageerror', (e) => problems.push(`uncaught error on ${page.url()}: ${e.message}`));
    page.on('websocket', (ws) => {
      if (!ours(ws.url())) foreign.push({ url: ws.url(), text: `websocket to another origin: ${ws.url()}` });
    });
  }

  return {
    context,
    problems: () => [...foreign.filter((f) => !allowed(f.url)).map((f) => f.text), ...problems],
    requests: () => [...requests],
    /** Allows requests to `other` (an origin) for the whole context, also those already made. */
    allowOrigin: (other) => alsoAllowed.add(new URL(other).origin),
  };
}

export async function screenshot(page, name) {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

// ---------------------------------------------------------------------------------------
// Helpers shared by the page tests.

export const DEMO_PASSWORD = 'tenantgate-demo-2026';
export const DEMO_ADMIN = 'admin@tenantgate.test';
export const PHONE = { width: 375, height: 812 };
export const DESKTOP = { width: 1280, height: 800 };

/** A GraphQL call from the test itself (text, as API clients send it). */
export async function gql(origin, query, variables = {}, token) {
  const res = await fetch(`${origin}/graphql`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      Accept: 'application/graphql-response+json',
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  if (body.errors?.length) throw new Error(`${body.errors[0].extensions?.code}: ${body.errors[0].message}`);
  return body.data;
}

/** An access token for an account (password sign-in through the API). */
export async function logIn(origin, email, password = DEMO_PASSWORD) {
  const data = await gql(origin, 'mutation($i: LogInInput!) { logIn(input: $i) { accessToken } }', {
    i: { email, password },
  });
  return data.logIn.accessToken;
}

/** A new user with a new workspace, through the API: { email, password, token, tenantId }. */
export async function newAccount(origin, prefix = 'e2e') {
  const email = `${prefix}-${Math.random().toString(16).slice(2, 10)}@example.com`;
  const password = 'correct-horse-battery-9';
  const data = await gql(
    origin,
    'mutation($i: SignUpInput!) { signUp(input: $i) { accessToken tenant { id name } } }',
    { i: { email, password, tenantName: `Works ${email.slice(4, 10)}` } },
  );
  return { email, password, token: data.signUp.accessToken, tenantId: data.signUp.tenant.id, tenantName: data.signUp.tenant.name };
}

/**
 * The newest link of `kind` (e.g. "magic-link", "accept-invitation") mailed to `to`, read
 * from the outbox as the demo platform admin (development servers keep bodies readable).
 */
/** An access token of the demo platform admin (one sign-in per test file). */
export async function adminToken(origin) {
  adminToken.value ??= await logIn(origin, DEMO_ADMIN);
  return adminToken.value;
}

export async function mailedLink(origin, to, kind, { timeoutMs = 10_000 } = {}) {
  const admin = await adminToken(origin);
  const deadline = Date.now() + timeoutMs;
  const pattern = new RegExp(`https?://[^\\s"<>]*/auth/${kind}\\?token=[^\\s"<>]+`);
  while (Date.now() < deadline) {
    const data = await gql(origin, '{ admin { outbox(first: 50) { to body } } }', {}, admin);
    const mail = data.admin.outbox.find((m) => m.to.toLowerCase() === to.toLowerCase() && pattern.test(m.body ?? ''));
    if (mail) {
      const link = new URL(mail.body.match(pattern)[0]);
      return `${origin}${link.pathname}${link.search}`;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no ${kind} link mailed to ${to}`);
}

/** Signs in through the sign-in page with a password. */
export async function signInWithPassword(page, origin, email, password = DEMO_PASSWORD) {
  await page.goto(`${origin}/auth/sign-in`);
  await page.getByRole('textbox', { name: 'Email' }).fill(email);
  await page.getByLabel(/^Password/).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
}

/**
 * Runs axe-core on the page and fails on any serious or critical violation (listing
 * each rule, its impact and the first offending element).
 */
export async function assertAccessible(page, name) {
  const { AxeBuilder } = await import('@axe-core/playwright');
  // A transition under way (a notification fading in or out) shows colours
  // between two states: axe would judge their contrast. Finite animations
  // are let finish first (at most 2 s); a real contrast fault stays.
  await page.evaluate(() =>
    Promise.race([
      Promise.all(
        document
          .getAnimations()
          .filter((a) => a.effect?.getTiming().iterations !== Infinity)
          .map((a) => a.finished.catch(() => undefined)),
      ),
      new Promise((resolve) => setTimeout(resolve, 2000)),
    ]),
  );
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  if (bad.length) {
    const lines = bad.map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes[0]?.target?.join(' ')} (${v.nodes.length} nodes)`);
    throw new Error(`axe on ${name}:\n${lines.join('\n')}`);
  }
}

/**
 * Screenshots the page at desktop and at phone width (`<name>-desktop.png`,
 * `<name>-phone.png` in test-results/), and checks it for accessibility at both widths.
 */
export async function capture(page, name) {
  const before = page.viewportSize() ?? DESKTOP;
  await page.setViewportSize(DESKTOP);
  await page.waitForTimeout(150);
  await assertAccessible(page, `${name} (desktop)`);
  await screenshot(page, `${name}-desktop`);
  await page.setViewportSize(PHONE);
  await page.waitForTimeout(150);
  // Nothing wider than the phone: no sideways scrolling of the page itself.
  // (Measured again for up to a second: on a busy machine the layout may lag the resize.)
  const measure = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  let overflow = await measure();
  for (let i = 0; overflow > 1 && i < 5; i++) {
    await page.waitForTimeout(200);
    overflow = await measure();
  }
  if (overflow > 1) throw new Error(`${name} is ${overflow}px wider than a 375px phone screen`);
  await assertAccessible(page, `${name} (phone)`);
  await screenshot(page, `${name}-phone`);
  await page.setViewportSize(before);
}
