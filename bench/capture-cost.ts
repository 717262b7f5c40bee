/**
 * Capture cost, measured the way a user meets the system: what a page load costs with restory
 * capturing it, against the same Chromium without it — in CPU time of every process involved, and
 * in wall time.
 *
 * Processes (bench/capture-cost-arms.ts), none sharing the driver's event loop:
 * - the site, its own Node process (test/fixtures/app-site-server.ts), three origins on 127.0.0.1;
 * - arm "restory": `node bin/restory.js start --cdp-port P --data-dir D` — companion, Chromium with
 *   the extension, native host;
 * - arm "plain": the same Chromium binary with the same flags (copied from the restory arm's browser
 *   command line), no extension, its own profile and CDP port.
 * One Playwright client (connectOverCDP to each arm) drives both; both arms stay up throughout and
 * runs alternate A B B A … so drift (other agents' load on the 2 shared cores) hits both alike. The
 * page renders at the same size in both (restory's own Playwright session emulates 1280×720; the
 * driver sets that viewport on the plain arm's page).
 *
 * Per page load: wall time from the page's navigation timing (start → loadEventEnd), and CPU time
 * (utime + stime, /proc) of the arm's whole process tree over the load plus `tailMs` after it (the
 * capture finishes after load: the content script's dump, the frame to the native host, the
 * companion's intake), split by process kind (bench/process-kinds.ts). The app page writes one
 * 200-char key per load; its origin holds K = 0 or K = 500 other keys of 200 chars (seeded once).
 * Then the storage-heavy loop of bench/page-scripts.ts (fewer pairs), then idle CPU of both trees
 * over the same window. Reported: pairwise ratios restory/plain with medians and ~95% intervals, and
 * the extra CPU per load by process kind (means: 10 ms ticks make single windows coarse).
 *
 * Counted: every process under the companion (arm A) or the browser (arm B). Not counted: the
 * driver (the same client for both) and Chromium's crashpad handlers, which double-fork out of the
 * tree (they idle).
 */
import { loadavg } from 'node:os';
import { chromium, type Browser, type Page } from 'playwright-core';
import { sleep, tempDir, type Benchmark, type Row } from './harness.js';
import { startPlainArm, startRestoryArm, startSiteProcess, type Arm } from './capture-cost-arms.js';
import { interactionLoop, loadTime } from './page-scripts.js';
import { KINDS, KIND_LABELS, TreeCpuWindow, zeroByKind, type ByKind, type Kind } from './process-kinds.js';
import { fmtMs, medianCI, summarize, type Summary } from './stats.js';

type Side = 'restory' | 'plain';
const SIDES: readonly Side[] = ['restory', 'plain'];

interface Sample {
  wallMs: number;
  cpuMs: number;
  byKind: ByKind;
}

interface KindCompare {
  restoryMeanMs: number;
  plainMeanMs: number;
  /** Mean of the pairwise differences restory − plain, and its ~95% interval (normal approximation). */
  extraMeanMs: number;
  extraCI: [number, number];
  extraMedianMs: number;
}

export interface Comparison {
  pairs: number;
  wallMs: Record<Side, Summary>;
  cpuMs: Record<Side, Summary>;
  /** Pairwise restory/plain ratios (pairs where both values are positive and finite). */
  wallRatio: Summary | null;
  wallRatioCI: [number, number] | null;
  cpuRatio: Summary | null;
  cpuRatioCI: [number, number] | null;
  /** Restory − plain CPU per run, whole tree. */
  cpuExtraMs: KindCompare;
  byKindMs: Partial<Record<Kind, KindCompare>>;
  samples: Record<Side, Sample[]>;
}

export interface CaptureCostData {
  pairs: number;
  loopPairs: number;
  loopRounds: number;
  tailMs: number;
  idleMs: number;
  keyCounts: number[];
  /** os.loadavg() [1, 5, 15 min] at the start and end, and the 1-min value sampled at every pair. */
  loadAverage: { start: number[]; end: number[]; oneMinute: Summary };
  load: Record<string, Comparison>;
  loop: Comparison;
  idle: { windowMs: number; cpuPct: Record<Side, number>; byKindPct: Record<Side, ByKind> };
  /** Processes that exited inside a window (each loses at most 250 ms of CPU). */
  exitedInWindows: number;
  /** The page size in both arms. */
  viewport: { width: number; height: number };
  browserFlags: string[];
}

const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

