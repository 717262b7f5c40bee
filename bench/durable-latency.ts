/**
 * Write → durable latency of writes made in a real page, end to end: page localStorage.setItem →
 * content-script diff → service worker outbox → native messaging → native host → Unix socket →
 * companion → journal group commit (write + fdatasync) → `ack`.
 *
 * How "durable" is observed: the companion runs in this process (library API) and its
 * `captureEvents` handler — the one connection.ts awaits before sending `ack` — is wrapped, so a
 * batch counts as durable at the moment its journal fdatasync resolved, the instant before its ack
 * frame is sent. Arrival (the handler's entry) is logged too, splitting the latency into capture
 * (page → companion) and commit (companion → disk). The page logs every write with Date.now(); the
 * companion's clock is the same system clock (±1 ms). Each write i sets key `r<rate>_<i>` = i, and a
 * diff sees all writes made before it, so write i is durable once a stored batch holds an index ≥ i.
 *
 * Rates 10, 100 and 1000 writes/s, then ×3 steps until the capture stops keeping up (p99 > 1 s or
 * writes not durable 10 s after the stream) or the page itself cannot write faster.
 */
import type { Page } from 'playwright-core';
import type { SequencedEvent } from '../shared/capture-events.js';
import { Companion } from '../companion/companion.js';
import { aimRow, sleep, tempDir, type Aim, type Benchmark, type Row } from './harness.js';
import { readWriter, startWriter, type WriterLog } from './page-scripts.js';
import { fmtMs, percentile, round } from './stats.js';

interface Observed {
  arrivedAt: number;
  durableAt: number;
  /** Highest write index of the watched prefix in the batch, -1 if none. */
  maxIndex: number;
  /** Keys of the watched big-value test present in the batch. */
  keys: string[];
}

export interface RateResult {
  targetPerSecond: number;
  achievedPerSecond: number;
  writes: number;
  durable: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Page → companion (arrival) part of the latency, p50. */
  captureP50Ms: number;
  /** Companion arrival → fdatasync'd, p50 over batches. */
  commitP50Ms: number;
  batches: number;
  keptUp: boolean;
  pageLimited: boolean;
}

export interface DurableLatencyData {
  rates: RateResult[];
  /** Highest rate that kept up, and the first that did not (null: none failed up to the page's own limit). */
  keptUpTo: number;
  stoppedAt: number | null;
  bigWrite: { megabytes: number; fillMs: number; durableAfterMs: number };
}

const P99_LIMIT_MS = 1000;
const MAX_KEYS = 150_000;

export const durableLatency: Benchmark = {
  name: 'durableLatency',
  title: 'Write → durable',
  async run(ctx) {
    const dir = tempDir('latency');
    const companion = await Companion.open({ dataDir: dir.path, onNotice: ctx.log });
    let watch = { origin: ctx.site.originA, prefix: '\u0000', keys: [] as string[] };
    const observed: Observed[] = [];
    const original = companion.captureEvents.bind(companion);
    companion.captureEvents = async (sessionId: string, instanceId: string, batch: SequencedEvent[]) => {
      const arrivedAt = Date.now();
      const seq = await original(sessionId, instanceId, batch);
      observed.push({ arrivedAt, durableAt: Date.now(), ...scan(batch, watch.origin, watch.prefix, watch.keys) });
      return seq;
    };
    try {
      const session = await companion.start({ urls: [`${ctx.site.originA}/storage.html`] });
      const page = session.context.pages()[0];
      const seconds = ctx.quick ? 0.5 : undefined;
      const plan: [number, number][] = [
        [10, seconds ?? 12],
        [100, seconds ?? 5],
        [1000, seconds ?? 4],
      ];
      const results: RateResult[] = [];
      const runRate = async (rate: number, secs: number) => {
        const prefix = `r${rate}_`;
        await page.evaluate(() => localStorage.clear());
        await sleep(1200); // let the clear be captured and committed before measuring
        watch = { ...watch, prefix };
        observed.length = 0;
        const count = Math.max(2, Math.round(Math.min(rate * secs, MAX_KEYS)));
        const r = await streamAt(page, { prefix, ratePerSecond: rate, count }, observed);
        results.push(r);
        ctx.log(`  ${rate}/s: p50 ${fmtMs(r.p50Ms)} p99 ${fmtMs(r.p99Ms)}, ${r.durable}/${r.writes} durable, achieved ${Math.round(r.achievedPerSecond)}/s`);
        return r;
      };
      for (const [rate, secs] of plan) await runRate(rate, secs);
      // Beyond 1000/s: ×3 steps until it stops keeping up or the page is the limit.
      let rate = 1000;
      while (!ctx.quick && results.at(-1)!.keptUp && rate < 300_000) {
        rate *= 3;
        await runRate(rate, 3);
      }

      // One big write: 5 MB of localStorage (1 MB in quick mode) in a single task.
      const mb = ctx.quick ? 1 : 5;
      await page.evaluate(() => localStorage.clear());
      await page.goto(`${ctx.site.originA}/big.html?mb=${mb}`);
      await sleep(1200);
      const lastKey = `big${mb - 1}`;
      watch = { ...watch, prefix: '\u0000', keys: [lastKey] };
      observed.length = 0;
      const [fillStart, fillEnd] = await page.evaluate(() => {
        const t = Date.now();
        (window as unknown as { fill(): number }).fill();
        return [t, Date.now()];
      });
      const seen = await waitFor(() => observed.find((o) => o.keys.includes(lastKey)), 30_000);
      const bigWrite = { megabytes: mb, fillMs: fillEnd - fillStart, durableAfterMs: seen ? seen.durableAt - fillEnd : NaN };
      if (!seen) throw new Error(`the ${mb} MB write was not durable within 30 s`);

      const kept = results.filter((r) => r.keptUp);
      const firstFail = results.find((r) => !r.keptUp && !r.pageLimited);
      const data: DurableLatencyData = {
        rates: results,
        keptUpTo: kept.length ? Math.max(...kept.map((r) => r.targetPerSecond)) : 0,
        stoppedAt: firstFail?.targetPerSecond ?? null,
        bigWrite,
      };
      return rowsOf(data, ctx.quick);
    } finally {
      await companion.shutdown().catch((e: Error) => ctx.log(`companion shutdown: ${e.message}`));
      dir.remove();
    }
  },
};

