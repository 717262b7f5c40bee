/**
 * Restore time, 1 and 10 tabs, three ways, interleaved (rotating order per repetition):
 *  - restory: `companion.resume(id)` of an imported session (fresh profile, Chromium with the
 *    extension, cookies, localStorage of two origins, per-tab sessionStorage, tabs loaded) — the
 *    call's wall time, as a user of the library sees it;
 *  - floor: launchBrowser without extension (same binary and flags) + goto of the same URLs;
 *  - storageState: Playwright's own restore, chromium.launch + newContext({ storageState }) with the
 *    same cookies and localStorage (it has no sessionStorage, tabs or history) + the same gotos.
 * Tabs have no back history here (each back entry costs restory ~100 ms more; see browser/restore/restore-state.ts).
 * Both baselines open the pages one after the other and load them all at once.
 */
import { chromium, type BrowserContext } from 'playwright-core';
import { Companion } from '../companion/companion.js';
import { DISABLED_FEATURES, QUIET_FLAGS } from '../companion/browser/chromium-flags.js';
import { launchBrowser } from '../companion/browser/launch.js';
import { findChromium } from '../companion/browser/find-chromium.js';
import type { SessionState } from '../shared/state.js';
import { tempDir, type Benchmark, type Row } from './harness.js';
import { fmtSummaryMs, median, summarize, type Summary } from './stats.js';

type Way = 'restory' | 'floor' | 'storageState';
const WAYS: Way[] = ['restory', 'floor', 'storageState'];

export interface RestoreTimeData {
  repetitions: number;
  byTabs: Record<string, Record<Way, Summary> & { restoryOverFloor: number; restoryOverStorageState: number }>;
}

export function benchState(origins: { a: string; b: string }, tabs: number, now = Date.now(), page = 'storage.html'): SessionState {
  const cookies = [origins.a, origins.b].flatMap((o) =>
    Array.from({ length: 5 }, (_, i) => ({
      name: `c${i}`,
      value: `value-${i}-${'v'.repeat(40)}`,
      domain: new URL(o).hostname,
      path: '/',
      expires: i % 2 ? Math.floor(now / 1000) + 86_400 : -1,
      httpOnly: i === 0,
      secure: false,
      sameSite: 'Lax' as const,
    })),
  );
  const storage = [origins.a, origins.b].map((origin) => ({
    origin,
    localStorage: Array.from({ length: 50 }, (_, i) => ({ name: `key${i}`, value: `${i}`.padEnd(100, '.') })),
  }));
  const tabStates = Array.from({ length: tabs }, (_, i) => {
    const origin = i % 2 ? origins.b : origins.a;
    const url = `${origin}/${page}?tab=${i}`;
    return {
      windowIndex: 0,
      index: i,
      active: i === 0,
      pinned: false,
      url,
      title: 'storage',
      history: { entries: [{ url, title: 'storage' }], currentIndex: 0 },
      sessionStorage: [{ origin, items: [{ name: 'tab', value: String(i) }] }],
    };
  });
  return { cookies, origins: storage, tabs: tabStates, windows: [{ state: 'normal', focused: true }], capturedAt: now };
}

async function openAll(context: BrowserContext, urls: string[]): Promise<void> {
  const loads: Promise<unknown>[] = [];
  const blank = context.pages().filter((p) => p.url() === 'about:blank');
  for (const url of urls) {
    const page = blank.shift() ?? (await context.newPage());
    loads.push(page.goto(url, { waitUntil: 'load' }));
  }
  await Promise.all(loads);
}

export const restoreTime: Benchmark = {
  name: 'restoreTime',
  title: 'Restore time',
  async run(ctx) {
    const reps = ctx.quick ? 1 : 5;
    const dir = tempDir('restore');
    const companion = await Companion.open({ dataDir: dir.path, onNotice: ctx.log });
    const executablePath = findChromium(process.env);
    const args = [...QUIET_FLAGS, `--disable-features=${DISABLED_FEATURES.join(',')}`];
    const data: RestoreTimeData = { repetitions: reps, byTabs: {} };
    const rows: Row[] = [];
    try {
      for (const n of ctx.quick ? [1, 2] : [1, 10]) {
        const state = benchState({ a: ctx.site.originA, b: ctx.site.originB }, n);
        const urls = state.tabs.map((t) => t.url);
        const times: Record<Way, number[]> = { restory: [], floor: [], storageState: [] };
        const runOnce: Record<Way, () => Promise<number>> = {
          restory: async () => {
            const id = await companion.importState({ name: `bench ${n} tabs`, state });
            const t0 = performance.now();
            const { report } = await companion.resume(id);
            const ms = performance.now() - t0;
            await companion.close(id);
            const ok = report.tabs.filter((t) => t.ok).length;
            if (ok !== n || report.origins !== state.origins.length) {
              throw new Error(`resume restored ${ok}/${n} tabs and ${report.origins}/${state.origins.length} origins: ${JSON.stringify(report.failures)}`);
            }
            return ms;
          },
          floor: async () => {
            const t0 = performance.now();
            const b = await launchBrowser({});
            await openAll(b.context, urls);
            const ms = performance.now() - t0;
            await b.close();
            return ms;
          },
          storageState: async () => {
            const t0 = performance.now();
            const browser = await chromium.launch({ executablePath, headless: true, args, chromiumSandbox: process.getuid?.() !== 0 });
            const context = await browser.newContext({ storageState: { cookies: state.cookies, origins: state.origins } });
            await openAll(context, urls);
            const ms = performance.now() - t0;
            await browser.close();
            return ms;
          },
        };
        // Warm-up: one of each, unrecorded (page cache, JIT).
        if (!ctx.quick) for (const way of WAYS) await runOnce[way]();
        for (let r = 0; r < reps; r++) {
          for (let k = 0; k < WAYS.length; k++) {
            const way = WAYS[(r + k) % WAYS.length];
            times[way].push(await runOnce[way]());
          }
        }
        const s = { restory: summarize(times.restory), floor: summarize(times.floor), storageState: summarize(times.storageState) };
        const entry = {
          ...s,
          restoryOverFloor: median(times.restory) / median(times.floor),
          restoryOverStorageState: median(times.restory) / median(times.storageState),
        };
        data.byTabs[String(n)] = entry;
        const S = 'Restore time';
        const tabs = `${n} tab${n > 1 ? 's' : ''}`;
        rows.push(
          { section: S, metric: `${tabs}: restory resume`, value: `${fmtSummaryMs(s.restory)}; ×${entry.restoryOverFloor.toFixed(2)} the floor, ×${entry.restoryOverStorageState.toFixed(2)} storageState` },
          { section: S, metric: `${tabs}: floor (launch + goto)`, value: fmtSummaryMs(s.floor) },
          { section: S, metric: `${tabs}: Playwright storageState`, value: fmtSummaryMs(s.storageState) },
        );
        ctx.log(`  ${tabs}: restory ${fmtSummaryMs(s.restory)}, floor ${fmtSummaryMs(s.floor)}, storageState ${fmtSummaryMs(s.storageState)}`);
      }
      return { rows, aims: [], data };
    } finally {
      await companion.shutdown().catch((e: Error) => ctx.log(`companion shutdown: ${e.message}`));
      dir.remove();
    }
  },
};
