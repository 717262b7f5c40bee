/**
 * Child process of the store-scaling benchmark, so that memory readings belong to one companion
 * alone (not to the harness, Playwright or an earlier case): opens a real Companion on a data dir,
 * measures, shuts down. Prints one JSON line.
 *
 *   node dist/bench/store-probe.js <dataDir> '{"checkpoints":7,"commits":200}'   (dataDir built by buildCase)
 */
import { statSync } from 'node:fs';
import { Companion } from '../companion/companion.js';
import { SqlJsStore } from '../companion/store/sqljs-store.js';
import { NO_TIMER, event, sequentialCommits } from './store-fill.js';

export interface MeasureResult {
  dbBytesOpen: number;
  dbBytes: number;
  sessions: number;
  snapshots: number;
  openMs: number;
  rssBeforeMb: number;
  rssOpenMb: number;
  rssAfterMb: number;
  checkpointMs: number[];
  snapshotMs: number[];
  commitMs: number[];
  listSnapshotsMs: number;
  shutdownMs: number;
}

const rss = () => process.memoryUsage().rss / 1024 / 1024;
const gc = () => (globalThis as { gc?: () => void }).gc?.();

async function measure(dataDir: string, opts: { checkpoints: number; commits: number }): Promise<MeasureResult> {
  gc();
  const rssBeforeMb = rss();
  const t0 = performance.now();
  const companion = await Companion.open({ dataDir, config: NO_TIMER });
  const openMs = performance.now() - t0;
  gc();
  const rssOpenMb = rss();
  const store = companion.store;
  // The probe measures the embedded store's own costs (checkpoint, file size).
  if (!(store instanceof SqlJsStore)) throw new Error('the store probe measures the embedded sql.js store');
  const dbBytesOpen = statSync(store.paths.db).size;
  const sessions = store.listSessions();
  const id = sessions[sessions.length - 1].id;
  let seq = 10_000_000;
  const listStart = performance.now();
  const snapshots = sessions.reduce((n, s) => n + store.listSnapshots(s.id).length, 0);
  const listSnapshotsMs = performance.now() - listStart;

  const commitMs = await sequentialCommits(store, id, opts.commits, seq);
  seq += opts.commits;
  const checkpointMs: number[] = [];
  const snapshotMs: number[] = [];
  for (let i = 0; i < opts.checkpoints; i++) {
    store.applyEvents(id, 'i', [event(++seq, `change ${i}`)]);
    let t = performance.now();
    store.saveSnapshot(id, 'manual');
    await store.flush();
    snapshotMs.push(performance.now() - t);
    t = performance.now();
    store.checkpoint();
    checkpointMs.push(performance.now() - t);
  }
  gc();
  const rssAfterMb = rss();
  const s0 = performance.now();
  await companion.shutdown();
  return {
    dbBytesOpen,
    dbBytes: statSync(store.paths.db).size,
    sessions: sessions.length,
    snapshots,
    openMs,
    rssBeforeMb,
    rssOpenMb,
    rssAfterMb,
    checkpointMs,
    snapshotMs,
    commitMs,
    listSnapshotsMs,
    shutdownMs: performance.now() - s0,
  };
}

const [dataDir, opts] = process.argv.slice(2);
const result = await measure(dataDir, JSON.parse(opts) as { checkpoints: number; commits: number });
process.stdout.write(JSON.stringify(result) + '\n');
