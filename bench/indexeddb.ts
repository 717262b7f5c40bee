/**
 * IndexedDB at 1 MB and 50 MB (quick: 64 KB and 1 MB), one origin, one tab, real Chromium with the
 * extension and a companion (in this process, as restoreTime has it):
 *  - restore: `resume` wall time of an imported session whose origin holds the database, minus the
 *    same resume without it (the database is written through the setup page before the tab loads);
 *  - capture, write → held by the companion: the page adds one small record, then the companion's
 *    current state is polled (every 100 ms; 1 s at 50 MB) until it holds it. This is the RPO while visible: the
 *    content script's tick (≤ 4 s), the read of the origin (keys only for a big store between full
 *    reads), the message, the store; then the same for a value changed in place under an existing
 *    key, which only a full read sees; then for a new key written by the first tab once a second
 *    tab of the origin is in front, after the first reported a write of its own: the second
 *    notices it and has no read of its own that the companion holds (before: sent whole; now: a
 *    delta on the service worker's fingerprint);
 *  - browser CPU per captured change: utime+stime of the browser's process tree (renderer, browser,
 *    native host) from the write until the companion holds it (idle ticks included: compare with
 *    the idle line below);
 *  - idle CPU: the process tree's CPU per second while nothing is written (one usage check per
 *    tick), with and without the database, so its cost when nothing changes shows.
 */
import type { Page } from 'playwright-core';
import { Companion } from '../companion/companion.js';
import type { IndexedDBRecord } from '../shared/indexeddb.js';
import { encodeIndexedDBValue } from '../shared/indexeddb-value.js';
import type { SessionState } from '../shared/state.js';
import { cpuMs, processTree, sleep, tempDir, type Benchmark, type Row } from './harness.js';
import { fmtSummaryMs, median, summarize, type Summary } from './stats.js';

const RECORD_CHARS = 10_000;

export interface IndexedDBBenchData {
  bySize: Record<
    string,
    {
      records: number;
      restoreMs: Summary;
      restoreWithoutMs: Summary;
      captureMs: Summary;
      captureCpuMs: Summary;
      /** The same for a value changed in place (an existing key). */
      updateMs: Summary;
      updateCpuMs: Summary;
      /** The same for a new key written by a background tab, noticed by another tab of the origin in front. */
      otherTabMs: Summary;
      otherTabCpuMs: Summary;
      idleCpuMsPerS: number;
    }
  >;
  idleCpuMsPerSWithout: number;
}

/** `bytes` of records shaped like an app's: a long text, a Date, a number (encoded with tags). */
async function benchRecords(bytes: number): Promise<IndexedDBRecord[]> {
  const count = Math.max(1, Math.round(bytes / RECORD_CHARS));
  const encoded = await encodeIndexedDBValue({ text: 'x'.repeat(RECORD_CHARS - 60), at: new Date(0), n: 0 });
  if (!('encoded' in encoded)) throw new Error('bench records should need the tagged form');
  return Array.from({ length: count }, (_, i) => ({ key: `item-${i}`, valueEncoded: encoded.encoded }));
}

function state(origin: string, records: IndexedDBRecord[] | null): SessionState {
  const url = `${origin}/storage.html?idb`;
  return {
    cookies: [],
    origins: records
      ? [{ origin, localStorage: [], indexedDB: [{ name: 'bench', version: 1, stores: [{ name: 'items', autoIncrement: false, indexes: [], records }] }] }]
      : [],
    tabs: [
      {
        windowIndex: 0,
        index: 0,
        active: true,
        pinned: false,
        url,
        title: 'storage',
        history: { entries: [{ url, title: 'storage' }], currentIndex: 0 },
        sessionStorage: [],
      },
    ],
    windows: [{ state: 'normal', focused: true }],
    capturedAt: Date.now(),
  };
}

const signedMs = (ms: number) => `${ms >= 0 ? '+' : '−'}${Math.abs(Math.round(ms))} ms`;
const treeCpu = (pid: number) => processTree(pid).reduce((sum, p) => sum + cpuMs(p), 0);

