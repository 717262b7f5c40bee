/**
 * Event → durable with the shared PostgreSQL store, beside the embedded store: W writers (each its
 * own store, as W companions on W machines would be, each capturing into its own session) apply one
 * storage event at a time and wait for `flush()` (what the companion waits for before it
 * acknowledges a batch to the extension). Prints p50/p99 latency and events/s per writer count.
 *
 *   npm run build && node dist/bench/pg-durable.js --url postgres://… [--writers 1,4,16] [--seconds 5]
 *
 * Not part of `npm run bench`: it needs a PostgreSQL server (the tests start their own, see
 * test/helpers/postgres.ts). The database given is written to (one session per writer).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PgStore } from '../companion/store/pg-store.js';
import { SqlJsStore } from '../companion/store/sqljs-store.js';
import type { Store } from '../companion/store/store.js';
import { redactUrl } from '../companion/store/store-url.js';
import { summarize } from './stats.js';

interface Line {
  store: string;
  writers: number;
  events: number;
  eventsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

async function writer(store: Store, seconds: number, latencies: number[]): Promise<number> {
  const session = await store.createSession({ name: 'bench' });
  const deadline = Date.now() + seconds * 1000;
  let seq = 0;
  while (Date.now() < deadline) {
    seq++;
    const started = performance.now();
    await store.applyEvents(session.id, 'bench', [
      { seq, at: Date.now(), event: { kind: 'storage.change', tabId: 1, frameId: 0, origin: 'https://a.test', area: 'local', clear: false, set: { [`k${seq % 100}`]: 'v'.repeat(100) }, remove: [] } },
    ]);
    await store.flush();
    latencies.push(performance.now() - started);
  }
  return seq;
}

async function measure(name: string, open: () => Promise<Store>, writers: number, seconds: number): Promise<Line> {
  const stores = await Promise.all(Array.from({ length: writers }, open));
  const latencies: number[] = [];
  const counts = await Promise.all(stores.map((s) => writer(s, seconds, latencies)));
  for (const s of stores) await s.close();
  const events = counts.reduce((a, b) => a + b, 0);
  const sum = summarize([...latencies].sort((a, b) => a - b));
  return { store: name, writers, events, eventsPerSecond: Math.round(events / seconds), p50Ms: sum.p50, p99Ms: sum.p99 };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { url: { type: 'string' }, writers: { type: 'string', default: '1,4' }, seconds: { type: 'string', default: '5' } } });
  if (!values.url) throw new Error('--url postgres://… is required');
  const url = values.url;
  const seconds = Number(values.seconds);
  const lines: Line[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'restory-bench-'));
  try {
    lines.push(await measure('sql.js', () => SqlJsStore.open({ dataDir: join(dir, 'data'), env: {} }), 1, seconds));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  for (const w of values.writers.split(',').map(Number)) {
    lines.push(await measure('postgres', () => PgStore.open({ url, env: {} }), w, seconds));
  }
  process.stdout.write(`event → durable, ${seconds} s per line, ${redactUrl(url)}\n`);
  for (const l of lines) {
    process.stdout.write(
      `${l.store.padEnd(8)} writers ${String(l.writers).padStart(2)}  ${String(l.eventsPerSecond).padStart(6)} events/s  p50 ${l.p50Ms.toFixed(2)} ms  p99 ${l.p99Ms.toFixed(2)} ms\n`,
    );
  }
}

main().catch((e: Error) => {
  process.stderr.write(`pg-durable: ${e.message}\n`);
  process.exit(1);
});