function compareKind(a: readonly number[], b: readonly number[]): KindCompare {
  const d = a.map((x, i) => x - b[i]);
  const m = mean(d);
  const sd = d.length > 1 ? Math.sqrt(d.reduce((s, x) => s + (x - m) ** 2, 0) / (d.length - 1)) : 0;
  const half = (1.96 * sd) / Math.sqrt(d.length);
  return { restoryMeanMs: mean(a), plainMeanMs: mean(b), extraMeanMs: m, extraCI: [m - half, m + half], extraMedianMs: summarize(d).median };
}

function ratioOf(a: readonly number[], b: readonly number[]): { ratio: Summary | null; ci: [number, number] | null } {
  const r = a.map((x, i) => x / b[i]).filter((x) => Number.isFinite(x) && x > 0);
  return r.length ? { ratio: summarize(r), ci: medianCI(r) } : { ratio: null, ci: null };
}

function compare(samples: Record<Side, Sample[]>): Comparison {
  const [a, b] = [samples.restory, samples.plain];
  const pick = (s: Sample[], f: (x: Sample) => number) => s.map(f);
  const wall = ratioOf(pick(a, (x) => x.wallMs), pick(b, (x) => x.wallMs));
  const cpu = ratioOf(pick(a, (x) => x.cpuMs), pick(b, (x) => x.cpuMs));
  const byKindMs: Partial<Record<Kind, KindCompare>> = {};
  for (const k of KINDS) {
    const [ka, kb] = [pick(a, (x) => x.byKind[k]), pick(b, (x) => x.byKind[k])];
    if (ka.some((x) => x !== 0) || kb.some((x) => x !== 0)) byKindMs[k] = compareKind(ka, kb);
  }
  const finite = (xs: number[]) => (xs.some(Number.isFinite) ? summarize(xs.filter(Number.isFinite)) : summarize([0]));
  return {
    pairs: a.length,
    wallMs: { restory: finite(pick(a, (x) => x.wallMs)), plain: finite(pick(b, (x) => x.wallMs)) },
    cpuMs: { restory: summarize(pick(a, (x) => x.cpuMs)), plain: summarize(pick(b, (x) => x.cpuMs)) },
    wallRatio: wall.ratio,
    wallRatioCI: wall.ci,
    cpuRatio: cpu.ratio,
    cpuRatioCI: cpu.ci,
    cpuExtraMs: compareKind(pick(a, (x) => x.cpuMs), pick(b, (x) => x.cpuMs)),
    byKindMs,
    samples,
  };
}

interface Driven {
  arm: Arm;
  client: Browser;
  page: Page;
}

