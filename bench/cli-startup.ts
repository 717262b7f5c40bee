/**
 * CLI start-up, as a user meets it: `restory --version`, `--help`, and `list` of an empty store, of a
 * small one (5 sessions), of a 50 MB one (the 5 plus a session with 50 snapshots of ~1 MB of
 * fresh localStorage each), of the small one right after a SIGKILL (a session only in the journal:
 * the full open), and beside a running companion (asked over its socket; the companion is the
 * arm's own `restory start`, with its session's headless Chromium). Each a fresh `node bin/restory.js` process run to its end,
 * beside `node -e 0` (Node's own start, the floor). Wall time, and CPU time (user + sys of the CLI
 * process, from bash's `times`; not the companion's), interleaved per repetition. Aims from issues 13
 * and 17: help and --version ≤ 150 ms, list of a small and of a 50 MB store and beside a running
 * companion ≤ 300 ms (median wall).
 *
 * With RESTORY_BENCH_BEFORE=<a dist/ directory of another build> (its bin/ beside it), every command
 * also runs with that build on identical copies of the data dirs, interleaved with this one's.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../companion/project-root.js';
import { SqlJsStore } from '../companion/store/sqljs-store.js';
import type { SessionState } from '../shared/state.js';
import { aimRow, tempDir, type Aim, type Benchmark, type Row } from './harness.js';
import { fmtMs, median } from './stats.js';
import { growStore, NO_TIMER } from './store-fill.js';

export interface CliStartupData {
  repetitions: number;
  /** Median wall and CPU ms per command; commands of the RESTORY_BENCH_BEFORE build end in " — before". */
  commands: Record<string, { wallMs: number; cpuMs: number }>;
  /** Size of the big store's restory.db. */
  bigStoreMb: number;
}

/** Wall and CPU time of one child run to its end (bash's `times`: the children's user and sys). */
function timeChild(argv: string[]): { wallMs: number; cpuMs: number } {
  const quoted = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const t0 = performance.now();
  const out = execFileSync('bash', ['-c', `${quoted} >/dev/null 2>&1; times`], { encoding: 'utf8' });
  const wallMs = performance.now() - t0;
  const children = out.trim().split('\n').at(-1)!;
  const cpuMs = [...children.matchAll(/(\d+)m([\d.]+)s/g)].reduce((sum, m) => sum + (Number(m[1]) * 60 + Number(m[2])) * 1000, 0);
  return { wallMs, cpuMs };
}

function smallState(i: number): SessionState {
  const url = `https://example.test/${i}`;
  return {
    cookies: [],
    origins: [{ origin: 'https://example.test', localStorage: [{ name: 'k', value: 'v'.repeat(1000) }] }],
    tabs: [{ windowIndex: 0, index: 0, active: true, pinned: false, url, title: `page ${i}`, history: { entries: [{ url, title: '' }], currentIndex: 0 }, sessionStorage: [] }],
    windows: [{ state: 'normal', focused: true }],
    capturedAt: Date.now(),
  };
}

/** 5 recoverable sessions, closed cleanly; with `bigMb`, a sixth grown to about that size. */
async function buildStore(dataDir: string, bigMb = 0): Promise<void> {
  const store = await SqlJsStore.open({ dataDir, config: NO_TIMER });
  for (let i = 0; i < 5; i++) {
    const state = smallState(i);
    const { id } = store.createSession({ name: `session ${i}`, state: 'recoverable', initial: state });
    store.saveSnapshot(id, 'import', { state });
  }
  if (bigMb > 0) {
    const big = store.createSession({ name: 'big' });
    growStore(store, big.id, bigMb);
    // As a companion leaves it when it stops.
    store.setState(big.id, 'recoverable');
  }
  await store.close();
}

/** The small store, then one more session whose only trace is in the journal (a companion SIGKILLed after acknowledging it). */
async function buildCrashedStore(dataDir: string, scratch: string): Promise<void> {
  await buildStore(scratch);
  const store = await SqlJsStore.open({ dataDir: scratch, config: NO_TIMER });
  store.createSession({ name: 'journal only', state: 'recoverable', initial: smallState(5) });
  await store.flush();
  // The flushed files of a store still open are what a SIGKILL leaves on disk.
  cpSync(scratch, dataDir, { recursive: true, filter: (src) => !src.includes('companion.lock') });
  await store.close();
}

/**
 * A companion as a user runs one: `restory start` of the arm's own CLI (a session in a headless
 * Chromium beside the 5 stored ones), resolved once it printed its CDP endpoint.
 */
async function startCompanion(bin: string, dataDir: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [bin, 'start', '--data-dir', dataDir, '--cdp-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (/^cdp \S+$/m.test(out)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`the benchmark's \`restory start\` exited (${code}) before it was ready\n${out}${err}`)));
  });
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  // As Ctrl-C: the companion saves, ends its browser and exits.
  child.kill('SIGINT');
  await exited;
}

