/**
 * CLI start-up, as a user meets it: `restory --version`, `--help`, and `list` of an empty and of a
 * small store (5 sessions), each a fresh `node bin/restory.js` process run to its end, beside
 * `node -e 0` (Node's own start, the floor). Wall time, and CPU time (user + sys of the child, from
 * bash's `times`), interleaved per repetition. Aims from issue 13: help and --version ≤ 150 ms,
 * list of a small store ≤ 300 ms (median wall).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from '../companion/project-root.js';
import { SqlJsStore } from '../companion/store/sqljs-store.js';
import type { SessionState } from '../shared/state.js';
import { aimRow, tempDir, type Aim, type Benchmark, type Row } from './harness.js';
import { fmtMs, median } from './stats.js';

export interface CliStartupData {
  repetitions: number;
  /** Median wall and CPU ms per command. */
  commands: Record<string, { wallMs: number; cpuMs: number }>;
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

async function smallStore(dataDir: string): Promise<void> {
  const store = await SqlJsStore.open({ dataDir });
  for (let i = 0; i < 5; i++) {
    const url = `https://example.test/${i}`;
    const state: SessionState = {
      cookies: [],
      origins: [{ origin: 'https://example.test', localStorage: [{ name: 'k', value: 'v'.repeat(1000) }] }],
      tabs: [{ windowIndex: 0, index: 0, active: true, pinned: false, url, title: `page ${i}`, history: { entries: [{ url, title: '' }], currentIndex: 0 }, sessionStorage: [] }],
      windows: [{ state: 'normal', focused: true }],
      capturedAt: Date.now(),
    };
    const { id } = await store.createSession({ name: `session ${i}`, state: 'recoverable', initial: state });
    await store.saveSnapshot(id, 'import', { state });
  }
  await store.close();
}

export const cliStartup: Benchmark = {
  name: 'cliStartup',
  title: 'CLI start-up',
  async run(ctx) {
    const reps = ctx.quick ? 2 : 10;
    const bin = join(projectRoot(), 'bin', 'restory.js');
    const empty = tempDir('cli-empty');
    const small = tempDir('cli-small');
    try {
      await smallStore(small.path);
      const commands: Record<string, string[]> = {
        'node -e 0 (floor)': [process.execPath, '-e', '0'],
        'restory --version': [process.execPath, bin, '--version'],
        'restory --help': [process.execPath, bin, '--help'],
        'restory list (empty data dir)': [process.execPath, bin, 'list', '--data-dir', empty.path],
        'restory list (5 sessions)': [process.execPath, bin, 'list', '--data-dir', small.path],
      };
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
      const data: CliStartupData = { repetitions: reps, commands: {} };
      const rows: Row[] = [];
      const aims: Aim[] = [];
      const limits: Record<string, number> = { 'restory --version': 150, 'restory --help': 150, 'restory list (5 sessions)': 300 };
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
      return { rows, aims, data };
    } finally {
      empty.remove();
      small.remove();
    }
  },
};
