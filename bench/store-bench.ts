/**
 * Store benchmark (not part of the tests): event → durable latency and checkpoint cost by size.
 *   npx tsc -p tsconfig.node.json && node dist/bench/store-bench.js [dir]
 * `dir` defaults to a temp dir; use one on the disk you care about (tmpfs makes fsync free).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SequencedEvent } from '../shared/protocol.js';
import { Store } from '../companion/store/store.js';

const parent = mkdtempSync(join(process.argv[2] ?? tmpdir(), 'restory-bench-'));
const NO_TIMER = { checkpointIntervalMs: 3_600_000, journalMaxBytes: 1024 * 1024 * 1024, snapshotsKept: 1000 };

function event(seq: number, value: string): SequencedEvent {
  return {
    seq,
    at: Date.now(),
    event: { kind: 'storage.change', tabId: 1, frameId: 0, origin: 'https://bench.test', area: 'local', clear: false, remove: [], set: { [`k${seq % 100}`]: value } },
  };
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
const ms = (n: number) => `${n.toFixed(2)} ms`;

async function latency(): Promise<void> {
  const store = await Store.open({ dataDir: join(parent, 'latency'), config: NO_TIMER });
  const s = store.createSession({ name: 'bench' });
  await store.flush();
  const samples: number[] = [];
  for (let seq = 1; seq <= 2000; seq++) {
    const t0 = performance.now();
    store.applyEvents(s.id, 'bench-instance', [event(seq, 'v'.repeat(32))]);
    await store.flush();
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  console.log(`event → durable, 2000 sequential small events (applyEvents + flush): p50 ${ms(pct(samples, 50))}, p99 ${ms(pct(samples, 99))}, max ${ms(samples[samples.length - 1])}`);

  // 20 producers at once (like 20 tabs writing): group commit shares the fdatasyncs.
  const concurrent: number[] = [];
  let seq = 2000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: 20 }, async () => {
      for (let i = 0; i < 100; i++) {
        const t0 = performance.now();
        store.applyEvents(s.id, 'bench-instance', [event(++seq, 'v'.repeat(32))]);
        await store.flush();
        concurrent.push(performance.now() - t0);
      }
    }),
  );
  const total = performance.now() - started;
  concurrent.sort((a, b) => a - b);
  console.log(`event → durable, 2000 events from 20 concurrent producers: p50 ${ms(pct(concurrent, 50))}, p99 ${ms(pct(concurrent, 99))}, ${Math.round(2000 / (total / 1000))} events/s`);
  await store.close();
}

async function checkpointCost(targetMb: number): Promise<void> {
  const dir = join(parent, `ckpt-${targetMb}`);
  const store = await Store.open({ dataDir: dir, config: NO_TIMER });
  const s = store.createSession({ name: 'bench' });
  // ~1 MB of fresh (incompressible, never deduplicated) state per snapshot.
  let seq = 0;
  const perSnapshot = Math.min(1, targetMb / 4);
  while (statSync(join(dir, 'restory.db')).size < targetMb * 1024 * 1024 * 0.97) {
    const values = Math.ceil((perSnapshot * 1024 * 1024) / 10_000);
    for (let i = 0; i < values; i++) store.applyEvents(s.id, 'i', [event(++seq, randomBytes(3750).toString('base64'))]);
    store.saveSnapshot(s.id, 'interval');
    store.checkpoint();
  }
  const size = statSync(join(dir, 'restory.db')).size;
  const times: number[] = [];
  for (let i = 0; i < 7; i++) {
    store.applyEvents(s.id, 'i', [event(++seq, 'x')]);
    const t0 = performance.now();
    store.checkpoint();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  console.log(`checkpoint (fold + export + fsync'd atomic rename + truncate) at ${(size / 1024 / 1024).toFixed(1)} MB: median ${ms(pct(times, 50))}, min ${ms(times[0])}, max ${ms(times[times.length - 1])}`);
  await store.close();
}

try {
  await latency();
  for (const mb of [1, 10, 50]) await checkpointCost(mb);
} finally {
  rmSync(parent, { recursive: true, force: true });
}