/**
 * Write one record from the page and wait until the companion holds it: a new key (`marker`), or,
 * with `inPlace`, a new value for the existing first record — which between full reads of a big
 * store only the next full read sees (extension/content/indexeddb-capture.ts).
 */
async function captureOnce(companion: Companion, id: string, page: Page, pid: number, marker: string, inPlace = false): Promise<{ ms: number; cpu: number }> {
  const key = inPlace ? 'item-0' : marker;
  const cpu0 = treeCpu(pid);
  const t0 = performance.now();
  await page.evaluate(async ({ key, value }) => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open('bench');
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    const tx = db.transaction('items', 'readwrite');
    tx.objectStore('items').put({ marker: value }, key);
    await new Promise((resolve) => (tx.oncomplete = resolve));
    db.close();
  }, { key, value: marker });
  for (;;) {
    const s = await companion.currentState(id);
    const records = s.origins.find((o) => o.indexedDB)?.indexedDB?.[0]?.stores[0]?.records ?? [];
    if (records.some((r) => r.key === key && (r.value as { marker?: string } | undefined)?.marker === marker)) break;
    if (performance.now() - t0 > 300_000) throw new Error(`the companion did not get ${marker} within 300 s`);
    // Reading the state is not free at 50 MB, and it runs in this process: poll gently.
    await sleep(records.length > 1000 ? 1000 : 100);
  }
  return { ms: performance.now() - t0, cpu: treeCpu(pid) - cpu0 };
}

async function idleCpuPerS(pid: number, seconds: number): Promise<number> {
  const c0 = treeCpu(pid);
  await sleep(seconds * 1000);
  return (treeCpu(pid) - c0) / seconds;
}

