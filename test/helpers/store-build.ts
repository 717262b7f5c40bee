/**
 * Child processes in the store tests (crash test, lock racers) run the real store code as plain
 * JavaScript. Vitest transforms TypeScript only in its own workers, so compile the store's import
 * closure with tsc into a private directory under the repo (so `sql.js` and `zod` resolve from
 * node_modules). Works from a clean checkout, without `npm run build`; ~2 s.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

export function buildStore(): { dir: string; storeJs: string; lockJs: string; remove: () => void } {
  const parent = join(ROOT, '.restory-test');
  mkdirSync(parent, { recursive: true });
  const dir = join(parent, `store-build-${process.pid}-${Date.now()}`);
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  execFileSync(
    process.execPath,
    [tsc, '--ignoreConfig', '--outDir', dir, '--rootDir', ROOT, '--module', 'nodenext', '--moduleResolution', 'nodenext',
      '--target', 'es2022', '--strict', '--skipLibCheck', '--types', 'node',
      join(ROOT, 'companion/store/sqljs-store.ts'), join(ROOT, 'companion/store/data-dir-lock.ts'),
      // Started as a worker by URL, so not in sqljs-store.ts's import closure.
      join(ROOT, 'companion/store/checkpoint-worker.ts')],
    { cwd: ROOT, stdio: 'pipe' },
  );
  return {
    dir,
    storeJs: join(dir, 'companion/store/sqljs-store.js'),
    lockJs: join(dir, 'companion/store/data-dir-lock.js'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
