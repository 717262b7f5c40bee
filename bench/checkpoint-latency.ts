/**
 * Ack latency while checkpoints run (issue 17): small capture events written at 100/s into a store
 * whose database is 1, 10 or 50 MB (200 MB with RESTORY_BENCH_200MB=1), the store's timer
 * checkpointing every second, each write timed from when it was due until `flush()` resolved (the
 * moment the companion acknowledges it). Also the event loop's delay, the companion's RSS and the
 * open times (read-only, as `restory list`; and read-write).
 *
 * Arms: "now" is this build (dist/); "before" is another build given by RESTORY_BENCH_BEFORE
 * (a dist/ directory, e.g. /work/main/dist built from main), run on an identical copy of the data
 * dir. Each arm runs in its own process (bench/checkpoint-probe.ts), so RSS is that arm's alone.
 * Data dirs live under the system temp dir; on tmpfs fsync is free and the numbers flatter.
 */
import { execFile } from 'node:child_process';
import { closeSync, cpSync, existsSync, fsyncSync, openSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../companion/project-root.js';
import { aimRow, tempDir, type Aim, type Benchmark, type Row } from './harness.js';
import type { ProbeOptions, ProbeResult } from './checkpoint-probe.js';
import { buildCase } from './store-fill.js';
import { fmtMs, summarize, type Summary } from './stats.js';

const run = promisify(execFile);
const DIST = join(projectRoot(), 'dist');
const PROBE = join(DIST, 'bench', 'checkpoint-probe.js');

export interface LatencyArm {
  /** `floor`: this build with checkpoints off (interval 1 h): what the journal's fdatasync alone costs on this machine. */
  arm: 'now' | 'before' | 'floor';
  root: string;
  ack: Summary;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  rssMaxMb: number;
  listOpenMs: number;
  openMs: number;
}

export interface LatencyCase {
  mb: number;
  fileMb: number;
  arms: LatencyArm[];
}

function fsyncFile(file: string): void {
  const fd = openSync(file, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

async function probe(root: string, dataDir: string, opts: ProbeOptions): Promise<ProbeResult> {
  const { stdout } = await run(process.execPath, [PROBE, root, dataDir, JSON.stringify(opts)], { maxBuffer: 64 * 1024 * 1024, timeout: 900_000 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as ProbeResult;
}

export const checkpointLatency: Benchmark = {
  name: 'checkpointLatency',
  title: 'Ack latency during checkpoints',
  async run(ctx) {
    const sizes = ctx.quick ? [1] : process.env.RESTORY_BENCH_200MB === '1' ? [1, 10, 50, 200] : [1, 10, 50];
    // The default checkpoint interval (5 s): at 50 MB a checkpoint takes seconds in the worker, so a
    // shorter one would have the worker rewrite the file back to back.
    const opts: ProbeOptions = ctx.quick ? { rate: 100, durationMs: 2000, intervalMs: 500 } : { rate: 100, durationMs: 20_000, intervalMs: 5000 };
    const before = process.env.RESTORY_BENCH_BEFORE;
    if (before && !existsSync(join(before, 'companion', 'store', 'sqljs-store.js'))) throw new Error(`RESTORY_BENCH_BEFORE=${before} holds no build (companion/store/sqljs-store.js)`);
    const arms: { arm: LatencyArm['arm']; root: string }[] = [
      { arm: 'floor', root: DIST },
      { arm: 'now', root: DIST },
      ...(before ? [{ arm: 'before' as const, root: before }] : []),
    ];
    const cases: LatencyCase[] = [];
    for (const mb of sizes) {
      const built = tempDir('ckpt-latency');
      try {
        await buildCase(built.path, { kind: 'size', mb });
        const fileMb = statSync(join(built.path, 'restory.db')).size / 1024 / 1024;
        const c: LatencyCase = { mb, fileMb, arms: [] };
        for (const a of arms) {
          const copy = tempDir('ckpt-latency-run');
          try {
            cpSync(built.path, copy.path, { recursive: true });
            // Flush the copy first: on ext4 (data=ordered) the probe's first journal fdatasyncs
            // would otherwise wait for the copy's tens of MB of dirty pages to reach the disk.
            for (const f of readdirSync(copy.path)) fsyncFile(join(copy.path, f));
            const r = await probe(a.root, copy.path, a.arm === 'floor' ? { ...opts, intervalMs: 3_600_000 } : opts);
            const ack = summarize(r.ackMs);
            c.arms.push({ arm: a.arm, root: a.root, ack, loopDelayP99Ms: r.loopDelayP99Ms, loopDelayMaxMs: r.loopDelayMaxMs, rssMaxMb: r.rssMaxMb, listOpenMs: r.listOpenMs, openMs: r.openMs });
            ctx.log(`  ${mb} MB ${a.arm}: ack p50 ${fmtMs(ack.p50)} p99 ${fmtMs(ack.p99)} max ${fmtMs(ack.max)}, RSS ${r.rssMaxMb.toFixed(0)} MB`);
          } finally {
            copy.remove();
          }
        }
        cases.push(c);
      } finally {
        built.remove();
      }
    }
    const S = 'Ack latency during checkpoints';
    const rows: Row[] = [];
    const aims: Aim[] = [];
    for (const c of cases) {
      for (const a of c.arms) {
        const every = a.arm === 'floor' ? 'no checkpoints' : `checkpoint every ${opts.intervalMs} ms`;
        const what = `${c.mb} MB database (${c.fileMb.toFixed(1)} MB file), ${opts.rate} writes/s, ${every}: ${a.arm}`;
        const value =
          `ack p50 ${fmtMs(a.ack.p50)}, p99 ${fmtMs(a.ack.p99)}, max ${fmtMs(a.ack.max)} (${a.ack.n} writes); event-loop delay p99 ${fmtMs(a.loopDelayP99Ms)}, max ${fmtMs(a.loopDelayMaxMs)}; ` +
          `RSS ${a.rssMaxMb.toFixed(0)} MB; open for list ${fmtMs(a.listOpenMs)}, read-write ${fmtMs(a.openMs)}`;
        if (a.arm === 'now' && c.mb === 50) {
          const { row, aim } = aimRow(S, what, 'ack p99 ≤ 50 ms', value, a.ack.p99 <= 50);
          rows.push(row);
          aims.push(aim);
        } else rows.push({ section: S, metric: what, value });
      }
    }
    return { rows, aims, data: { options: opts, cases } };
  },
};
