// zod compiles object parsers with `new Function` unless told not to; the server's CSP
// (script-src 'self', no 'unsafe-eval') forbids that, and even zod's probe for it reports
// a CSP violation. Imported first by main.tsx.
import { z } from 'zod';

z.config({ jitless: true });
