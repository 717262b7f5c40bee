/**
 * Idle CPU: a real companion (`restory start`, child process) with its Chromium open on a page that
 * holds some localStorage, nothing happening. CPU time (utime + stime from /proc/<pid>/stat) over a
 * window, for the companion alone and for its browser (every descendant: Chromium's processes and
 * the native host). For comparison, a child Node process that only holds Playwright's connection to
 * the same Chromium without the extension (bench/playwright-idle-probe.ts): the part of the
 * companion's idle CPU that any Playwright driver pays.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';
import { projectRoot } from '../companion/project-root.js';
import { aimRow, cpuMs, processTree, sleep, spawnCompanion, stopCompanion, tempDir, type Benchmark } from './harness.js';

export interface IdleCpuData {
  windowMs: number;
  companionPct: number;
  browserWithCapturePct: number;
  playwrightOnlyPct: number;
  browserWithoutPct: number;
}

/** CPU % of one core used by `measure()`'s processes over `windowMs`. */
async function cpuPercent(measure: () => number, windowMs: number): Promise<number> {
  const before = measure();
  const t0 = performance.now();
  await sleep(windowMs);
  return ((measure() - before) / (performance.now() - t0)) * 100;
}

export const idleCpu: Benchmark = {
  name: 'idleCpu',
  title: 'Idle CPU',
  async run(ctx) {
    const windowMs = ctx.quick ? 1000 : 10_000;
    const settleMs = ctx.quick ? 500 : 3000;
    const url = `${ctx.site.originA}/storage.html`;
    const dir = tempDir('idle');
    const companion = await spawnCompanion(['start', '--data-dir', dir.path, '--url', url]);
    let companionPct: number;
    let browserWithCapturePct: number;
    try {
      const browser = await chromium.connectOverCDP(companion.cdp);
      const page = browser.contexts()[0].pages().find((p) => p.url() === url);
      await page?.evaluate(() => {
        for (let i = 0; i < 200; i++) localStorage.setItem(`idle${i}`, 'x'.repeat(200));
      });
      await browser.close(); // disconnects only; the companion's Chromium stays
      await sleep(settleMs);
      // Both at once over the same window.
      const tree = () => processTree(companion.pid).filter((p) => p !== companion.pid).reduce((sum, p) => sum + cpuMs(p), 0);
      [companionPct, browserWithCapturePct] = await Promise.all([cpuPercent(() => cpuMs(companion.pid), windowMs), cpuPercent(tree, windowMs)]);
    } finally {
      await stopCompanion(companion);
      dir.remove();
    }
    const probe = join(projectRoot(), 'dist', 'bench', 'playwright-idle-probe.js');
    const { stdout } = await promisify(execFile)(process.execPath, [probe, url, String(settleMs), String(windowMs)], { timeout: 120_000 });
    const floor = JSON.parse(stdout.trim().split('\n').at(-1)!) as { nodePct: number; browserPct: number };
    const data: IdleCpuData = { windowMs, companionPct, browserWithCapturePct, playwrightOnlyPct: floor.nodePct, browserWithoutPct: floor.browserPct };

    const S = 'Idle CPU';
    const a = aimRow(
      S,
      `companion, browser open, nothing happening (${windowMs / 1000} s)`,
      '< 1% of a core',
      `${data.companionPct.toFixed(2)}% of a core; a Node process holding only Playwright's connection: ${data.playwrightOnlyPct.toFixed(2)}%`,
      data.companionPct < 1,
    );
    return {
      rows: [
        a.row,
        {
          section: S,
          metric: 'browser (all processes + native host) idle',
          value: `${data.browserWithCapturePct.toFixed(2)}% of a core with capture vs ${data.browserWithoutPct.toFixed(2)}% without the extension`,
        },
      ],
      aims: [a.aim],
      data,
    };
  },
};
