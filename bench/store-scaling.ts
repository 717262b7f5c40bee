/**
 * SqlJsStore scaling: persist (checkpoint) time, snapshot time, open time and companion memory at
 * database sizes of 1, 10 and 50 MB (and 200 MB with RESTORY_BENCH_200MB=1), with many snapshots (100 sessions × 10, the default retention),
 * and for a session holding 5 MB of localStorage. Each case is built here and measured by a fresh
 * child process (bench/store-probe.ts) that opens a real Companion (store + socket, no
 * browser) on it, so the memory reading is the companion's alone (RSS, after a GC).
 * Also the store alone's commit latency (applyEvents + fdatasync) and its ceiling with one event per
 * commit from 20 concurrent producers.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SqlJsStore } from '../companion/store/sqljs-store.js';
import { projectRoot } from '../companion/project-root.js';
import { tempDir, type Benchmark, type Row } from './harness.js';
import { NO_TIMER, buildCase, concurrentCommits, sequentialCommits, type BuildSpec } from './store-fill.js';
import type { MeasureResult } from './store-probe.js';
import { fmtMs, fmtSummaryMs, summarize, type Summary } from './stats.js';

const run = promisify(execFile);
const PROBE = join(projectRoot(), 'dist', 'bench', 'store-probe.js');

interface Case {
  label: string;
  spec: BuildSpec;
}

export interface ScalingCase {
  label: string;
  /** File size when the companion opened it, and after the measured snapshots and checkpoints. */
  dbMb: number;
  dbMbAfter: number;
  sessions: number;
  snapshots: number;
  buildMs: number;
  openMs: number;
  companionRssMb: number;
  /** RSS of a bare Node process that loaded the same modules, before opening: the companion's own share is the difference. */
  baselineRssMb: number;
  checkpoint: Summary;
  snapshot: Summary;
  commit: Summary;
  shutdownMs: number;
}

export interface StoreScalingData {
  cases: ScalingCase[];
  storeAlone: { sequential: Summary; concurrent: Summary & { eventsPerSecond: number; producers: number } };
}

async function probe<T>(args: string[]): Promise<T> {
  const { stdout } = await run(process.execPath, ['--expose-gc', PROBE, ...args], { maxBuffer: 16 * 1024 * 1024, timeout: 600_000 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as T;
}

export const storeScaling: Benchmark = {
  name: 'storeScaling',
  title: 'Store scaling',
  async run(ctx) {
    const cases: Case[] = ctx.quick
      ? [
          { label: '1 MB database', spec: { kind: 'size', mb: 1 } },
          { label: '10 sessions × 10 snapshots', spec: { kind: 'snapshots', sessions: 10, each: 10 } },
          { label: 'a session with 1 MB of localStorage', spec: { kind: 'bigLocal', mb: 1 } },
        ]
      : [
          { label: '1 MB database', spec: { kind: 'size', mb: 1 } },
          { label: '10 MB database', spec: { kind: 'size', mb: 10 } },
          { label: '50 MB database', spec: { kind: 'size', mb: 50 } },
          // Minutes to build and measure on a loaded 2-core machine: asked for, as checkpointLatency does.
          ...(process.env.RESTORY_BENCH_200MB === '1' ? [{ label: '200 MB database', spec: { kind: 'size', mb: 200 } } as const] : []),
          { label: '100 sessions × 10 snapshots', spec: { kind: 'snapshots', sessions: 100, each: 10 } },
          { label: 'a session with 5 MB of localStorage', spec: { kind: 'bigLocal', mb: 5 } },
        ];
    const measureOpts = JSON.stringify(ctx.quick ? { checkpoints: 2, commits: 20 } : { checkpoints: 7, commits: 200 });
    const results: ScalingCase[] = [];
    for (const c of cases) {
      const dir = tempDir('scaling');
      try {
        const built = await buildCase(dir.path, c.spec);
        const m = await probe<MeasureResult>([dir.path, measureOpts]);
        results.push({
          label: c.label,
          dbMb: m.dbBytesOpen / 1024 / 1024,
          dbMbAfter: m.dbBytes / 1024 / 1024,
          sessions: m.sessions,
          snapshots: m.snapshots,
          buildMs: built.buildMs,
          openMs: m.openMs,
          companionRssMb: m.rssAfterMb,
          baselineRssMb: m.rssBeforeMb,
          checkpoint: summarize(m.checkpointMs),
          snapshot: summarize(m.snapshotMs),
          commit: summarize(m.commitMs),
          shutdownMs: m.shutdownMs,
        });
        ctx.log(`  ${c.label}: ${(m.dbBytesOpen / 1024 / 1024).toFixed(1)} MB, checkpoint ${fmtSummaryMs(summarize(m.checkpointMs))}, RSS ${m.rssAfterMb.toFixed(0)} MB`);
      } finally {
        dir.remove();
      }
    }

    // The store alone, in this process: how fast can it make single events durable?
    const dir = tempDir('commits');
    let storeAlone: StoreScalingData['storeAlone'];
    try {
      const store = await SqlJsStore.open({ dataDir: dir.path, config: NO_TIMER });
      const s = store.createSession({ name: 'bench' });
      await store.flush();
      const n = ctx.quick ? 50 : 1000;
      const sequential = summarize(await sequentialCommits(store, s.id, n, 0));
      const conc = await concurrentCommits(store, s.id, 20, ctx.quick ? 5 : 100, n);
      storeAlone = { sequential, concurrent: { ...summarize(conc.samples), eventsPerSecond: conc.eventsPerSecond, producers: 20 } };
      await store.close();
    } finally {
      dir.remove();
    }

    const S = 'Store scaling';
    const rows: Row[] = results.map((r) => ({
      section: S,
      metric: `${r.label} (${r.dbMb.toFixed(1)} MB file, ${r.snapshots} snapshots)`,
      value:
        `persist ${fmtSummaryMs(r.checkpoint)}; snapshot ${fmtMs(r.snapshot.median)} (${r.checkpoint.n} taken: file now ${r.dbMbAfter.toFixed(1)} MB); open ${fmtMs(r.openMs)}; ` +
        `companion RSS ${r.companionRssMb.toFixed(0)} MB (bare Node ${r.baselineRssMb.toFixed(0)} MB)`,
    }));
    rows.push(
      {
        section: S,
        metric: 'store alone: one event → fdatasync\'d, sequential',
        value: `p50 ${fmtMs(storeAlone.sequential.p50)}, p99 ${fmtMs(storeAlone.sequential.p99)}`,
      },
      {
        section: S,
        metric: 'store alone: 20 concurrent producers, one event per commit',
        value: `${Math.round(storeAlone.concurrent.eventsPerSecond)} events/s, p50 ${fmtMs(storeAlone.concurrent.p50)}, p99 ${fmtMs(storeAlone.concurrent.p99)}`,
      },
    );
    return { rows, aims: [], data: { cases: results, storeAlone } satisfies StoreScalingData };
  },
};
