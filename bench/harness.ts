/**
 * What every benchmark shares: the result types, the run context (quick mode, the local test site,
 * logging), temp dirs, a plain (extension-less) Chromium, the companion as a real child process, and
 * /proc readings (CPU time, RSS) for processes we started.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import type { TestSite } from '../test/fixtures/test-site.js';
import { findChromium } from '../companion/browser/find-chromium.js';
import { packageVersion, projectRoot } from '../companion/project-root.js';

/** One line of the printed table. */
export interface Row {
  section: string;
  metric: string;
  value: string;
  /** The aim and whether it was met, e.g. "< 1% ✓". */
  aim?: string;
}

/** A number the issue sets a target for. */
export interface Aim {
  section: string;
  what: string;
  aim: string;
  value: string;
  met: boolean;
}

export interface SectionOutput<D = unknown> {
  rows: Row[];
  aims: Aim[];
  data: D;
}

export interface BenchContext {
  quick: boolean;
  site: TestSite;
  log(message: string): void;
}

export interface Benchmark {
  /** Key in the JSON and for --only. */
  name: string;
  title: string;
  run(ctx: BenchContext): Promise<SectionOutput>;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A fresh temp dir; `remove()` deletes it. On this machine tmpdir() is on the real disk (fsync is not free). */
export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `restory-bench-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true, maxRetries: 3 }) };
}

export function aimRow(section: string, what: string, aim: string, value: string, met: boolean): { row: Row; aim: Aim } {
  return { row: { section, metric: what, value, aim: `${aim} ${met ? '✓' : '✗'}` }, aim: { section, what, aim, value, met } };
}

// ------------------------------------------------------------------------------------ companion

const BIN = join(projectRoot(), 'bin', 'restory.js');

export interface ChildCompanion {
  child: ChildProcess;
  pid: number;
  sessionId: string;
  cdp: string;
  stderr(): string;
  exited: Promise<number | string>;
}

/** `restory start … --cdp-port 0` as a child process, resolved once it announced its session and CDP endpoint. */
export function spawnCompanion(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): Promise<ChildCompanion> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args, '--cdp-port', '0'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const exited = new Promise<number | string>((r) => child.on('exit', (code, signal) => r(code ?? signal ?? -1)));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`restory ${args.join(' ')} did not announce a session in ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      const session = /^session (\S+)$/m.exec(stdout);
      const cdp = /^cdp (\S+)$/m.exec(stdout);
      if (session && cdp) {
        clearTimeout(timer);
        resolve({ child, pid: child.pid!, sessionId: session[1], cdp: cdp[1], stderr: () => stderr, exited });
      }
    });
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`restory ${args.join(' ')} exited (${code}) before announcing a session\n${stderr}`));
    });
  });
}

/** Stop a child companion we started: SIGINT (final snapshot), SIGKILL if it hangs. */
export async function stopCompanion(c: ChildCompanion, timeoutMs = 15_000): Promise<void> {
  if (c.child.exitCode !== null || c.child.signalCode !== null) return;
  c.child.kill('SIGINT');
  const timer = setTimeout(() => c.child.kill('SIGKILL'), timeoutMs);
  await c.exited;
  clearTimeout(timer);
}

// ------------------------------------------------------------------------------------ /proc

let clockTicks: number | undefined;
function ticksPerSecond(): number {
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  return clockTicks;
}

function statFields(pid: number): string[] | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (comm) may contain spaces and parentheses: split after the last ')'.
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** utime + stime of a process in ms (0 if it is gone). */
export function cpuMs(pid: number): number {
  const f = statFields(pid);
  if (!f) return 0;
  // After the comm field: state is f[0], so utime (field 14) is f[11] and stime (15) is f[12].
  return ((Number(f[11]) + Number(f[12])) * 1000) / ticksPerSecond();
}

/** The pid and all its descendants (by /proc ppid). */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const f = statFields(Number(name));
    if (!f) continue;
    const ppid = Number(f[1]);
    children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
  }
  const out: number[] = [];
  const walk = (pid: number) => {
    out.push(pid);
    for (const c of children.get(pid) ?? []) walk(c);
  };
  walk(root);
  return out;
}

/** Resident set size of a process in MB. */
export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

// ------------------------------------------------------------------------------------ machine

export interface Machine {
  cpu: string;
  cores: number;
  memoryGb: number;
  os: string;
  node: string;
  chromium: string;
  playwright: string;
  restory: string;
  tmpdir: string;
}

export function machineInfo(): Machine {
  const chromiumPath = findChromium(process.env);
  let chromium = chromiumPath;
  try {
    chromium = execFileSync(chromiumPath, ['--version'], { timeout: 10_000 }).toString().trim();
  } catch {
    // Version unknown; the path still says which binary ran.
  }
  const playwrightPkg = join(projectRoot(), 'node_modules', 'playwright-core', 'package.json');
  const playwright = (JSON.parse(readFileSync(playwrightPkg, 'utf8')) as { version: string }).version;
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    memoryGb: Math.round(totalmem() / 1024 ** 3),
    os: `Linux ${release()}`,
    node: process.version,
    chromium,
    playwright,
    restory: packageVersion(),
    tmpdir: tmpdir(),
  };
}
