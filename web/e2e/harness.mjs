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

  const allowed = (url) => {
    if (url.startsWith('data:') || url.startsWith('blob:') || url === 'about:blank') return true;
    const u = new URL(url);
    const httpish = u.protocol === 'ws:' ? 'http:' : u.protocol === 'wss:' ? 'https:' : u.protocol;
    return `${httpish}//${u.host}` === origin;
  };

  context.on('request', (req) => {
    requests.push(req.url());
    if (!allowed(req.url())) problems.push(`request to another origin: ${req.method()} ${req.url()}`);
  });
  context.on('response', async (res) => {
    const req = res.request();
    if (req.resourceType() !== 'document' || !allowed(res.url())) return;
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
      if (!allowed(ws.url())) problems.push(`websocket to another origin: ${ws.url()}`);
    });
  }

  return { context, problems: () => [...problems], requests: () => [...requests] };
}

export async function screenshot(page, name) {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
