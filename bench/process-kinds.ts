/**
 * CPU time of a whole process tree over a window, split by what each process is: Chromium's browser
 * process (with its zygotes), page renderers, the extension's renderer (service worker), the GPU
 * process, network/storage/other utility processes, the native host and the companion.
 *
 * CPU time is utime + stime from /proc/<pid>/stat (all threads of the process; 10 ms ticks here).
 * A window remembers each process's CPU when it first saw it (0 for one born during the window) and
 * the last value it read; it re-reads the tree every `pollMs`, so a process that exits during the
 * window loses at most its last `pollMs` of CPU (counted in `exited`). Chromium's zygote children
 * rewrite their cmdline with spaces instead of NULs (DESIGN.md), hence the split on both.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { processTree } from './harness.js';

export const KINDS = ['browser', 'renderer', 'extension', 'gpu', 'utility', 'nativeHost', 'companion', 'other'] as const;
export type Kind = (typeof KINDS)[number];
export type ByKind = Record<Kind, number>;

export const KIND_LABELS: Record<Kind, string> = {
  browser: 'browser (+ zygotes)',
  renderer: 'page renderers',
  extension: 'extension (service worker renderer)',
  gpu: 'GPU',
  utility: 'network/storage/utility',
  nativeHost: 'native host',
  companion: 'companion (restory CLI)',
  other: 'other',
};

export const zeroByKind = (): ByKind => Object.fromEntries(KINDS.map((k) => [k, 0])) as ByKind;

let ticks: number | undefined;
function msPerTick(): number {
  ticks ??= Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  return 1000 / ticks;
}

/** utime + stime in ms, or null when the process is gone. */
function readCpuMs(pid: number): number | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    if (f[0] === 'Z') return null; // a zombie's CPU is already in its parent's cutime
    return (Number(f[11]) + Number(f[12])) * msPerTick();
  } catch {
    return null;
  }
}

function readArgs(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split(/[\0 ]+/).filter(Boolean);
  } catch {
    return [];
  }
}

/** What a process of an arm's tree is, from its command line. */
export function classify(args: readonly string[], isCompanion: boolean): Kind {
  if (isCompanion) return 'companion';
  if (args.some((a) => a.endsWith('native-host/main.js') || a.endsWith('host/native-host.cjs'))) return 'nativeHost';
  const type = args.find((a) => a.startsWith('--type='))?.slice('--type='.length);
  switch (type) {
    case undefined:
      return /chrom/i.test(args[0] ?? '') ? 'browser' : 'other';
    case 'zygote':
    case 'crashpad-handler':
      return 'browser';
    case 'renderer':
      return args.includes('--extension-process') ? 'extension' : 'renderer';
    case 'gpu-process':
      return 'gpu';
    case 'utility':
      return 'utility';
    default:
      return 'other';
  }
}

export interface TreeCpu {
  total: number;
  byKind: ByKind;
  /** Processes seen in the window that were gone at its end (their last ≤ pollMs of CPU is lost). */
  exited: number;
}

/**
 * CPU of the tree rooted at `root` since it started, by kind (`root` itself counts as the companion):
 * utime + stime of every live process plus the same of the children each has reaped, so a process
 * that already exited (a renderer swapped out by a navigation) is counted in its reaper's.
 */
export function treeCpuSinceStart(root: number): { total: number; byKind: ByKind } {
  const byKind = zeroByKind();
  let total = 0;
  for (const pid of processTree(root)) {
    let f: string[];
    try {
      const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
      f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    } catch {
      continue;
    }
    const ms = (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * msPerTick();
    total += ms;
    byKind[classify(readArgs(pid), pid === root)] += ms;
  }
  return { total, byKind };
}

/** A measurement window over the tree rooted at `root`; `companionPid` marks the companion process. */
export class TreeCpuWindow {
  private readonly first = new Map<number, number>();
  private readonly last = new Map<number, number>();
  private readonly kinds = new Map<number, Kind>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly root: number,
    private readonly companionPid?: number,
    pollMs = 250,
  ) {
    this.read(true);
    this.timer = setInterval(() => this.read(false), pollMs);
  }

  private read(atStart: boolean): Set<number> {
    const alive = new Set<number>();
    for (const pid of processTree(this.root)) {
      const cpu = readCpuMs(pid);
      if (cpu === null) continue;
      alive.add(pid);
      if (!this.first.has(pid)) {
        this.first.set(pid, atStart ? cpu : 0); // born during the window: all its CPU is the window's
        this.kinds.set(pid, classify(readArgs(pid), pid === this.companionPid));
      }
      this.last.set(pid, cpu);
    }
    return alive;
  }

  stop(): TreeCpu {
    clearInterval(this.timer);
    const alive = this.read(false);
    const byKind = zeroByKind();
    let exited = 0;
    for (const [pid, start] of this.first) {
      byKind[this.kinds.get(pid)!] += this.last.get(pid)! - start;
      if (!alive.has(pid)) exited++;
    }
    const total = KINDS.reduce((sum, k) => sum + byKind[k], 0);
    return { total, byKind, exited };
  }
}
