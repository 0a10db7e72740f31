// The cold-load budget of the portal: the JavaScript that dist/index.html loads before
// any page-specific chunk (its entry script and the modules it preloads) must stay under
// 300 KB gzipped. Pages, charts and GraphiQL are code-split and not counted here.
// Prints the figure; exits 1 over budget. Run by `npm run build`.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const BUDGET = 300 * 1024;
const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const html = fs.readFileSync(path.join(dist, 'index.html'), 'utf8');
const refs = [...html.matchAll(/<(?:script[^>]*\bsrc|link[^>]*rel="modulepreload"[^>]*\bhref)="(\/assets\/[^"]+\.js)"/g)].map((m) => m[1]);
if (refs.length === 0) {
  console.error('check-size: dist/index.html loads no script (did the build change shape?)');
  process.exit(1);
}
let total = 0;
for (const ref of new Set(refs)) {
  const bytes = zlib.gzipSync(fs.readFileSync(path.join(dist, ref)), { level: 9 }).length;
  total += bytes;
}
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
console.log(`first-load JavaScript: ${kb(total)} gzipped in ${new Set(refs).size} files (budget ${kb(BUDGET)})`);
if (total > BUDGET) {
  console.error(`check-size: the portal's first load is ${kb(total)} gzipped, over the ${kb(BUDGET)} budget: code-split it`);
  process.exit(1);
}