export const captureCost: Benchmark = {
  name: 'captureCost',
  title: 'Capture cost',
  async run(ctx) {
    const q = ctx.quick;
    const pairs = q ? 2 : 30;
    const loopPairs = q ? 1 : 10;
    const loopRounds = q ? 100 : 1500;
    const tailMs = q ? 300 : 1500;
    const idleMs = q ? 2000 : 30_000;
    const settleMs = q ? 300 : 3000;
    const keyCounts = [0, 500];
    const loadStart = loadavg();
    const oneMinute: number[] = [];
    let exitedInWindows = 0;

    const cleanups: (() => Promise<void> | void)[] = [];
    try {
      const site = await startSiteProcess(keyCounts.length + 1);
      cleanups.push(site.stop);
      const originOf = (k: number) => site.origins[keyCounts.indexOf(k)];
      const loopOrigin = site.origins[keyCounts.length];
      const app = (origin: string, run: number | string) => `${origin}/app.html?run=${run}`;

      const dataDir = tempDir('cost-data');
      cleanups.push(() => dataDir.remove());
      ctx.log('capture cost: starting restory start (arm A)…');
      const restoryArm = await startRestoryArm(dataDir.path);
      cleanups.push(restoryArm.stop);
      const profile = tempDir('cost-plain');
      cleanups.push(() => profile.remove());
      const plainArm = await startPlainArm(restoryArm.browserArgv, profile.path);
      cleanups.push(plainArm.stop);

      const sides = {} as Record<Side, Driven>;
      for (const [side, arm] of [['restory', restoryArm], ['plain', plainArm]] as const) {
        const client = await chromium.connectOverCDP(arm.cdp);
        cleanups.push(() => client.close());
        const context = client.contexts()[0];
        const page = context.pages().find((p) => !p.url().startsWith('chrome-extension://')) ?? (await context.newPage());
        sides[side] = { arm, client, page };
      }

      /** CPU of `side`'s whole tree over `action` plus tailMs. */
      const measure = async (side: Side, action: (page: Page) => Promise<number>): Promise<Sample> => {
        const { arm, page } = sides[side];
        const window = new TreeCpuWindow(arm.rootPid, arm.companionPid);
        let wallMs: number;
        try {
          wallMs = await action(page);
          await sleep(tailMs);
        } catch (e) {
          window.stop(); // clears its poll timer
          throw e;
        }
        const cpu = window.stop();
        exitedInWindows += cpu.exited;
        return { wallMs, cpuMs: cpu.total, byKind: cpu.byKind };
      };
      const load = (url: string) => async (page: Page) => {
        await page.goto(url, { waitUntil: 'load' });
        return page.evaluate(loadTime);
      };
      const order = (i: number): readonly Side[] => (i % 2 ? ['restory', 'plain'] : ['plain', 'restory']);

      // restory's own Playwright session emulates a 1280×720 viewport on its pages; the plain browser's
      // headless window is smaller. Render the same page size in both (the driver sets the plain one).
      const viewport = await sides.restory.page.evaluate(() => ({ width: innerWidth, height: innerHeight }));
      await sides.plain.page.setViewportSize(viewport);

      ctx.log('capture cost: both arms up; warm-up…');
      // Warm-up (not recorded): seed each origin's working set in both profiles, load each page twice, JIT the loop.
      for (const side of SIDES) {
        const { page } = sides[side];
        for (const k of keyCounts) {
          await page.goto(app(originOf(k), 'seed'));
          await page.evaluate((n) => {
            localStorage.clear();
            for (let i = 0; i < n; i++) localStorage.setItem(`seed${i}`, `${i}:`.padEnd(200, 'x'));
          }, k);
          for (let w = 0; w < (q ? 1 : 2); w++) await page.goto(app(originOf(k), `warm${w}`));
        }
        await page.goto(app(loopOrigin, 'warm'));
        await page.evaluate(interactionLoop, Math.min(loopRounds, 300));
      }
      await sleep(settleMs);

      ctx.log(`capture cost: ${pairs} A/B pairs of page loads (K = ${keyCounts.join(', ')})…`);
      const loads: Record<number, Record<Side, Sample[]>> = {};
      for (const k of keyCounts) loads[k] = { restory: [], plain: [] };
      for (let i = 1; i <= pairs; i++) {
        oneMinute.push(loadavg()[0]);
        for (const side of order(i)) for (const k of keyCounts) loads[k][side].push(await measure(side, load(app(originOf(k), i))));
        if (i % 10 === 0) ctx.log(`capture cost: ${i}/${pairs} pairs`);
      }

      ctx.log(`capture cost: ${loopPairs} A/B pairs of the storage loop…`);
      const loops: Record<Side, Sample[]> = { restory: [], plain: [] };
      for (let i = 1; i <= loopPairs; i++) {
        oneMinute.push(loadavg()[0]);
        for (const side of order(i)) {
          await sides[side].page.goto(app(loopOrigin, -i));
          await sleep(tailMs); // let that navigation's capture finish outside the window
          loops[side].push(await measure(side, (page) => page.evaluate(interactionLoop, loopRounds)));
        }
      }

      ctx.log(`capture cost: idle CPU of both trees over ${idleMs / 1000} s…`);
      for (const side of SIDES) await sides[side].page.goto(app(originOf(500), 'idle'));
      await sleep(settleMs);
      const windows = SIDES.map((s) => new TreeCpuWindow(sides[s].arm.rootPid, sides[s].arm.companionPid));
      const t0 = performance.now();
      await sleep(idleMs);
      const [idleA, idleB] = windows.map((w) => w.stop());
      const elapsed = performance.now() - t0;
      const pct = (ms: number) => (ms / elapsed) * 100;
      const pctByKind = (b: ByKind) => {
        const out = zeroByKind();
        for (const k of KINDS) out[k] = pct(b[k]);
        return out;
      };

      const data: CaptureCostData = {
        pairs,
        loopPairs,
        loopRounds,
        tailMs,
        idleMs,
        keyCounts,
        loadAverage: { start: loadStart, end: loadavg(), oneMinute: summarize(oneMinute) },
        load: Object.fromEntries(keyCounts.map((k) => [`keys${k}`, compare(loads[k])])),
        loop: compare(loops),
        idle: {
          windowMs: Math.round(elapsed),
          cpuPct: { restory: pct(idleA.total), plain: pct(idleB.total) },
          byKindPct: { restory: pctByKind(idleA.byKind), plain: pctByKind(idleB.byKind) },
        },
        exitedInWindows,
        viewport,
        browserFlags: restoryArm.browserArgv.slice(1),
      };
      return { rows: rowsOf(data), aims: [], data };
    } finally {
      for (const cleanup of cleanups.reverse()) {
        try {
          await cleanup();
        } catch (e) {
          ctx.log(`capture cost cleanup: ${(e as Error).message}`);
        }
      }
    }
  },
};

