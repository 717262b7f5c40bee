#!/usr/bin/env node
// The CLI runs from the compiled output; `npm run build` (or `npm test`) produces it.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/companion/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('restory: not built yet; run: npm run build\n');
  process.exit(1);
}
const { main } = await import(entry.href);
const code = await main(process.argv.slice(2));
process.exitCode = code;
// Let stdout drain (an export can be megabytes into a pipe), but never hang on a stray handle.
setTimeout(() => process.exit(code), 3000).unref();
