/**
 * Capture cost of two or more builds side by side, for telling what a change did on a machine too
 * noisy for two separate runs to compare (not part of `npm run bench`).
 *
 *   node dist/bench/compare-builds.js loads PAIRS KEYS ROOT...   page loads: every build + plain Chromium
 *   node dist/bench/compare-builds.js companion ROUNDS ROOT...   the companion process alone
 *
 * ROOT is a checkout with `npm run build` done (e.g. a `git worktree` of an older commit, with
 * node_modules linked). `loads`: each build's real CLI (`restory start --cdp-port`, as in
 * capture-cost.ts) and a plain Chromium with the first build's flags, one Playwright client; PAIRS
 * rounds in which every arm loads the app page of an origin holding KEYS keys once (order reversed
 * every round), CPU of each arm's tree over the load + 1.5 s by process kind, then 20 s idle. Each
 * arm gets a load only every (arms × ~1.8) s, so every load also pays a navigation snapshot (5 s
 * debounce) unlike in capture-cost.ts. `companion`: per build in turn, ROUNDS times: the real CLI,
 * 20 s idle, then 12 loads 1.7 s apart; CPU of the companion process alone.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Arm } from './capture-cost-arms.js';
import { sleep } from './harness.js';
import type { ByKind } from './process-kinds.js';

type ArmsModule = typeof import('./capture-cost-arms.js');
type KindsModule = typeof import('./process-kinds.js');
type ScriptsModule = typeof import('./page-scripts.js');

const load = <T>(root: string, file: string): Promise<T> => import(join(root, 'dist', 'bench', file)) as Promise<T>;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

async function compareLoads(pairs: number, keys: number, roots: string[]): Promise<void> {
  const { startSiteProcess, startPlainArm } = await load<ArmsModule>(roots[0], 'capture-cost-arms.js');
  const { TreeCpuWindow, KINDS } = await load<KindsModule>(roots[0], 'process-kinds.js');
  const { loadTime } = await load<ScriptsModule>(roots[0], 'page-scripts.js');
  const site = await startSiteProcess(1);
  const origin = site.origins[0];
  const arms: { name: string; arm: Arm; dir: string; client?: Browser; page?: Page; samples: { cpu: number; wall: number; byKind: ByKind }[] }[] = [];
  try {
    for (const root of roots) {
      const { startRestoryArm } = await load<ArmsModule>(root, 'capture-cost-arms.js');
      const dir = mkdtempSync('/tmp/compare-builds-');
      arms.push({ name: root, arm: await startRestoryArm(dir), dir, samples: [] });
    }
    const plainDir = mkdtempSync('/tmp/compare-builds-plain-');
    arms.push({ name: 'plain Chromium', arm: await startPlainArm(arms[0].arm.browserArgv, plainDir), dir: plainDir, samples: [] });
    for (const a of arms) {
      a.client = await chromium.connectOverCDP(a.arm.cdp);
      const context = a.client.contexts()[0];
      a.page = context.pages().find((p) => !p.url().startsWith('chrome-extension://')) ?? (await context.newPage());
    }
    const viewport = await arms[0].page!.evaluate(() => ({ width: innerWidth, height: innerHeight }));
    await arms.at(-1)!.page!.setViewportSize(viewport);
    for (const a of arms) {
      await a.page!.goto(`${origin}/app.html?run=seed`);
      await a.page!.evaluate((n) => {
        localStorage.clear();
        for (let i = 0; i < n; i++) localStorage.setItem(`seed${i}`, `${i}:`.padEnd(200, 'x'));
      }, keys);
      for (let w = 0; w < 3; w++) await a.page!.goto(`${origin}/app.html?run=warm${w}`);
    }
    await sleep(3000);
    for (let i = 0; i < pairs; i++) {
      for (const a of i % 2 ? [...arms] : [...arms].reverse()) {
        const window = new TreeCpuWindow(a.arm.rootPid, a.arm.companionPid);
        await a.page!.goto(`${origin}/app.html?run=${i}`, { waitUntil: 'load' });
        const wall = await a.page!.evaluate(loadTime);
        await sleep(1500);
        const cpu = window.stop();
        a.samples.push({ cpu: cpu.total, wall, byKind: cpu.byKind });
      }
    }
    const idleMs = 20_000;
    const windows = arms.map((a) => new TreeCpuWindow(a.arm.rootPid, a.arm.companionPid));
    await sleep(idleMs);
    const idle = windows.map((w) => w.stop());
    const plain = arms.at(-1)!;
    console.log(`${pairs} rounds, origin with ${keys} keys, load average ${loadavg()[0].toFixed(1)}`);
    arms.forEach((a, j) => {
      const ratio = median(a.samples.map((s, i) => s.cpu / plain.samples[i].cpu));
      const kinds = KINDS.map((k) => `${k} ${mean(a.samples.map((s) => s.byKind[k])).toFixed(1)}`).filter((t) => !t.endsWith(' 0.0'));
      const idleKinds = KINDS.map((k) => `${k} ${((idle[j].byKind[k] / idleMs) * 100).toFixed(2)}`).filter((t) => !t.endsWith(' 0.00'));
      console.log(`${a.name}: CPU per load ${mean(a.samples.map((s) => s.cpu)).toFixed(1)} ms (median ×${ratio.toFixed(2)} of plain), wall median ${median(a.samples.map((s) => s.wall)).toFixed(0)} ms`);
      console.log(`  by kind (ms): ${kinds.join(', ')}`);
      console.log(`  idle ${((idle[j].total / idleMs) * 100).toFixed(2)}% of a core: ${idleKinds.join(', ')}`);
    });
  } finally {
    for (const a of arms) {
      await a.client?.close().catch(() => {});
      await a.arm.stop().catch(() => {});
      rmSync(a.dir, { recursive: true, force: true });
    }
    await site.stop();
  }
}

/** utime + stime of one process, ms (10 ms ticks). */
function processCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function companionOnly(root: string, origin: string): Promise<{ idleMsPerS: number; perLoadMs: number }> {
  const dataDir = mkdtempSync('/tmp/compare-builds-');
  const { freePort } = await load<ArmsModule>(root, 'capture-cost-arms.js');
  const port = await freePort();
  const child = spawn(process.execPath, [join(root, 'bin', 'restory.js'), 'start', '--cdp-port', String(port), '--data-dir', dataDir], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  try {
    const cdp = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.once('exit', (code) => reject(new Error(`restory start exited (${code})`)));
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const line = /^cdp (\S+)$/m.exec(out);
        if (line && /^session /m.test(out)) resolve(line[1]);
      });
    });
    const client = await chromium.connectOverCDP(cdp);
    const context = client.contexts()[0];
    const page = context.pages().find((p) => !p.url().startsWith('chrome-extension://')) ?? (await context.newPage());
    await page.goto(`${origin}/app.html?run=seed`);
    await sleep(8000);
    let cpu0 = processCpuMs(child.pid!);
    let t0 = Date.now();
    await sleep(20_000);
    const idleMsPerS = ((processCpuMs(child.pid!) - cpu0) / (Date.now() - t0)) * 1000;
    cpu0 = processCpuMs(child.pid!);
    t0 = Date.now();
    for (let i = 0; i < 12; i++) {
      await page.goto(`${origin}/app.html?run=${i}`);
      await sleep(1500);
    }
    const perLoadMs = (processCpuMs(child.pid!) - cpu0) / 12;
    await client.close();
    return { idleMsPerS, perLoadMs };
  } finally {
    child.kill('SIGINT');
    await new Promise((r) => child.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function compareCompanion(rounds: number, roots: string[]): Promise<void> {
  const { startSiteProcess } = await load<ArmsModule>(roots[0], 'capture-cost-arms.js');
  const site = await startSiteProcess(1);
  try {
    for (let r = 1; r <= rounds; r++) {
      for (const root of roots) {
        const { idleMsPerS, perLoadMs } = await companionOnly(root, site.origins[0]);
        console.log(`round ${r} ${root}: companion idle ${idleMsPerS.toFixed(1)} ms/s, ${perLoadMs.toFixed(1)} ms per page load (12 loads 1.7 s apart; load average ${loadavg()[0].toFixed(1)})`);
      }
    }
  } finally {
    await site.stop();
  }
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'loads' && args.length >= 3) await compareLoads(Number(args[0]), Number(args[1]), args.slice(2));
else if (mode === 'companion' && args.length >= 2) await compareCompanion(Number(args[0]), args.slice(1));
else {
  console.error('usage: node dist/bench/compare-builds.js loads PAIRS KEYS ROOT... | companion ROUNDS ROOT...');
  process.exitCode = 2;
}
