/**
 * One measurement of `restory resume <id>`'s start-up on a build: Companion.open on a copy of a data
 * dir built by resume-open-fill.ts (of that build's schema), then the store work of resuming the
 * small session (what session-browsers.ts does before the browser starts), then shutdown. The build
 * is given by its root, so two worktrees can be measured side by side, alternating. Prints one JSON line.
 *
 *   node dist/bench/resume-open-compare.js <build root> <dataDir>
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Companion as CompanionClass } from '../companion/companion.js';

const [root, source] = process.argv.slice(2);
const { Companion } = (await import(pathToFileURL(join(root, 'dist', 'companion', 'companion.js')).href)) as { Companion: typeof CompanionClass };
const copy = mkdtempSync(join(tmpdir(), 'restory-bench-compare-'));
try {
  // Not the killed writer's lock: its pid may since belong to another process, which would hold it.
  cpSync(source, copy, { recursive: true, filter: (f) => !f.endsWith('companion.lock') });
  const t0 = performance.now();
  const companion = await Companion.open({ dataDir: copy, env: {}, config: { checkpointIntervalMs: 3_600_000, snapshotIntervalMs: 3_600_000 } });
  const t1 = performance.now();
  const store = companion.store;
  await store.requireSession('small');
  const snapshot = await store.requireSnapshot('small');
  await store.resetLive('small', snapshot.state);
  await store.setState('small', 'active');
  await store.flush();
  const t2 = performance.now();
  await companion.shutdown();
  const t3 = performance.now();
  process.stdout.write(JSON.stringify({ openMs: t1 - t0, resumeStoreMs: t2 - t1, openAndResumeMs: t2 - t0, shutdownMs: t3 - t2 }) + '\n');
} finally {
  rmSync(copy, { recursive: true, force: true });
}
