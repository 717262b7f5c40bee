/**
 * Capture overhead: the same Chromium (same binary, same flags, both launched by launchBrowser) with
 * the restory extension capturing into a companion (A) and without any extension (B). Both browsers
 * stay open the whole time and runs alternate ABBA… so drift (thermal, other load) hits both alike.
 * Page load: /storage.html (navigation timing: start → loadEventEnd; the origin holds the 500-key
 * working set, so the content script's start-up dump is part of it), many short pairs. Then the
 * storage-heavy interaction loop (bench/page-scripts.ts), fewer long pairs. Reported: pairwise
 * ratios A/B — median, min, max and a ~95% confidence interval of the median, because on 2 noisy
 * cores single pairs scatter by ±50% and only the interval says what the median can resolve.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { Companion } from '../companion/companion.js';
import { launchBrowser } from '../companion/browser/launch.js';
import { aimRow, tempDir, type Benchmark, type Row, type Aim } from './harness.js';
import { interactionLoop, loadTime } from './page-scripts.js';
import { fmtMs, fmtPct, fmtRatio, medianCI, ratios, summarize, type Summary } from './stats.js';

export interface CaptureOverheadData {
  loadPairs: number;
  loopPairs: number;
  loopRounds: number;
  /** ~95% confidence intervals of the median pairwise ratios. */
  loadRatioCI: [number, number];
  /** The same for a page of an origin without any storage (extension present, nothing to dump). */
  emptyLoadRatioCI: [number, number];
  emptyLoadRatio: Summary;
  loopRatioCI: [number, number];
  withCapture: { load: Summary; loop: Summary };
  without: { load: Summary; loop: Summary };
  loadRatio: Summary;
  loopRatio: Summary;
}

async function measureLoad(page: Page, url: string): Promise<number> {
  await page.goto(url, { waitUntil: 'load' });
  return page.evaluate(loadTime);
}

export const captureOverhead: Benchmark = {
  name: 'captureOverhead',
  title: 'Capture overhead',
  async run(ctx) {
    const loadPairs = ctx.quick ? 2 : 60;
    const loopPairs = ctx.quick ? 2 : 16;
    const loopRounds = ctx.quick ? 300 : 1500;
    const dir = tempDir('overhead');
    const companion = await Companion.open({ dataDir: dir.path, onNotice: ctx.log });
    const plain = await launchBrowser({});
    try {
      const session = await companion.start();
      const pages: Record<'A' | 'B', Page> = {
        A: await firstPage(session.context),
        B: await firstPage(plain.context),
      };
      const url = (i: number) => `${ctx.site.originA}/storage.html?run=${i}`;
      const load: Record<'A' | 'B', number[]> = { A: [], B: [] };
      const loop: Record<'A' | 'B', number[]> = { A: [], B: [] };
      const order = (i: number) => (i % 2 ? (['A', 'B'] as const) : (['B', 'A'] as const));
      // Warm-up (not recorded): fills the working set in both profiles, JITs the loop.
      for (const k of ['A', 'B'] as const) {
        await measureLoad(pages[k], url(0));
        await pages[k].evaluate(interactionLoop, loopRounds);
      }
      const empty: Record<'A' | 'B', number[]> = { A: [], B: [] };
      for (let i = 1; i <= loadPairs; i++) {
        for (const k of order(i)) {
          load[k].push(await measureLoad(pages[k], url(i)));
          empty[k].push(await measureLoad(pages[k], `${ctx.site.originB}/?run=${i}`));
        }
      }
      for (let i = 1; i <= loopPairs; i++) {
        for (const k of order(i)) {
          await measureLoad(pages[k], url(-i));
          loop[k].push(await pages[k].evaluate(interactionLoop, loopRounds));
        }
      }
      const data: CaptureOverheadData = {
        loadPairs,
        loopPairs,
        loopRounds,
        loadRatioCI: medianCI(load.A.map((a, i) => a / load.B[i])),
        loopRatioCI: medianCI(loop.A.map((a, i) => a / loop.B[i])),
        emptyLoadRatioCI: medianCI(empty.A.map((a, i) => a / empty.B[i])),
        emptyLoadRatio: ratios(empty.A, empty.B),
        withCapture: { load: summarize(load.A), loop: summarize(loop.A) },
        without: { load: summarize(load.B), loop: summarize(loop.B) },
        loadRatio: ratios(load.A, load.B),
        loopRatio: ratios(loop.A, loop.B),
      };
      const S = 'Capture overhead';
      const rows: Row[] = [];
      const aims: Aim[] = [];
      const writes = loopRounds * 10;
      for (const [what, ratio, ci, pairs, a, b] of [
        ['page load (start → loadEventEnd), origin holding 500 keys / 95 KB', data.loadRatio, data.loadRatioCI, loadPairs, data.withCapture.load, data.without.load],
        [`storage loop (${writes} setItem + ${writes} getItem)`, data.loopRatio, data.loopRatioCI, loopPairs, data.withCapture.loop, data.without.loop],
      ] as const) {
        const value =
          `${fmtPct(ratio.median)} median (95% CI ${fmtPct(ci[0])}…${fmtPct(ci[1])}), ${fmtRatio(ratio)} over ${pairs} ABBA pairs; ` +
          `medians ${fmtMs(a.median)} with vs ${fmtMs(b.median)} without`;
        const r = aimRow(S, what, '< 1% (target < 5%)', value, ratio.median < 1.01);
        rows.push(r.row);
        aims.push(r.aim);
      }
      const e = data.emptyLoadRatio;
      rows.splice(1, 0, {
        section: S,
        metric: 'page load, origin without storage (for comparison)',
        value: `${fmtPct(e.median)} median (95% CI ${fmtPct(data.emptyLoadRatioCI[0])}…${fmtPct(data.emptyLoadRatioCI[1])}), ${fmtRatio(e)}`,
      });
      return { rows, aims, data };
    } finally {
      await companion.shutdown().catch((e: Error) => ctx.log(`companion shutdown: ${e.message}`));
      await plain.close();
      dir.remove();
    }
  },
};

async function firstPage(context: BrowserContext): Promise<Page> {
  return context.pages()[0] ?? (await context.newPage());
}
