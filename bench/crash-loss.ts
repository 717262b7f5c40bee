/**
 * Data lost on crash: a real companion (`restory start`, a child process) records a page that
 * writes a counter to localStorage 100 times a second; at a random moment the companion is
 * SIGKILLed (its Chromium dies with it). The store is then read as the next companion would
 * (Store.open readOnly: database + journal replay) and the newest surviving counter is compared with
 * the newest counter the page had written before the kill.
 *
 * The page logs each write with Date.now(); the log is read over CDP right before the kill and once
 * more after it if Chromium still answers, and only writes stamped before the kill count. A SIGKILL
 * keeps whatever reached the kernel (written but not yet fdatasync'd journal records survive); a
 * power cut would lose those too (bounded by the ack, which waits for fdatasync).
 */
import { readFileSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { killGroup, removeProfile } from '../companion/browser/spawn-browser.js';
import { SqlJsStore } from '../companion/store/sqljs-store.js';
import { aimRow, sleep, spawnCompanion, tempDir, type Benchmark, type ChildCompanion } from './harness.js';
import { readWriter, startWriter, type WriterLog } from './page-scripts.js';
import { fmtMs, summarize, type Summary } from './stats.js';

const RATE = 100;

/** Whether any process of the group led by pgid is left (signal 0 only checks). */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface Trial {
  /** ms from the stream's start to the kill. */
  killAfterMs: number;
  newestWritten: number;
  newestSurvived: number;
  writesLost: number;
  /** Kill time minus the page time of the newest surviving write: how much recent history was lost. */
  lostMs: number;
}

export interface CrashLossData {
  ratePerSecond: number;
  trials: Trial[];
  lostMs: Summary;
  writesLost: Summary;
  worst: Trial;
}

export const crashLoss: Benchmark = {
  name: 'crashLoss',
  title: 'Data lost on crash',
  async run(ctx) {
    const count = ctx.quick ? 1 : 20;
    const trials: Trial[] = [];
    for (let i = 0; i < count; i++) {
      const t = await trial(ctx.site.originA, ctx.quick);
      ctx.log(`  kill ${i + 1}/${count} after ${t.killAfterMs} ms: wrote ${t.newestWritten}, survived ${t.newestSurvived} (${fmtMs(t.lostMs)} lost)`);
      trials.push(t);
    }
    const worst = trials.reduce((a, b) => (b.lostMs > a.lostMs ? b : a));
    const data: CrashLossData = {
      ratePerSecond: RATE,
      trials,
      lostMs: summarize(trials.map((t) => t.lostMs)),
      writesLost: summarize(trials.map((t) => t.writesLost)),
      worst,
    };
    const S = 'Data lost on crash';
    const a = aimRow(
      S,
      `SIGKILL of the companion, ${count}× at random, page writing ${RATE}/s`,
      'worst < 1 s',
      `worst ${fmtMs(worst.lostMs)} (${worst.writesLost} writes); median ${fmtMs(data.lostMs.median)} (${data.writesLost.median} writes), min ${fmtMs(data.lostMs.min)}`,
      worst.lostMs < 1000,
    );
    return { rows: [a.row], aims: [a.aim], data };
  },
};

async function trial(origin: string, quick: boolean): Promise<Trial> {
  const dir = tempDir('crash');
  let companion: ChildCompanion | null = null;
  let browser: Browser | null = null;
  let browserPid: number | undefined;
  let profile: string | undefined;
  try {
    companion = await spawnCompanion(['start', '--data-dir', dir.path, '--url', `${origin}/storage.html`]);
    browser = await chromium.connectOverCDP(companion.cdp);
    const cdp = await browser.newBrowserCDPSession();
    const info = (await cdp.send('SystemInfo.getProcessInfo')) as { processInfo: { type: string; id: number }[] };
    browserPid = info.processInfo.find((p) => p.type === 'browser')?.id;
    if (browserPid) {
      const argv = readFileSync(`/proc/${browserPid}/cmdline`, 'utf8').split('\0');
      profile = argv.find((a) => a.startsWith('--user-data-dir='))?.slice('--user-data-dir='.length);
    }
    const context = browser.contexts()[0];
    let page = context.pages().find((p) => p.url().endsWith('/storage.html'));
    for (let i = 0; !page && i < 100; i++) {
      await sleep(100);
      page = context.pages().find((p) => p.url().endsWith('/storage.html'));
    }
    if (!page) throw new Error('the recorded page did not open');

    const startedAt = await page.evaluate(startWriter, { prefix: 'counter', oneKey: true, ratePerSecond: RATE, count: RATE * 600 });
    await sleep((quick ? 300 : 1500) + Math.random() * (quick ? 500 : 2500));
    let log: WriterLog = await page.evaluate(readWriter);
    const killAt = Date.now();
    companion.child.kill('SIGKILL');
    // Writes between the read and the kill: ask once more, if the browser still answers.
    const later = await Promise.race([page.evaluate(readWriter).catch(() => null), sleep(500).then(() => null)]);
    if (later) log = later;
    await companion.exited;

    const before = log.bursts.filter(([, t]) => t <= killAt);
    const newestWritten = before.length ? before.at(-1)![0] - 1 : -1;
    const store = await SqlJsStore.open({ dataDir: dir.path, readOnly: true });
    let newestSurvived = -1;
    try {
      const state = store.currentState(companion.sessionId);
      const item = state.origins.find((o) => o.origin === origin && !o.topOrigin)?.localStorage.find((i) => i.name === 'counter');
      if (item) newestSurvived = Number(item.value);
    } finally {
      await store.close();
    }
    // Page time of the newest surviving write (the burst that wrote it), else the stream's start.
    const survivedBurst = log.bursts.find(([end]) => end > newestSurvived);
    const survivedAt = newestSurvived >= 0 && survivedBurst ? survivedBurst[1] : startedAt;
    return {
      killAfterMs: killAt - startedAt,
      newestWritten,
      newestSurvived,
      writesLost: Math.max(0, newestWritten - newestSurvived),
      lostMs: Math.max(0, killAt - survivedAt),
    };
  } finally {
    await browser?.close().catch(() => {});
    if (companion && companion.child.exitCode === null && companion.child.signalCode === null) companion.child.kill('SIGKILL');
    // The killed companion cannot clean up after its Chromium: end its whole process group (renderers
    // and the zygote write into the profile too) and wait for it to empty before removing the profile;
    // removing it while a renderer still wrote failed with ENOTEMPTY. Cleanup never fails the trial.
    if (browserPid) {
      killGroup(browserPid, 'SIGKILL'); // Playwright and spawn-browser both start Chromium as a group leader
      for (let i = 0; i < 50 && groupAlive(browserPid); i++) await sleep(100);
    }
    if (profile?.includes('restory-profile-')) await removeProfile(profile);
    dir.remove();
  }
}
