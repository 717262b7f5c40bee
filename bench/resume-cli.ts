/**
 * Resume as a user meets it: `restory resume <id>` in its own process (Node start, imports, store
 * open, Chromium with the extension, restore), against the same URLs opened by a Node script of
 * Playwright's in its own process — plainly (floor) and from the session's storageState, each also with
 * restory's extension loaded (restore-baseline.ts) — with the site served by a process of its own. Time until each prints that it is ready (restory: its --json
 * report), and CPU time of each one's whole process tree until then (steady on a busy machine, where
 * wall time is not). Interleaved, order rotating per repetition.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Companion } from '../companion/companion.js';
import { projectRoot } from '../companion/project-root.js';
import { startSiteProcess } from './capture-cost-arms.js';
import { tempDir, type Benchmark, type Row } from './harness.js';
import { KINDS, treeCpuSinceStart, type ByKind } from './process-kinds.js';
import { benchState } from './restore-time.js';
import { fmtSummaryMs, median, summarize } from './stats.js';

type Way = 'restory' | 'floor' | 'storageState' | 'extension' | 'extensionStorageState';
const WAYS: Way[] = ['restory', 'floor', 'storageState', 'extension', 'extensionStorageState'];
const BIN = join(projectRoot(), 'bin', 'restory.js');
const BASELINE = fileURLToPath(new URL('./restore-baseline.js', import.meta.url));

interface Sample {
  wallMs: number;
  cpuMs: number;
  /** restory only: when each phase's progress line arrived, ms since spawn (PHASES). */
  phases: Partial<Record<Phase, number>>;
  /** CPU by process kind; the Node process (restory's CLI and companion, or the Playwright script) is `companion`. */
  byKind: ByKind;
}

/** restory's progress lines on stderr (session-browsers.ts, restore-state.ts), in the order they come. */
const PHASES = {
  'store open, snapshot read': /snapshot \d+ read from the store/,
  'Chromium answering': /Chromium .*answering on its CDP port/,
  'connected over CDP': /connected over CDP/,
  'service worker': /service worker running/,
  cookies: /: cookies: /,
  localStorage: /: localStorage: /,
  tabs: /: tabs: .* loaded/,
} as const;
type Phase = keyof typeof PHASES;

