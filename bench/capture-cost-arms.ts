/**
 * The processes of the capture-cost benchmark, each started apart from the driver, each in its own
 * process group so that stopping it can kill the whole group:
 * - the site: test/fixtures/app-site-server.ts (compiled under dist/);
 * - arm "restory": the real CLI, `node bin/restory.js start --cdp-port P --data-dir D` (headless by
 *   default) — the companion, its Chromium (extension loaded), the native host Chromium spawns;
 * - arm "plain": the same Chromium binary started directly with the very flags the restory arm's
 *   browser got (read back from /proc/<pid>/cmdline: Playwright's defaults plus QUIET_FLAGS and
 *   DISABLED_FEATURES of companion/browser/launch.ts) minus the extension, the CDP pipe and the
 *   profile, plus its own temp profile and --remote-debugging-port.
 * Everything listens on 127.0.0.1 only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { killGroup } from '../companion/browser/spawn-browser.js';
import { projectRoot } from '../companion/project-root.js';
import { processTree, sleep } from './harness.js';

export interface Arm {
  name: 'restory' | 'plain';
  cdp: string;
  /** Root of the tree whose CPU counts: the companion (restory) or the browser (plain). */
  rootPid: number;
  companionPid?: number;
  browserPid: number;
  /** argv of the browser process as /proc shows it. */
  browserArgv: string[];
  /** Graceful stop, then SIGKILL to every process group the arm started. Safe to call twice. */
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const alive = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
};

async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (alive(pid)) {
    if (Date.now() > until) return false;
    await sleep(50);
  }
  return true;
}

/** A bounded tail of a child's output, for error messages. */
function collect(child: ChildProcess): () => string {
  let text = '';
  const add = (d: Buffer) => (text = (text + d.toString()).slice(-16_000));
  child.stdout?.on('data', add);
  child.stderr?.on('data', add);
  return () => text;
}

async function waitForCdp(endpoint: string, timeoutMs: number, exited: () => boolean): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await fetch(`${endpoint}/json/version`, { signal: AbortSignal.timeout(2000) }).then((r) => r.ok, () => false);
    if (ok) return;
    if (exited()) throw new Error(`process exited before ${endpoint} answered`);
    if (Date.now() > until) throw new Error(`${endpoint}/json/version did not answer within ${timeoutMs} ms`);
    await sleep(100);
  }
}

export interface SiteProcess {
  origins: string[];
  pid: number;
  stop(): Promise<void>;
}

export async function startSiteProcess(originCount: number): Promise<SiteProcess> {
  const script = fileURLToPath(new URL('../test/fixtures/app-site-server.js', import.meta.url));
  const child = spawn(process.execPath, [script, String(originCount)], { detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
  const output = collect(child);
  const stop = async () => {
    child.stdin?.end();
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await waitGone(child.pid!, 3000);
    killGroup(child.pid!, 'SIGKILL');
  };
  try {
    const origins = await new Promise<string[]>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`site server printed no origins within 10 s\n${output()}`)), 10_000);
      child.once('exit', (code) => reject(new Error(`site server exited (${code})\n${output()}`)));
      let buffered = '';
      child.stdout!.on('data', (d: Buffer) => {
        buffered += d.toString();
        const line = buffered.split('\n').find((l) => l.startsWith('{'));
        if (!line) return;
        clearTimeout(timer);
        resolve((JSON.parse(line) as { origins: string[] }).origins);
      });
    });
    return { origins, pid: child.pid!, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Chromium's browser process under `parent`: a chromium command line without --type=. */
function findBrowser(parent: number): { pid: number; argv: string[] } | undefined {
  for (const pid of processTree(parent)) {
    if (pid === parent) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    } catch {
      continue;
    }
    if (/chrom/i.test(argv[0] ?? '') && argv.some((a) => a.startsWith('--user-data-dir=')) && !argv.some((a) => a.startsWith('--type='))) {
      return { pid, argv };
    }
  }
  return undefined;
}