// ------------------------------------------------------------------------------------ report

const S = 'Capture cost';
const fmtX = (r: number) => `×${r.toFixed(2)}`;
const signed = (ms: number) => `${ms >= 0 ? '+' : '−'}${Math.abs(ms).toFixed(1)}`;

function ratioText(ratio: Summary | null, ci: [number, number] | null, pairs: number): string {
  if (!ratio || !ci) return 'no pair with both values positive';
  return `${fmtX(ratio.median)} median (95% CI ${fmtX(ci[0])}–${fmtX(ci[1])}) over ${pairs} A/B pairs`;
}

function byKindText(c: Comparison): string {
  return KINDS.filter((k) => c.byKindMs[k])
    .map((k) => {
      const x = c.byKindMs[k]!;
      return `${KIND_LABELS[k]} ${signed(x.extraMeanMs)} (${x.restoryMeanMs.toFixed(1)} vs ${x.plainMeanMs.toFixed(1)})`;
    })
    .join('; ');
}

function comparisonRows(what: string, c: Comparison, wallWhat: string): Row[] {
  const e = c.cpuExtraMs;
  return [
    {
      section: S,
      metric: `${what}: CPU time, whole process tree`,
      value:
        `${ratioText(c.cpuRatio, c.cpuRatioCI, c.pairs)}; medians ${fmtMs(c.cpuMs.restory.median)} restory vs ${fmtMs(c.cpuMs.plain.median)} plain; ` +
        `extra ${signed(e.extraMeanMs)} ms mean (95% CI ${signed(e.extraCI[0])}…${signed(e.extraCI[1])})`,
    },
    {
      section: S,
      metric: `${what}: wall time (${wallWhat})`,
      value: `${ratioText(c.wallRatio, c.wallRatioCI, c.pairs)}; medians ${fmtMs(c.wallMs.restory.median)} restory vs ${fmtMs(c.wallMs.plain.median)} plain`,
    },
    { section: S, metric: `${what}: extra CPU by process kind, ms mean (restory vs plain)`, value: byKindText(c) },
  ];
}

function rowsOf(d: CaptureCostData): Row[] {
  const tail = `${d.tailMs / 1000} s`;
  const rows: Row[] = [];
  for (const k of d.keyCounts) {
    rows.push(...comparisonRows(`page load, origin holding ${k} keys × 200 chars (load + ${tail})`, d.load[`keys${k}`], 'navigation start → loadEventEnd'));
  }
  rows.push(...comparisonRows(`storage loop, ${d.loopRounds * 10} setItem + getItem (loop + ${tail})`, d.loop, 'the loop in the page'));
  const idle = d.idle;
  const idleKinds = KINDS.filter((k) => idle.byKindPct.restory[k] || idle.byKindPct.plain[k])
    .map((k) => `${KIND_LABELS[k]} ${idle.byKindPct.restory[k].toFixed(2)} vs ${idle.byKindPct.plain[k].toFixed(2)}`)
    .join('; ');
  rows.push({
    section: S,
    metric: `idle, page open, both trees over the same ${(idle.windowMs / 1000).toFixed(0)} s`,
    value: `${idle.cpuPct.restory.toFixed(2)}% of a core restory vs ${idle.cpuPct.plain.toFixed(2)}% plain; by kind (%): ${idleKinds}`,
  });
  const la = d.loadAverage;
  rows.push({
    section: S,
    metric: 'load average during the run (1/5/15 min)',
    value:
      `start ${la.start.map((x) => x.toFixed(1)).join('/')}, end ${la.end.map((x) => x.toFixed(1)).join('/')}; ` +
      `1-min median ${la.oneMinute.median.toFixed(1)} (${la.oneMinute.min.toFixed(1)}–${la.oneMinute.max.toFixed(1)}); ` +
      `${d.exitedInWindows} processes exited inside windows`,
  });
  return rows;
}