/** Run `argv` until its stdout has a line matching `ready`; then its tree's CPU, SIGINT, and wait for it. */
async function timeUntilReady(argv: string[], ready: RegExp, timeoutMs = 120_000): Promise<Sample> {
  const t0 = performance.now();
  const child: ChildProcess = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let out = '';
  let err = '';
  const phases: Sample['phases'] = {};
  child.stderr!.on('data', (d: Buffer) => {
    const at = performance.now() - t0;
    err += d.toString();
    for (const [phase, line] of Object.entries(PHASES) as Array<[Phase, RegExp]>) if (phases[phase] === undefined && line.test(err)) phases[phase] = at;
  });
  try {
    const wallMs = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${argv.join(' ')}: not ready in ${timeoutMs} ms\n${err}`)), timeoutMs);
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (ready.test(out)) {
          clearTimeout(timer);
          resolve(performance.now() - t0);
        }
      });
      void exited.then(() => reject(new Error(`${argv.join(' ')} exited before it was ready\n${out}\n${err}`)));
    });
    const cpu = treeCpuSinceStart(child.pid!);
    return { wallMs, cpuMs: cpu.total, byKind: cpu.byKind, phases };
  } finally {
    child.kill('SIGINT');
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(killer);
  }
}

export const resumeCli: Benchmark = {
  name: 'resumeCli',
  title: 'Resume through the CLI',
  async run(ctx) {
    const reps = ctx.quick ? 1 : 5;
    const site = await startSiteProcess(2);
    const dir = tempDir('resume-cli');
    const rows: Row[] = [];
    const data: Record<string, Record<Way, { wall: ReturnType<typeof summarize>; cpu: ReturnType<typeof summarize> }>> = {};
    try {
      // Two sites (127.0.0.1 and localhost), as a session usually spans: one renderer each.
      const origins = { a: site.origins[0], b: site.origins[1].replace('127.0.0.1', 'localhost') };
      for (const n of ctx.quick ? [1] : [1, 4]) {
        const state = benchState(origins, n, Date.now(), 'app.html');
        const urls = state.tabs.map((t) => t.url);
        const companion = await Companion.open({ dataDir: dir.path });
        const ids: string[] = [];
        for (let r = 0; r < reps + (ctx.quick ? 0 : 1); r++) ids.push(await companion.importState({ name: `bench ${n} tabs`, state }));
        await companion.shutdown();
        const job = (way: Way) => {
          const file = join(dir.path, `${way}-${n}.json`);
          writeFileSync(file, JSON.stringify({ way, urls, storageState: { cookies: state.cookies, origins: state.origins } }));
          return file;
        };
        const files = { floor: job('floor'), storageState: job('storageState'), extension: job('extension'), extensionStorageState: job('extensionStorageState') };
        const samples: Record<Way, Sample[]> = { restory: [], floor: [], storageState: [], extension: [], extensionStorageState: [] };
        const runOnce = (way: Way, r: number): Promise<Sample> =>
          way === 'restory'
            ? timeUntilReady([BIN, 'resume', ids[r], '--data-dir', dir.path, '--json'], /^\{.*\}$/m)
            : timeUntilReady([BASELINE, files[way]], /^ready$/m);
        // Warm-up, unrecorded: page cache and the first Chromium start of each kind.
        if (!ctx.quick) for (const way of WAYS) await runOnce(way, reps);
        for (let r = 0; r < reps; r++) {
          for (let k = 0; k < WAYS.length; k++) {
            const way = WAYS[(r + k) % WAYS.length];
            samples[way].push(await runOnce(way, r));
          }
        }
        const byWay = {} as Record<Way, { wall: ReturnType<typeof summarize>; cpu: ReturnType<typeof summarize> }>;
        for (const way of WAYS) byWay[way] = { wall: summarize(samples[way].map((s) => s.wallMs)), cpu: summarize(samples[way].map((s) => s.cpuMs)) };
        data[String(n)] = byWay;
        const wall = (w: Way) => median(samples[w].map((s) => s.wallMs));
        const cpu = (w: Way) => median(samples[w].map((s) => s.cpuMs));
        const tabs = `${n} tab${n > 1 ? 's' : ''}`;
        const S = 'Resume through the CLI';
        rows.push(
          {
            section: S,
            metric: `${tabs}: restory resume (own process, --json)`,
            value: `wall ${fmtSummaryMs(byWay.restory.wall)}, CPU ${fmtSummaryMs(byWay.restory.cpu)}; wall ×${(wall('restory') / wall('floor')).toFixed(2)} the floor, ×${(wall('restory') / wall('storageState')).toFixed(2)} storageState; CPU ×${(cpu('restory') / cpu('floor')).toFixed(2)}, ×${(cpu('restory') / cpu('storageState')).toFixed(2)}`,
          },
          { section: S, metric: `${tabs}: floor (node script: launch + goto)`, value: `wall ${fmtSummaryMs(byWay.floor.wall)}, CPU ${fmtSummaryMs(byWay.floor.cpu)}` },
          { section: S, metric: `${tabs}: Playwright storageState (node script)`, value: `wall ${fmtSummaryMs(byWay.storageState.wall)}, CPU ${fmtSummaryMs(byWay.storageState.cpu)}` },
          { section: S, metric: `${tabs}: restory's extension loaded, launch + goto (node script)`, value: `wall ${fmtSummaryMs(byWay.extension.wall)}, CPU ${fmtSummaryMs(byWay.extension.cpu)}; wall ×${(wall('extension') / wall('floor')).toFixed(2)} the floor` },
          { section: S, metric: `${tabs}: extension + setStorageState (node script)`, value: `wall ${fmtSummaryMs(byWay.extensionStorageState.wall)}, CPU ${fmtSummaryMs(byWay.extensionStorageState.cpu)}; wall ×${(wall('extensionStorageState') / wall('storageState')).toFixed(2)} storageState; restory ×${(wall('restory') / wall('extensionStorageState')).toFixed(2)} of it` },
        );
        const phaseAt = (Object.keys(PHASES) as Phase[])
          .map((p) => [p, samples.restory.map((x) => x.phases[p]).filter((ms): ms is number => ms !== undefined)] as const)
          .filter(([, at]) => at.length > 0)
          .map(([p, at]) => `${p} ${Math.round(median(at))}`);
        const phaseLine = `${phaseAt.join(', ')}, ready ${Math.round(wall('restory'))}`;
        rows.push({ section: S, metric: `${tabs}: restory's phases (ms since the command started, medians)`, value: phaseLine });
        ctx.log(`  ${tabs}: restory phases (ms since spawn, medians): ${phaseLine}`);
        for (const way of WAYS) {
          const kinds = KINDS.map((k) => [k, median(samples[way].map((s) => s.byKind[k]))] as const).filter(([, ms]) => ms >= 1);
          ctx.log(`  ${tabs}: ${way} CPU by process kind (medians): ${kinds.map(([k, ms]) => `${k} ${Math.round(ms)} ms`).join(', ')}`);
        }
        ctx.log(`  ${tabs}: restory ${fmtSummaryMs(byWay.restory.wall)} (CPU ${fmtSummaryMs(byWay.restory.cpu)}), floor ${fmtSummaryMs(byWay.floor.wall)}, storageState ${fmtSummaryMs(byWay.storageState.wall)}`);
      }
      return { rows, aims: [], data };
    } finally {
      await site.stop();
      dir.remove();
    }
  },
};
