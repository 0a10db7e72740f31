// Browser tests of data exports against a RUNNING tenantgate server started with --demo:
// an owner asks for the workspace's export on the Settings page, waits for it to be
// ready, downloads it in Chromium and finds a ZIP with a manifest; a person downloads
// their own data from the Account page.
// TENANTGATE_URL=http://127.0.0.1:8080 node --test e2e/exports.test.mjs
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import zlib from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { baseUrl, capture, launch, newAccount, signInWithPassword, watchedContext } from './harness.mjs';

const TIMEOUT = 30_000;

/** The files of a ZIP archive (central directory, zip64 sizes included), inflated. */
function unzip(buf) {
  let eocd = buf.length - 22;
  while (eocd >= 0 && buf.readUInt32LE(eocd) !== 0x06054b50) eocd -= 1;
  assert.ok(eocd >= 0, 'an end of central directory record');
  const entries = buf.readUInt16LE(eocd + 10);
  let at = buf.readUInt32LE(eocd + 16);
  const files = new Map();
  for (let i = 0; i < entries; i += 1) {
    assert.equal(buf.readUInt32LE(at), 0x02014b50, 'a central directory entry');
    const method = buf.readUInt16LE(at + 10);
    let compressed = buf.readUInt32LE(at + 20);
    let size = buf.readUInt32LE(at + 24);
    const nameLen = buf.readUInt16LE(at + 28);
    const extraLen = buf.readUInt16LE(at + 30);
    const commentLen = buf.readUInt16LE(at + 32);
    let offset = buf.readUInt32LE(at + 42);
    const name = buf.subarray(at + 46, at + 46 + nameLen).toString('utf8');
    // zip64: the sizes and offset that read 0xFFFFFFFF are in extra field 0x0001, in order.
    let x = at + 46 + nameLen;
    const end = x + extraLen;
    while (x < end) {
      const id = buf.readUInt16LE(x);
      const len = buf.readUInt16LE(x + 2);
      if (id === 0x0001) {
        let p = x + 4;
        const next = () => {
          const v = Number(buf.readBigUInt64LE(p));
          p += 8;
          return v;
        };
        if (size === 0xffffffff) size = next();
        if (compressed === 0xffffffff) compressed = next();
        if (offset === 0xffffffff) offset = next();
      }
      x += 4 + len;
    }
    const local = offset + 30 + buf.readUInt16LE(offset + 26) + buf.readUInt16LE(offset + 28);
    const data = buf.subarray(local, local + compressed);
    const content = method === 8 ? zlib.inflateRawSync(data) : data;
    assert.equal(content.length, size, `${name}: its size`);
    files.set(name, content);
    at += 46 + nameLen + extraLen + commentLen;
  }
  return files;
}

describe('data exports', { skip: !process.env.TENANTGATE_URL && 'TENANTGATE_URL is not set' }, () => {
  let origin;
  let runner;
  let account;

  before(async () => {
    origin = baseUrl();
    runner = await launch();
    account = await newAccount(origin, 'export');
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

  /** Clicks Download on the first ready export of `section` and reads the file. */
  async function download(page, section) {
    const [file] = await Promise.all([
      page.waitForEvent('download'),
      section.getByRole('button', { name: /^Download the export of/ }).first().click(),
    ]);
    assert.match(file.suggestedFilename(), /^tenantgate-export-(tenant|personal)-\d{8}-[0-9a-f]{8}\.zip$/);
    const bytes = await fs.readFile(await file.path());
    assert.equal(bytes.subarray(0, 4).toString('binary'), 'PK\x03\x04', 'a ZIP archive');
    const files = unzip(bytes);
    const manifest = JSON.parse(files.get('manifest.json').toString('utf8'));
    assert.equal(manifest.format, 'tenantgate-export');
    for (const entry of manifest.files) {
      const lines = files.get(entry.name).toString('utf8').split('\n').filter(Boolean);
      assert.equal(lines.length, entry.rows, `${entry.name}: the manifest's count`);
    }
    return { manifest, files };
  }

  test("an owner exports the workspace's data and downloads the archive", async () => {
    await withPage(async (page) => {
      await signInWithPassword(page, origin, account.email, account.password);
      await page.goto(`${origin}/settings`);
      const section = page.getByRole('region', { name: 'Export data' });
      await section.getByText('No exports yet').waitFor();
      await section.getByRole('button', { name: 'Request export' }).click();
      await page.getByText('Export requested').waitFor();
      await section.getByTestId('export-status').filter({ hasText: 'Ready' }).first().waitFor();
      await page.getByText('Export requested').waitFor({ state: 'detached' });
      await capture(page, 'settings-export');
      const { manifest, files } = await download(page, section);
      assert.equal(manifest.kind, 'tenant');
      assert.equal(manifest.tenant_id, account.tenantId);
      const tenant = JSON.parse(files.get('tenant.jsonl').toString('utf8').trim());
      assert.equal(tenant.name, account.tenantName);
      // Asking again at once is fine (the last one is done); the list shows both.
      await section.getByRole('button', { name: 'Request export' }).click();
      await section.getByTestId('export-status').nth(1).waitFor();
    });
  });

  test('a person downloads their own data from the Account page', async () => {
    await withPage(async (page) => {
      await signInWithPassword(page, origin, account.email, account.password);
      await page.getByRole('button', { name: 'Account menu' }).click();
      await page.getByRole('menuitem', { name: 'Your account' }).click();
      await page.getByRole('heading', { name: 'Account', level: 1 }).waitFor();
      const section = page.getByRole('region', { name: 'Download my data' });
      await section.getByRole('button', { name: 'Request my data' }).click();
      await section.getByTestId('export-status').filter({ hasText: 'Ready' }).first().waitFor();
      await page.getByText('Export requested').waitFor({ state: 'detached' });
      await capture(page, 'account');
      const { manifest, files } = await download(page, section);
      assert.equal(manifest.kind, 'person');
      const user = JSON.parse(files.get('user.jsonl').toString('utf8').trim());
      assert.equal(user.email, account.email);
      assert.ok(!files.get('user.jsonl').toString('utf8').includes('password'), 'no password hash');
    });
  });
});
