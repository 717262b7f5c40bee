#!/usr/bin/env node
// The CLI runs from the compiled output; `npm run build` (or `npm test`) produces it: tsc's files in
// dist/companion/, and the same code bundled into dist/cli/ (companion/cli/bundle.config.ts), which
// starts faster. The bundle runs only when it is at least as new as tsc's output, so a `tsc` alone
// never leaves the CLI running older code.
//
// This file is CommonJS (bin/package.json): the answers that run no command (--help, --version, an
// unknown command) come from dist/cli/quick-answers.cjs before Node's ES module loader starts, which
// costs Node 20 ~15 ms of CPU that those answers cannot spare (README → CLI start-up).
'use strict';
const { statSync } = require('node:fs');
const { join } = require('node:path');
const { pathToFileURL } = require('node:url');

const dist = join(__dirname, '..', 'dist');
const compiled = join(dist, 'companion', 'cli', 'main.js');
const modified = (file) => statSync(file, { throwIfNoEntry: false })?.mtimeMs;
const compiledAt = modified(compiled);
if (compiledAt === undefined) {
  process.stderr.write('restory: not built yet; run: npm run build\n');
  process.exit(1);
}
const current = (file) => (modified(file) ?? -1) >= compiledAt;
const argv = process.argv.slice(2);
const quick = join(dist, 'cli', 'quick-answers.cjs');
const answered = current(quick) ? require(quick).quickAnswer(argv) : null;
if (answered !== null) {
  process.exitCode = answered;
} else {
  const bundled = join(dist, 'cli', 'main.js');
  import(pathToFileURL(current(bundled) ? bundled : compiled).href)
    .then(({ main }) => main(argv))
    .then((code) => {
      process.exitCode = code;
      // Let stdout drain (an export can be megabytes into a pipe), but never hang on a stray handle.
      setTimeout(() => process.exit(code), 3000).unref();
    });
}
