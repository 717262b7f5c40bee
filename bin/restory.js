#!/usr/bin/env node
// The CLI runs from the compiled output; `npm run build` (or `npm test`) produces it: tsc's files in
// dist/companion/, and the same code bundled into dist/cli/ (companion/cli/bundle.config.ts), which
// starts faster. The bundle runs only when it is at least as new as tsc's output, so a `tsc` alone
// never leaves the CLI running older code.
import { statSync } from 'node:fs';

const compiled = new URL('../dist/companion/cli/main.js', import.meta.url);
const bundled = new URL('../dist/cli/main.js', import.meta.url);
const modified = (url) => statSync(url, { throwIfNoEntry: false })?.mtimeMs;
const compiledAt = modified(compiled);
if (compiledAt === undefined) {
  process.stderr.write('restory: not built yet; run: npm run build\n');
  process.exit(1);
}
const bundledAt = modified(bundled);
const entry = bundledAt !== undefined && bundledAt >= compiledAt ? bundled : compiled;
const { main } = await import(entry.href);
const code = await main(process.argv.slice(2));
process.exitCode = code;
// Let stdout drain (an export can be megabytes into a pipe), but never hang on a stray handle.
setTimeout(() => process.exit(code), 3000).unref();
