// A companion in a child process, without a browser: the built Companion (dist/) opened on a data
// dir, so that tests can talk to its socket like a native host or CLI would and read what the
// process prints (e.g. with DEBUG=restory:*). Prints "ready <socket>" once listening; SIGTERM shuts
// it down cleanly (final checkpoint) and exits 0.
// Usage: node companion-process.mjs <dataDir>
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../../dist/companion/companion.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('companion-process: dist/ is not built; run npm run build\n');
  process.exit(2);
}
const { Companion } = await import(entry.href);
const companion = await Companion.open({
  dataDir: process.argv[2],
  onNotice: (m) => process.stderr.write(`restory: ${m}\n`),
});
process.on('SIGTERM', () => {
  companion.shutdown().then(
    () => process.exit(0),
    (e) => {
      process.stderr.write(`shutdown failed: ${e.message}\n`);
      process.exit(1);
    },
  );
});
process.stdout.write(`ready ${companion.dataDir}\n`);
