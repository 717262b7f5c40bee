/**
 * SqlJsStore micro-benchmark (quick, store only; `npm run bench` runs the full suite, see run.ts):
 * event → durable latency and checkpoint cost by size.
 *   npx tsc -p tsconfig.node.json && node dist/bench/store-bench.js [dir]
 * `dir` defaults to a temp dir; use one on the disk you care about (tmpfs makes fsync free).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqlJsStore } from '../companion/store/sqljs-store.js';
import { NO_TIMER, concurrentCommits, event, growStore, sequentialCommits } from './store-fill.js';
import { fmtMs, summarize } from './stats.js';

const parent = mkdtempSync(join(process.argv[2] ?? tmpdir(), 'restory-bench-'));

async function latency(): Promise<void> {
  const store = await SqlJsStore.open({ dataDir: join(parent, 'latency'), config: NO_TIMER });
  const s = store.createSession({ name: 'bench' });
  await store.flush();
  const seq = summarize(await sequentialCommits(store, s.id, 2000, 0));
  console.log(`event → durable, 2000 sequential small events (applyEvents + flush): p50 ${fmtMs(seq.p50)}, p99 ${fmtMs(seq.p99)}, max ${fmtMs(seq.max)}`);
  const conc = await concurrentCommits(store, s.id, 20, 100, 2000);
  const c = summarize(conc.samples);
  console.log(`event → durable, 2000 events from 20 concurrent producers: p50 ${fmtMs(c.p50)}, p99 ${fmtMs(c.p99)}, ${Math.round(conc.eventsPerSecond)} events/s`);
  await store.close();
}

async function checkpointCost(targetMb: number): Promise<void> {
  const store = await SqlJsStore.open({ dataDir: join(parent, `ckpt-${targetMb}`), config: NO_TIMER });
  const s = store.createSession({ name: 'bench' });
  let seq = growStore(store, s.id, targetMb);
  const size = statSync(store.paths.db).size;
  const times: number[] = [];
  for (let i = 0; i < 7; i++) {
    store.applyEvents(s.id, 'i', [event(++seq, 'x')]);
    const t0 = performance.now();
    store.checkpoint();
    times.push(performance.now() - t0);
  }
  const t = summarize(times);
  console.log(`checkpoint (fold + export + fsync'd atomic rename + truncate) at ${(size / 1024 / 1024).toFixed(1)} MB: median ${fmtMs(t.median)}, min ${fmtMs(t.min)}, max ${fmtMs(t.max)}`);
  await store.close();
}

try {
  await latency();
  for (const mb of [1, 10, 50]) await checkpointCost(mb);
} finally {
  rmSync(parent, { recursive: true, force: true });
}