/** Arm "restory": the real CLI as a user starts it. */
export async function startRestoryArm(dataDir: string, timeoutMs = 90_000): Promise<Arm> {
  const port = await freePort();
  const bin = join(projectRoot(), 'bin', 'restory.js');
  const child = spawn(process.execPath, [bin, 'start', '--cdp-port', String(port), '--data-dir', dataDir], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = collect(child);
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  let browserPid: number | undefined;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    browserPid ??= findBrowser(child.pid!)?.pid;
    // SIGINT: the companion's own shutdown (final snapshot, browser closed), as a user's Ctrl-C.
    if (!exited()) child.kill('SIGINT');
    await waitGone(child.pid!, 20_000);
    killGroup(child.pid!, 'SIGKILL');
    // Playwright starts Chromium detached, as the leader of its own group (the native host is in it).
    if (browserPid) killGroup(browserPid, 'SIGKILL');
  };
  try {
    const cdp = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`restory start announced no session within ${timeoutMs} ms\n${output()}`)), timeoutMs);
      child.once('exit', (code, signal) => reject(new Error(`restory start exited (${code ?? signal})\n${output()}`)));
      let stdout = '';
      child.stdout!.on('data', (d: Buffer) => {
        stdout += d.toString();
        const cdpLine = /^cdp (\S+)$/m.exec(stdout);
        if (/^session \S+$/m.test(stdout) && cdpLine) {
          clearTimeout(timer);
          resolve(cdpLine[1]);
        }
      });
    });
    await waitForCdp(cdp, 30_000, exited);
    const browser = findBrowser(child.pid!);
    if (!browser) throw new Error(`no Chromium browser process under the companion (pid ${child.pid})`);
    browserPid = browser.pid;
    return { name: 'restory', cdp, rootPid: child.pid!, companionPid: child.pid!, browserPid, browserArgv: browser.argv, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Flags of the restory arm's browser that belong to restory or to Playwright's pipe, not to "Chromium as configured". */
const NOT_COPIED = [/^--remote-debugging-pipe$/, /^--remote-debugging-(port|address)=/, /^--user-data-dir=/, /^--load-extension=/, /^--disable-extensions-except=/];

/** The plain arm's argv: the restory arm's browser flags without extension, pipe and profile. */
export function plainArgv(restoryArgv: readonly string[], profileDir: string, port: number): { exe: string; args: string[] } {
  const [exe, ...rest] = restoryArgv;
  const flags = rest.filter((a) => a.startsWith('--') && !NOT_COPIED.some((r) => r.test(a)));
  if (!flags.includes('--disable-extensions')) flags.push('--disable-extensions');
  const positional = rest.filter((a) => !a.startsWith('--')); // the start URL (about:blank)
  return {
    exe,
    args: [...flags, `--user-data-dir=${profileDir}`, `--remote-debugging-port=${port}`, '--remote-debugging-address=127.0.0.1', ...positional],
  };
}

/** Arm "plain": the same Chromium, same flags, no extension, its own process (group), its own profile. */
export async function startPlainArm(restoryArgv: readonly string[], profileDir: string): Promise<Arm> {
  const port = await freePort();
  const { exe, args } = plainArgv(restoryArgv, profileDir, port);
  if (!existsSync(exe)) throw new Error(`the restory arm's browser binary ${exe} is not on disk`);
  const child = spawn(exe, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = collect(child);
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (!exited()) child.kill('SIGTERM');
    await waitGone(child.pid!, 5000);
    killGroup(child.pid!, 'SIGKILL');
  };
  try {
    const cdp = `http://127.0.0.1:${port}`;
    await waitForCdp(cdp, 30_000, exited).catch((e: Error) => {
      throw new Error(`${e.message}\n${output()}`);
    });
    return { name: 'plain', cdp, rootPid: child.pid!, browserPid: child.pid!, browserArgv: [exe, ...args], stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
