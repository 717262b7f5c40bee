/**
 * Child process of the checkpoint-latency benchmark (bench/checkpoint-latency.ts): opens the store
 * of a given build (`root`: a dist/ directory, so the same probe runs today's code and an older
 * build's, e.g. main's) on a prepared data dir, writes small capture events at a fixed rate while
 * the store's own timer checkpoints, and prints one JSON line.
 *
 *   node dist/bench/checkpoint-probe.js <dist root> <data dir> '{"rate":100,"durationMs":15000,"intervalMs":1000}'
 *
 * Ack latency is measured from when each write was due (not when the event loop got round to
 * sending it), so a stalled loop counts against it, as it does for a page whose writes queue up.
 */
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import type { SqlJsStore } from '../companion/store/sqljs-store.js';
import { event } from './store-fill.js';

export interface ProbeOptions {
  rate: number;
  durationMs: number;
  intervalMs: number;
}

export interface ProbeResult {
  /** Read-only open, as `restory list` does. */
  listOpenMs: number;
  openMs: number;
  ackMs: number[];
  /** Event-loop delay while writing (perf_hooks histogram), ms. */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  /** Highest RSS sampled while writing, and at the end, MB. */
  rssMaxMb: number;
  rssEndMb: number;
  written: number;
}

const [root, dataDir, optsJson] = process.argv.slice(2);
if (!root || !dataDir || !optsJson) throw new Error('usage: checkpoint-probe.js <dist root> <data dir> <options JSON>');
const opts = JSON.parse(optsJson) as ProbeOptions;
const mod = (await import(pathToFileURL(join(root, 'companion', 'store', 'sqljs-store.js')).href)) as { SqlJsStore: typeof SqlJsStore };

let t = performance.now();
const reader = await mod.SqlJsStore.open({ dataDir, readOnly: true });
reader.listSessions();
const listOpenMs = performance.now() - t;
await reader.close();

t = performance.now();
const store = await mod.SqlJsStore.open({
  dataDir,
  config: { checkpointIntervalMs: opts.intervalMs, journalMaxBytes: 8 * 1024 * 1024, snapshotsKept: 1000 },
});
const openMs = performance.now() - t;
const sid = store.listSessions()[0]!.id;
const cursor = store.captureCursor(sid);
const instance = cursor.instanceId ?? 'i';
let seq = cursor.lastSeq;

const loop = monitorEventLoopDelay({ resolution: 5 });
loop.enable();
let rssMax = 0;
const rssTimer = setInterval(() => (rssMax = Math.max(rssMax, process.memoryUsage().rss)), 250);
const ackMs: number[] = [];
const acks: Promise<void>[] = [];
const period = 1000 / opts.rate;
const start = performance.now();
const n = Math.floor(opts.durationMs / period);
for (let i = 0; i < n; i++) {
  const due = start + i * period;
  const wait = due - performance.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  store.applyEvents(sid, instance, [event(++seq, `value ${seq}`.padEnd(32, '.'))]);
  acks.push(store.flush().then(() => void ackMs.push(performance.now() - due)));
}
await Promise.all(acks);
loop.disable();
clearInterval(rssTimer);
const rssEnd = process.memoryUsage().rss;
await store.close();

const result: ProbeResult = {
  listOpenMs,
  openMs,
  ackMs,
  loopDelayP99Ms: loop.percentile(99) / 1e6,
  loopDelayMaxMs: loop.max / 1e6,
  rssMaxMb: Math.max(rssMax, rssEnd) / 1024 / 1024,
  rssEndMb: rssEnd / 1024 / 1024,
  written: n,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
