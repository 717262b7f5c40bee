/**
 * SqlJsStore workloads shared by store-bench.ts (the quick CLI micro-bench) and the store-scaling
 * benchmark: capture events, growing a database to a size, commit latency of the store alone.
 */
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { SqlJsStore } from '../companion/store/sqljs-store.js';
import type { SequencedEvent } from '../shared/capture-events.js';

/** No background checkpoints, no size-triggered ones, no pruning: the benchmark decides. */
export const NO_TIMER = { checkpointIntervalMs: 3_600_000, journalMaxBytes: 1024 * 1024 * 1024, snapshotsKept: 1000 };

export function storageEvent(seq: number, set: Record<string, string>, origin = 'https://bench.test'): SequencedEvent {
  return {
    seq,
    at: Date.now(),
    event: { kind: 'storage.change', tabId: 1, frameId: 0, origin, area: 'local', clear: false, remove: [], set },
  };
}

/** A small write to one of 100 keys (the common case). */
export function event(seq: number, value: string): SequencedEvent {
  return storageEvent(seq, { [`k${seq % 100}`]: value });
}

/**
 * Grow the database file to about `targetMb` with snapshots of ~1 MB of fresh, incompressible,
 * never-deduplicated state each (checkpointing after each, as the timer would). Returns the next seq.
 */
export function growStore(store: SqlJsStore, sessionId: string, targetMb: number, seq = 0): number {
  const perSnapshot = Math.min(1, targetMb / 4);
  while (statSync(store.paths.db).size < targetMb * 1024 * 1024 * 0.97) {
    const values = Math.ceil((perSnapshot * 1024 * 1024) / 10_000);
    for (let i = 0; i < values; i++) store.applyEvents(sessionId, 'i', [event(++seq, randomBytes(3750).toString('base64'))]);
    store.saveSnapshot(sessionId, 'interval');
    store.checkpoint();
  }
  return seq;
}

/** Event → durable on the store alone: applyEvents + flush (one fdatasync'd group commit each). */
export async function sequentialCommits(store: SqlJsStore, sessionId: string, n: number, seq: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    store.applyEvents(sessionId, 'i', [event(++seq, 'v'.repeat(32))]);
    await store.flush();
    samples.push(performance.now() - t0);
  }
  return samples;
}

/** `producers` writers at once, each waiting for its own commit (like many tabs): group commit shares the fdatasyncs. */
export async function concurrentCommits(
  store: SqlJsStore,
  sessionId: string,
  producers: number,
  each: number,
  seq: number,
): Promise<{ samples: number[]; eventsPerSecond: number }> {
  const samples: number[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: producers }, async () => {
      for (let i = 0; i < each; i++) {
        const t0 = performance.now();
        store.applyEvents(sessionId, 'i', [event(++seq, 'v'.repeat(32))]);
        await store.flush();
        samples.push(performance.now() - t0);
      }
    }),
  );
  return { samples, eventsPerSecond: (producers * each) / ((performance.now() - started) / 1000) };
}

export type BuildSpec = { kind: 'size'; mb: number } | { kind: 'snapshots'; sessions: number; each: number } | { kind: 'bigLocal'; mb: number };

export interface BuildResult {
  dbBytes: number;
  buildMs: number;
}

/** Build a data dir for one store-scaling case (and close it). */
export async function buildCase(dataDir: string, spec: BuildSpec): Promise<BuildResult> {
  const t0 = performance.now();
  const store = await SqlJsStore.open({ dataDir, config: NO_TIMER });
  if (spec.kind === 'size') {
    const s = store.createSession({ name: 'bench' });
    growStore(store, s.id, spec.mb);
  } else if (spec.kind === 'snapshots') {
    // Distinct states of ~5 KB (20 keys of 250 chars; one changes per snapshot), default retention.
    let seq = 0;
    for (let n = 0; n < spec.sessions; n++) {
      const s = store.createSession({ name: `bench ${n}` });
      const base: Record<string, string> = {};
      for (let k = 0; k < 20; k++) base[`key${k}`] = `${n}:${k}:`.padEnd(250, '.');
      store.applyEvents(s.id, 'i', [storageEvent(++seq, base)]);
      for (let i = 0; i < spec.each; i++) {
        store.applyEvents(s.id, 'i', [storageEvent(++seq, { key0: `${i}`.padEnd(250, '#') })]);
        store.saveSnapshot(s.id, 'interval');
      }
    }
    store.checkpoint();
  } else {
    const s = store.createSession({ name: 'big localStorage' });
    const set: Record<string, string> = {};
    for (let i = 0; i < spec.mb; i++) set[`big${i}`] = String(i % 10).repeat(1024 * 1024 - 8);
    store.applyEvents(s.id, 'i', [storageEvent(1, set)]);
    store.saveSnapshot(s.id, 'interval');
    store.checkpoint();
  }
  await store.close();
  return { dbBytes: statSync(store.paths.db).size, buildMs: performance.now() - t0 };
}

