/**
 * `npm run bench` (= build, then node dist/bench/run.js): every benchmark, side by side in one run,
 * against a local two-origin test site on 127.0.0.1/localhost. Prints one table and writes the full
 * results as JSON to bench/results/<ISO time>.json and bench/results/latest.json.
 *
 *   node dist/bench/run.js [--quick] [--only NAME]... [--out DIR]
 *
 * --quick runs every benchmark with tiny counts (well-formed results in < 1 min; `npm test` runs it
 * so the harness cannot rot). Numbers from --quick mean nothing.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startTestSite } from '../test/fixtures/test-site.js';
import { projectRoot } from '../companion/project-root.js';
import { machineInfo, type Aim, type Benchmark, type BenchContext, type Row } from './harness.js';
import { renderTable } from './table.js';
import { captureOverhead } from './capture-overhead.js';
import { durableLatency } from './durable-latency.js';
import { crashLoss } from './crash-loss.js';
import { restoreTime } from './restore-time.js';
import { resumeCli } from './resume-cli.js';
import { storeScaling } from './store-scaling.js';
import { idleCpu } from './idle-cpu.js';
import { captureCost } from './capture-cost.js';
import { cliStartup } from './cli-startup.js';
import { checkpointLatency } from './checkpoint-latency.js';
import { indexedDBBench } from './indexeddb.js';

export const BENCHMARKS: Benchmark[] = [captureOverhead, durableLatency, crashLoss, restoreTime, resumeCli, storeScaling, checkpointLatency, idleCpu, captureCost, cliStartup, indexedDBBench];

export interface BenchResults {
  format: 'restory-bench';
  version: 1;
  quick: boolean;
  command: string;
  startedAt: string;
  durationMs: number;
  machine: ReturnType<typeof machineInfo>;
  sections: Record<string, { title: string; durationMs: number; data: unknown; error?: string }>;
  rows: Row[];
  aims: Aim[];
  table: string;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { quick: { type: 'boolean', default: false }, only: { type: 'string', multiple: true }, out: { type: 'string' } },
  });
  const unknown = (values.only ?? []).filter((n) => !BENCHMARKS.some((b) => b.name === n));
  if (unknown.length) {
    process.stderr.write(`unknown benchmark ${unknown.join(', ')}; choose from ${BENCHMARKS.map((b) => b.name).join(', ')}\n`);
    return 2;
  }
  const selected = values.only?.length ? BENCHMARKS.filter((b) => values.only!.includes(b.name)) : BENCHMARKS;
  const outDir = values.out ?? join(projectRoot(), 'bench', 'results');
  const quick = values.quick ?? false;

  const started = Date.now();
  const site = await startTestSite();
  const log = (m: string) => process.stderr.write(`bench: ${m}\n`);
  const ctx: BenchContext = { quick, site, log };
  const results: BenchResults = {
    format: 'restory-bench',
    version: 1,
    quick,
    command: `node dist/bench/run.js ${process.argv.slice(2).join(' ')}`.trim(),
    startedAt: new Date(started).toISOString(),
    durationMs: 0,
    machine: machineInfo(),
    sections: {},
    rows: [],
    aims: [],
    table: '',
  };
  let failed = false;
  try {
    for (const b of selected) {
      log(`${b.title}…`);
      const t0 = Date.now();
      try {
        const out = await b.run(ctx);
        results.sections[b.name] = { title: b.title, durationMs: Date.now() - t0, data: out.data };
        results.rows.push(...out.rows);
        results.aims.push(...out.aims);
      } catch (e) {
        failed = true;
        const message = (e as Error).stack ?? String(e);
        log(`${b.title} failed: ${message}`);
        results.sections[b.name] = { title: b.title, durationMs: Date.now() - t0, data: null, error: message };
        results.rows.push({ section: b.title, metric: 'error', value: (e as Error).message.split('\n')[0] });
      }
      log(`${b.title} done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
  } finally {
    await site.close();
  }
  results.durationMs = Date.now() - started;
  results.table = renderTable(results.rows);

  mkdirSync(outDir, { recursive: true });
  const json = JSON.stringify(results, null, 2) + '\n';
  const file = join(outDir, `${results.startedAt.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, json);
  writeFileSync(join(outDir, 'latest.json'), json);

  const m = results.machine;
  process.stdout.write(`${results.table}\n\n`);
  process.stdout.write(`${m.cores} × ${m.cpu}, ${m.memoryGb} GB, ${m.os}; Node ${m.node}, ${m.chromium}, Playwright ${m.playwright}\n`);
  const missed = results.aims.filter((a) => !a.met);
  if (missed.length) process.stdout.write(`missed: ${missed.map((a) => `${a.section}: ${a.what} (${a.value}; aim ${a.aim})`).join('\n        ')}\n`);
  process.stdout.write(`${quick ? 'quick run (numbers mean nothing), ' : ''}${(results.durationMs / 1000).toFixed(0)} s; results in ${file}\n`);
  return failed ? 1 : 0;
}

process.exit(await main());