function scan(batch: SequencedEvent[], origin: string, prefix: string, keys: string[]): { maxIndex: number; keys: string[] } {
  let maxIndex = -1;
  const found: string[] = [];
  for (const { event } of batch) {
    if ((event.kind !== 'storage.change' && event.kind !== 'storage.full') || event.origin !== origin || event.area !== 'local') continue;
    const items = event.kind === 'storage.full' ? event.items : event.set;
    for (const k of Object.keys(items)) {
      if (k.startsWith(prefix)) maxIndex = Math.max(maxIndex, Number(k.slice(prefix.length)));
      if (keys.includes(k)) found.push(k);
    }
  }
  return { maxIndex, keys: found };
}

async function waitFor<T>(fn: () => T | undefined, timeoutMs: number): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined || Date.now() > deadline) return v;
    await sleep(20);
  }
}

async function streamAt(page: Page, opts: { prefix: string; ratePerSecond: number; count: number }, observed: Observed[]): Promise<RateResult> {
  const startedAt = await page.evaluate(startWriter, opts);
  let log: WriterLog;
  for (;;) {
    await sleep(100);
    log = await page.evaluate(readWriter);
    if (log.done) break;
  }
  const last = opts.count - 1;
  await waitFor(() => (observed.some((o) => o.maxIndex >= last) ? true : undefined), 10_000);

  // Durable time of write i: the first committed batch whose running max index reaches i.
  const latencies: number[] = [];
  const capture: number[] = [];
  let b = 0;
  let runningMax = -1;
  let from = 0;
  for (const [end, writtenAt] of log.bursts) {
    for (let i = from; i < end; i++) {
      while (b < observed.length && runningMax < i) runningMax = Math.max(runningMax, observed[b++].maxIndex);
      if (runningMax < i) break;
      const o = observed[b - 1];
      latencies.push(o.durableAt - writtenAt);
      capture.push(o.arrivedAt - writtenAt);
    }
    from = end;
  }
  const elapsed = Math.max(1, log.bursts.at(-1)![1] - startedAt);
  const achieved = ((opts.count - 1) / elapsed) * 1000;
  const sorted = [...latencies].sort((x, y) => x - y);
  const commits = observed.filter((o) => o.maxIndex >= 0).map((o) => o.durableAt - o.arrivedAt).sort((x, y) => x - y);
  const p99 = sorted.length ? percentile(sorted, 99) : Infinity;
  const pageLimited = achieved < 0.9 * opts.ratePerSecond;
  return {
    targetPerSecond: opts.ratePerSecond,
    achievedPerSecond: round(achieved, 0),
    writes: opts.count,
    durable: latencies.length,
    p50Ms: sorted.length ? percentile(sorted, 50) : Infinity,
    p99Ms: p99,
    maxMs: sorted.at(-1) ?? Infinity,
    captureP50Ms: capture.length ? percentile([...capture].sort((x, y) => x - y), 50) : Infinity,
    commitP50Ms: commits.length ? percentile(commits, 50) : Infinity,
    batches: commits.length,
    keptUp: !pageLimited && p99 <= P99_LIMIT_MS && latencies.length === opts.count,
    pageLimited,
  };
}

function rowsOf(data: DurableLatencyData, quick: boolean): { rows: Row[]; aims: Aim[]; data: DurableLatencyData } {
  const S = 'Write → durable';
  const rows: Row[] = [];
  const aims: Aim[] = [];
  for (const r of data.rates) {
    const value =
      `p50 ${fmtMs(r.p50Ms)}, p99 ${fmtMs(r.p99Ms)} (max ${fmtMs(r.maxMs)}; ${r.durable}/${r.writes} writes in ${r.batches} batches; ` +
      `page→companion p50 ${fmtMs(r.captureP50Ms)}, commit p50 ${fmtMs(r.commitP50Ms)})` +
      (r.pageLimited ? `; page wrote only ${r.achievedPerSecond}/s` : '');
    if (r.targetPerSecond <= 1000) {
      const a = aimRow(S, `page setItem → ack at ${r.targetPerSecond}/s`, 'p99 < 1 s', value, r.keptUp);
      rows.push(a.row);
      aims.push(a.aim);
    } else {
      rows.push({ section: S, metric: `page setItem → ack at ${r.targetPerSecond}/s`, value });
    }
  }
  const ceiling =
    data.stoppedAt === null
      ? `kept up at every rate tried, up to ${data.keptUpTo}/s${data.rates.some((r) => r.pageLimited) ? ' (then the page could not write faster)' : ''}`
      : `kept up to ${data.keptUpTo}/s; stopped keeping up at ${data.stoppedAt}/s (p99 > 1 s or writes not durable)`;
  rows.push({ section: S, metric: 'throughput where it stops keeping up', value: quick ? `${ceiling} (quick: sweep skipped)` : ceiling });
  rows.push({
    section: S,
    metric: `${data.bigWrite.megabytes} MB of localStorage in one task → ack`,
    value: `${fmtMs(data.bigWrite.durableAfterMs)} after the write (the write itself took ${fmtMs(data.bigWrite.fillMs)})`,
  });
  return { rows, aims, data };
}