export const indexedDBBench: Benchmark = {
  name: 'indexedDB',
  title: 'IndexedDB',
  async run(ctx) {
    const sizes = ctx.quick ? [64_000, 1_000_000] : [1_000_000, 50_000_000];
    const reps = (bytes: number) => (ctx.quick ? 1 : bytes > 10_000_000 ? 2 : 3);
    const idleSeconds = ctx.quick ? 1 : 10;
    const dir = tempDir('indexeddb');
    const companion = await Companion.open({ dataDir: dir.path, onNotice: ctx.log });
    const origin = ctx.site.originA;
    const data: IndexedDBBenchData = { bySize: {}, idleCpuMsPerSWithout: 0 };
    const rows: Row[] = [];
    const S = 'IndexedDB';
    try {
      const withoutId = await companion.importState({ name: 'bench no idb', state: state(origin, null) });
      const restoreWithout: number[] = [];
      for (let r = 0; r < reps(0); r++) {
        const t0 = performance.now();
        const { session } = await companion.resume(withoutId);
        restoreWithout.push(performance.now() - t0);
        if (r === reps(0) - 1) {
          await sleep(1000);
          data.idleCpuMsPerSWithout = await idleCpuPerS(session.browserPid, idleSeconds);
        }
        await companion.close(withoutId);
      }
      for (const bytes of sizes) {
        const records = await benchRecords(bytes);
        const id = await companion.importState({ name: `bench idb ${bytes}`, state: state(origin, records) });
        const restore: number[] = [];
        const capture: number[] = [];
        const captureCpu: number[] = [];
        const update: number[] = [];
        const updateCpu: number[] = [];
        const otherTab: number[] = [];
        const otherTabCpu: number[] = [];
        let idle = 0;
        for (let r = 0; r < reps(bytes); r++) {
          const t0 = performance.now();
          const { session, report } = await companion.resume(id);
          restore.push(performance.now() - t0);
          if (report.failures.length > 0) throw new Error(`resume failed: ${JSON.stringify(report.failures)}`);
          if (session.context.pages().length !== 1) throw new Error('the resumed session should have one tab');
          const page = session.context.pages()[0];
          // The first document of the origin reads and sends the database once (the extension's
          // ledger is new); let that pass before measuring a change.
          await sleep(ctx.quick ? 1000 : 3000 + bytes / 10_000);
          const quiet = await idleCpuPerS(session.browserPid, idleSeconds);
          if (r === 0) idle = quiet;
          const { ms, cpu } = await captureOnce(companion, id, page, session.browserPid, `marker-${r}`);
          capture.push(ms);
          captureCpu.push(cpu);
          const changed = await captureOnce(companion, id, page, session.browserPid, `update-${r}`, true);
          update.push(changed.ms);
          updateCpu.push(changed.cpu);
          // A second tab of the origin (its check at load reads the origin or finds it held), then a
          // write in the first while it is in front, which the first reports; then the second comes
          // to the front and the first, now in the background, writes again. The second notices it
          // (a hidden document does not tick) and its own last read, if any, is no longer what the
          // companion holds: before, it sent the origin whole; now, a delta on the service worker's
          // fingerprint of what the companion holds.
          const other = await session.context.newPage();
          await other.goto(page.url());
          await sleep(2000);
          await page.bringToFront();
          await captureOnce(companion, id, page, session.browserPid, `front-${r}`);
          await other.bringToFront();
          await sleep(2000);
          const fromOther = await captureOnce(companion, id, page, session.browserPid, `background-${r}`);
          otherTab.push(fromOther.ms);
          otherTabCpu.push(fromOther.cpu);
          // The next resume expects the session's one tab: the companion has to see this one go.
          await other.close();
          for (let i = 0; i < 100 && (await companion.currentState(id)).tabs.length !== 1; i++) await sleep(100);
          await companion.close(id);
        }
        const entry = {
          records: records.length,
          restoreMs: summarize(restore),
          restoreWithoutMs: summarize(restoreWithout),
          captureMs: summarize(capture),
          captureCpuMs: summarize(captureCpu),
          updateMs: summarize(update),
          updateCpuMs: summarize(updateCpu),
          otherTabMs: summarize(otherTab),
          otherTabCpuMs: summarize(otherTabCpu),
          idleCpuMsPerS: idle,
        };
        data.bySize[String(bytes)] = entry;
        const size = bytes >= 1_000_000 ? `${bytes / 1_000_000} MB` : `${bytes / 1000} KB`;
        rows.push(
          { section: S, metric: `${size}: resume (1 tab)`, value: `${fmtSummaryMs(entry.restoreMs)}; ${signedMs(median(restore) - median(restoreWithout))} over the same resume without IndexedDB` },
          { section: S, metric: `${size}: write → held by the companion`, value: fmtSummaryMs(entry.captureMs) },
          { section: S, metric: `${size}: browser CPU, write → held`, value: fmtSummaryMs(entry.captureCpuMs) },
          { section: S, metric: `${size}: value changed in place → held`, value: fmtSummaryMs(entry.updateMs) },
          { section: S, metric: `${size}: browser CPU, in-place change → held`, value: fmtSummaryMs(entry.updateCpuMs) },
          { section: S, metric: `${size}: write in a background tab, another tab of the origin in front → held`, value: fmtSummaryMs(entry.otherTabMs) },
          { section: S, metric: `${size}: browser CPU, that write → held`, value: fmtSummaryMs(entry.otherTabCpuMs) },
          { section: S, metric: `${size}: idle CPU, nothing written`, value: `${idle.toFixed(1)} ms/s (${data.idleCpuMsPerSWithout.toFixed(1)} ms/s without IndexedDB)` },
        );
        ctx.log(`  ${size}: resume ${fmtSummaryMs(entry.restoreMs)}, capture ${fmtSummaryMs(entry.captureMs)}, cpu ${fmtSummaryMs(entry.captureCpuMs)}`);
      }
      return { rows, aims: [], data };
    } finally {
      await companion.shutdown().catch((e: Error) => ctx.log(`companion shutdown: ${e.message}`));
      dir.remove();
    }
  },
};
