// Copies the persisted-documents manifest that graphql-codegen wrote (src/gql/) into
// dist/, where the server loads it (embedded in the binary, or from --web-dir).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const web = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const from = path.join(web, 'src/gql/persisted-documents.json');
const to = path.join(web, 'dist/persisted-documents.json');
fs.copyFileSync(from, to);
const count = Object.keys(JSON.parse(fs.readFileSync(to, 'utf8'))).length;
console.log(`persisted documents: ${count} -> dist/persisted-documents.json`);
