/**
 * Launch Chromium for a session so that it does not depend on the companion: started directly (not
 * through Playwright's launcher, whose pipe ends the browser when the companion dies), detached into
 * its own process group (a Ctrl-C in the companion's terminal does not reach it), with CDP on a
 * loopback port. The companion drives it through Playwright's `connectOverCDP` only while it needs
 * to (starting, restoring), and a companion started later finds it again by its record
 * (session/browser-records.ts) and adopts it.
 *
 * The flags are Playwright's launcher's (below) and launch.ts's (quiet, storage partitioning back on,
 * our extension only), plus headless mode, no sandbox as root, and a 1280×720 window unless the
 * session had its own size.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { RestoryError } from '../../shared/errors.js';
import { writeHostManifest } from '../native-host/manifest.js';
import { browserEnv, DISABLED_FEATURES, QUIET_FLAGS, type WindowBounds } from './chromium-flags.js';
import { findChromium } from './find-chromium.js';
import { rememberedPlaywrightPath } from './playwright-chromium-memo.js';

export interface SpawnOptions {
  /** Unpacked extension to load (dist/extension). */
  extensionDir: string;
  /** Native host entry; its manifest is written into the profile. */
  hostScript: string;
  headed?: boolean;
  /** CDP on 127.0.0.1:P; a free port when absent. A port in use is an error before anything starts. */
  cdpPort?: number;
  /** Added to the environment of the browser (and so of the native host it spawns). */
  env?: Record<string, string>;
  windowBounds?: Partial<WindowBounds>;
  /** File that remembers where Playwright's Chromium is (playwright-chromium-memo.ts); without it Playwright is asked. */
  chromiumMemo?: string;
  /** Called once the Chromium process exists, before it answers on its port. */
  onProcess?: () => void;
}

export interface SpawnedBrowser {
  pid: number;
  userDataDir: string;
  cdpEndpoint: string;
  /** Resolves when the browser process exits (we are its parent: no polling needed). */
  exited: Promise<void>;
}

const DEFAULT_WINDOW = { width: 1280, height: 720 };

/**
 * What Playwright's own launcher passes (playwright-core 1.65, chromiumSwitches) and automation relies
 * on, so a Playwright client connected over CDP meets the browser it would have launched: above all
 * no back/forward cache (page.goBack() waits for a load event a bfcache restore never fires) and no
 * throttling of background tabs' timers.
 */
const PLAYWRIGHT_SWITCHES = [
  '--disable-field-trial-config',
  '--disable-background-timer-throttling',
  '--disable-backgrounding-occluded-windows',
  '--disable-back-forward-cache',
  '--disable-breakpad',
  '--disable-component-extensions-with-background-pages',
  '--no-default-browser-check',
  '--disable-default-apps',
  '--disable-dev-shm-usage',
  '--allow-pre-commit-input',
  '--disable-hang-monitor',
  '--disable-ipc-flooding-protection',
  '--disable-popup-blocking',
  '--disable-prompt-on-repost',
  '--disable-renderer-backgrounding',
  '--force-color-profile=srgb',
  '--metrics-recording-only',
  '--password-store=basic',
  '--use-mock-keychain',
  '--no-service-autorun',
  '--disable-search-engine-choice-screen',
  '--enable-unsafe-swiftshader',
] as const;
const PORT_WAIT_MS = 20_000;