export const cliStartup: Benchmark = {
  name: 'cliStartup',
  title: 'CLI start-up',
  async run(ctx) {
    const reps = ctx.quick ? 2 : 10;
    const bigMb = ctx.quick ? 2 : 50;
    const before = process.env.RESTORY_BENCH_BEFORE;
    const beforeBin = before ? join(before, '..', 'bin', 'restory.js') : undefined;
    if (before && !(existsSync(join(before, 'companion', 'cli', 'main.js')) && existsSync(beforeBin!))) {
      throw new Error(`RESTORY_BENCH_BEFORE=${before} holds no build (companion/cli/main.js, and ../bin/restory.js beside it)`);
    }
    const arms = [
      { suffix: '', bin: join(projectRoot(), 'bin', 'restory.js') },
      ...(before ? [{ suffix: ' — before', bin: beforeBin! }] : []),
    ];
    const dirs: { remove(): void }[] = [];
    const dir = (prefix: string): string => {
      const d = tempDir(prefix);
      dirs.push(d);
      return d.path;
    };
    const companions: ChildProcess[] = [];
    try {
      const small = dir('cli-small');
      await buildStore(small);
      const big = dir('cli-big');
      ctx.log(`  building a ${bigMb} MB store…`);
      await buildStore(big, bigMb);
      const bigStoreMb = statSync(join(big, 'restory.db')).size / 1024 / 1024;
      const crashed = dir('cli-crashed');
      await buildCrashedStore(crashed, dir('cli-scratch'));

      const commands: Record<string, string[]> = { 'node -e 0 (floor)': [process.execPath, '-e', '0'] };
      for (const arm of arms) {
        // The before arm reads copies, so that neither sees what the other's companion left. This
        // one reads the originals. A copied restory.db is another file, so its session index no
        // longer names it (session-index.ts) and list would take the full open until the next
        // checkpoint: a clean copy is opened and closed once, as a companion would leave it, so
        // that its index names it. The crashed copy stays as the SIGKILL left it.
        const copy = async (from: string, prefix: string, clean: boolean): Promise<string> => {
          if (!arm.suffix) return from;
          const to = dir(prefix);
          cpSync(from, to, { recursive: true });
          if (clean) await (await SqlJsStore.open({ dataDir: to, config: NO_TIMER })).close();
          return to;
        };
        const list = (d: string) => [process.execPath, arm.bin, 'list', '--data-dir', d];
        commands[`restory --version${arm.suffix}`] = [process.execPath, arm.bin, '--version'];
        commands[`restory --help${arm.suffix}`] = [process.execPath, arm.bin, '--help'];
        commands[`restory list (empty data dir)${arm.suffix}`] = list(dir('cli-empty'));
        commands[`restory list (5 sessions)${arm.suffix}`] = list(await copy(small, 'cli-small', true));
        commands[`restory list (${bigMb} MB store)${arm.suffix}`] = list(await copy(big, 'cli-big', true));
        commands[`restory list (5 sessions + 1 only in the journal, after a SIGKILL)${arm.suffix}`] = list(await copy(crashed, 'cli-crashed', false));
        const withCompanion = dir('cli-companion');
        cpSync(small, withCompanion, { recursive: true });
        commands[`restory list (beside a running companion)${arm.suffix}`] = list(withCompanion);
        companions.push(await startCompanion(arm.bin, withCompanion));
      }
      const names = Object.keys(commands);
      const samples = Object.fromEntries(names.map((n) => [n, { wall: [] as number[], cpu: [] as number[] }]));
      for (const n of names) timeChild(commands[n]); // warm-up: page cache
      for (let r = 0; r < reps; r++) {
        for (let k = 0; k < names.length; k++) {
          const n = names[(r + k) % names.length];
          const t = timeChild(commands[n]);
          samples[n].wall.push(t.wallMs);
          samples[n].cpu.push(t.cpuMs);
        }
      }
      const data: CliStartupData = { repetitions: reps, commands: {}, bigStoreMb };
      const rows: Row[] = [];
      const aims: Aim[] = [];
      const limits: Record<string, number> = {
        'restory --version': 150,
        'restory --help': 150,
        'restory list (5 sessions)': 300,
        [`restory list (${bigMb} MB store)`]: 300,
        'restory list (beside a running companion)': 300,
      };
      for (const n of names) {
        const wallMs = median(samples[n].wall);
        const cpuMs = median(samples[n].cpu);
        data.commands[n] = { wallMs, cpuMs };
        const value = `${fmtMs(wallMs)} wall, ${fmtMs(cpuMs)} CPU (medians of ${reps})`;
        const limit = limits[n];
        if (limit === undefined) rows.push({ section: 'CLI start-up', metric: n, value });
        else {
          const a = aimRow('CLI start-up', n, `≤ ${limit} ms wall`, value, wallMs <= limit);
          rows.push(a.row);
          aims.push(a.aim);
        }
        ctx.log(`  ${n}: ${value}`);
      }
      ctx.log(`  (the big store's restory.db: ${bigStoreMb.toFixed(1)} MB)`);
      return { rows, aims, data };
    } finally {
      for (const c of companions) await stop(c);
      for (const d of dirs) d.remove();
    }
  },
};
