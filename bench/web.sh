#!/usr/bin/env bash
# The web app's first-load JavaScript (gzipped): builds web/ and prints what
# dist/index.html loads before any page-specific chunk, file by file, and the total.
# `npm run build` fails above 300 KB (web/scripts/check-size.mjs); this only reports.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
ensure_node
build_web
cd web
node scripts/check-size.mjs
node -e '
const fs = require("fs"), zlib = require("zlib");
const html = fs.readFileSync("dist/index.html", "utf8");
const refs = [...new Set([...html.matchAll(/"(\/assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1]))];
for (const r of refs) {
  const raw = fs.readFileSync("dist" + r);
  console.log(`${r.padEnd(48)} ${(raw.length / 1024).toFixed(1).padStart(7)} KB  ${(zlib.gzipSync(raw, { level: 9 }).length / 1024).toFixed(1).padStart(6)} KB gz`);
}
const lazy = fs.readdirSync("dist/assets").filter((f) => f.endsWith(".js") && !refs.includes("/assets/" + f));
const gz = (f) => zlib.gzipSync(fs.readFileSync("dist/assets/" + f), { level: 9 }).length;
console.log(`code-split chunks (pages, charts, GraphiQL): ${lazy.length} files, ${(lazy.reduce((a, f) => a + gz(f), 0) / 1024).toFixed(1)} KB gz in all`);
'