export async function spawnBrowser(opts: SpawnOptions): Promise<SpawnedBrowser> {
  const memo = opts.chromiumMemo;
  const executablePath = findChromium(
    { ...process.env, ...opts.env },
    memo ? { exists: existsSync, playwrightPath: () => rememberedPlaywrightPath(memo) } : undefined,
  );
  const extensionDir = resolve(opts.extensionDir);
  if (!existsSync(join(extensionDir, 'manifest.json'))) {
    throw new RestoryError('launch_failed', `no extension at ${extensionDir} (manifest.json missing). Build it with: npm run build:extension`);
  }
  if (opts.cdpPort) await assertPortFree(opts.cdpPort);
  const userDataDir = await mkdtemp(join(tmpdir(), 'restory-profile-')); // mkdtemp creates it 0700
  try {
    await writeHostManifest({ userDataDir, hostScript: opts.hostScript });
    const b = opts.windowBounds;
    const size = b?.width !== undefined && b.height !== undefined ? { width: b.width, height: b.height } : DEFAULT_WINDOW;
    const args = [
      ...PLAYWRIGHT_SWITCHES,
      ...QUIET_FLAGS,
      `--disable-features=${DISABLED_FEATURES.join(',')}`,
      `--disable-extensions-except=${extensionDir}`,
      `--load-extension=${extensionDir}`,
      `--user-data-dir=${userDataDir}`,
      `--remote-debugging-port=${opts.cdpPort ?? 0}`,
      '--remote-debugging-address=127.0.0.1',
      `--window-size=${size.width},${size.height}`,
      ...(b?.left !== undefined && b.top !== undefined ? [`--window-position=${b.left},${b.top}`] : []),
      ...(opts.headed ? [] : ['--headless', '--hide-scrollbars', '--mute-audio']),
      // Chromium refuses to start sandboxed as root.
      ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
      'about:blank',
    ];
    const child = spawn(executablePath, args, { detached: true, stdio: 'ignore', env: browserEnv(opts.env) });
    const spawned = new Promise<void>((ok, fail) => {
      child.once('spawn', ok);
      child.once('error', fail);
    });
    await spawned.catch((e: Error) => {
      throw new RestoryError('launch_failed', `Chromium (${executablePath}) failed to start: ${e.message}`, { cause: e });
    });
    child.unref();
    opts.onProcess?.();
    const pid = child.pid!;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      const hasExited = () => child.exitCode !== null || child.signalCode !== null;
      const port = opts.cdpPort ? await answering(opts.cdpPort, hasExited) : await activePort(userDataDir, hasExited);
      return { pid, userDataDir, cdpEndpoint: `http://127.0.0.1:${port}`, exited };
    } catch (e) {
      killGroup(pid, 'SIGKILL');
      throw e;
    }
  } catch (e) {
    await removeProfile(userDataDir);
    throw e;
  }
}

/** With port 0 Chromium picks one and writes it to DevToolsActivePort. */
function activePort(userDataDir: string, exited: () => boolean): Promise<number> {
  const file = join(userDataDir, 'DevToolsActivePort');
  return pollForPort(exited, `report its CDP port in ${file}`, async () => Number((await readFile(file, 'utf8').catch(() => '')).split('\n')[0]));
}

/** A port given on the command line is not written to DevToolsActivePort (measured, Chromium 156): ask it. */
function answering(port: number, exited: () => boolean): Promise<number> {
  return pollForPort(exited, `answer on 127.0.0.1:${port}`, async () =>
    (await fetch(`http://127.0.0.1:${port}/json/version`).then((r) => r.ok, () => false)) ? port : 0,
  );
}

/** Ask `probe` every 50 ms until it gives a port (> 0), Chromium exits, or PORT_WAIT_MS pass. */
async function pollForPort(exited: () => boolean, what: string, probe: () => Promise<number>): Promise<number> {
  const deadline = Date.now() + PORT_WAIT_MS;
  while (Date.now() < deadline) {
    if (exited()) throw new RestoryError('launch_failed', 'Chromium exited while starting (see: restory doctor)');
    const port = await probe();
    if (port > 0) return port;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new RestoryError('launch_failed', `Chromium did not ${what} within ${PORT_WAIT_MS / 1000} s`);
}

/** A --cdp-port that something else listens on is refused before anything is created or launched. */
export async function assertPortFree(port: number): Promise<void> {
  await new Promise<void>((ok, fail) => {
    const server = createServer();
    server.once('error', (e: NodeJS.ErrnoException) =>
      fail(new RestoryError('launch_failed', `--cdp-port ${port}: 127.0.0.1:${port} is ${e.code === 'EADDRINUSE' ? 'already in use' : `not usable (${e.code})`}; choose another port or leave --cdp-port out for a free one`)),
    );
    server.listen(port, '127.0.0.1', () => server.close(() => ok()));
  });
}

/** Signal a browser and everything it started (renderers, the native host): they share its process group. */
export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}


export async function removeProfile(userDataDir: string): Promise<void> {
  await rm(userDataDir, { recursive: true, force: true, maxRetries: 3 }).catch(() => {});
}
