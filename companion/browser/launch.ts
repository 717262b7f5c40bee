/**
 * Launch Chromium for a restory session with Playwright: persistent profile (extensions load only in
 * persistent contexts), optional extension + native host, optional CDP port, offline-quiet flags.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { BrowserContext, Worker } from 'playwright-core';
import { chromium } from './playwright.js';
import { EXTENSION_ID } from '../../shared/constants.js';
import { RestoryError } from '../../shared/errors.js';
import { findBrowserPid } from './browser-pid.js';
import { browserEnv, DISABLED_FEATURES, QUIET_FLAGS, type WindowBounds } from './chromium-flags.js';
import { findChromium } from './find-chromium.js';
import { writeHostManifest } from '../native-host/manifest.js';

export interface LaunchOptions {
  /** Profile folder; a fresh private temp folder (0700, removed by close()) when absent. */
  userDataDir?: string;
  /** Unpacked extension to load (dist/extension). Without it no extension runs. */
  extensionDir?: string;
  headed?: boolean;
  /** Expose CDP on 127.0.0.1:P (0 = let Chromium pick; read back from DevToolsActivePort). */
  cdpPort?: number;
  /** Added to process.env for the browser; the native host inherits it. */
  env?: Record<string, string>;
  /** Page viewport; null lets the page follow the window size. Playwright's default (1280×720) when absent. */
  viewport?: { width: number; height: number } | null;
  windowBounds?: Partial<WindowBounds>;
  /** Native host entry (dist/companion/native-host/main.js); its manifest is written into the profile. */
  hostScript?: string;
  /** Chromium's sandbox; default on unless running as root (Chromium refuses to start sandboxed as root). */
  sandbox?: boolean;
  /** How long to wait for the extension's service worker; default 10 s. */
  serviceWorkerTimeoutMs?: number;
}

export interface LaunchedBrowser {
  context: BrowserContext;
  userDataDir: string;
  cdpEndpoint?: string;
  /** Pid of Chromium's browser process, when it could be found (Linux /proc scan). */
  browserPid?: number;
  /** The extension's service worker, when an extension was loaded. */
  serviceWorker?: Worker;
  /** Close the browser; removes the profile when launchBrowser created it. Safe to call twice or after a crash. */
  close(): Promise<void>;
}

export async function launchBrowser(opts: LaunchOptions = {}): Promise<LaunchedBrowser> {
  const executablePath = findChromium({ ...process.env, ...opts.env });
  const ownsProfile = !opts.userDataDir;
  const userDataDir = opts.userDataDir
    ? resolve(opts.userDataDir)
    : await mkdtemp(join(tmpdir(), 'restory-profile-')); // mkdtemp creates it 0700
  if (!ownsProfile) await mkdir(userDataDir, { recursive: true, mode: 0o700 });

  const removeProfile = async () => {
    if (ownsProfile) await rm(userDataDir, { recursive: true, force: true, maxRetries: 3 }).catch(() => {});
  };

  if (opts.hostScript) await writeHostManifest({ userDataDir, hostScript: opts.hostScript });

  const args: string[] = [...QUIET_FLAGS, `--disable-features=${DISABLED_FEATURES.join(',')}`];
  if (opts.extensionDir) {
    const dir = resolve(opts.extensionDir);
    if (!existsSync(join(dir, 'manifest.json'))) {
      await removeProfile();
      throw new RestoryError('launch_failed', `no extension at ${dir} (manifest.json missing). Build it with: npm run build:extension`);
    }
    // Playwright also passes --disable-extensions; measured on Chromium 156, --disable-extensions-except
    // overrides it for our folder, so no ignoreDefaultArgs is needed (and other extensions stay off).
    args.push(`--disable-extensions-except=${dir}`, `--load-extension=${dir}`);
  }
  if (opts.cdpPort !== undefined) args.push(`--remote-debugging-port=${opts.cdpPort}`, '--remote-debugging-address=127.0.0.1');
  const b = opts.windowBounds;
  if (b?.left !== undefined && b.top !== undefined) args.push(`--window-position=${b.left},${b.top}`);
  if (b?.width !== undefined && b.height !== undefined) args.push(`--window-size=${b.width},${b.height}`);

  const env = browserEnv(opts.env);

  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath,
      headless: !opts.headed,
      args,
      chromiumSandbox: opts.sandbox ?? process.getuid?.() !== 0,
      // Playwright would kill the browser and exit(130) on these; the companion handles them itself
      // so that SIGINT/SIGTERM end with a final snapshot and the session left resumable.
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
      env,
      ...(opts.viewport !== undefined ? { viewport: opts.viewport } : {}),
    });
  } catch (e) {
    await removeProfile();
    throw new RestoryError('launch_failed', `Chromium (${executablePath}) failed to start: ${(e as Error).message}`, { cause: e });
  }

  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await context.close().catch(() => {}); // the browser may already be dead (crash, SIGKILL)
    await removeProfile();
  };

  try {
    const serviceWorker = opts.extensionDir
      ? await waitForServiceWorker(context, opts.serviceWorkerTimeoutMs ?? 10_000)
      : undefined;
    const cdpEndpoint = opts.cdpPort !== undefined ? await cdpEndpointOf(userDataDir, opts.cdpPort) : undefined;
    const browserPid = await findBrowserPid(userDataDir);
    return { context, userDataDir, cdpEndpoint, browserPid, serviceWorker, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** Whether a service worker is restory's extension's (by its fixed id). */
export function isRestoryWorker(w: Worker): boolean {
  return w.url().startsWith(`chrome-extension://${EXTENSION_ID}/`);
}

/** The extension's background service worker (ours preferred, by its fixed id). */
export async function waitForServiceWorker(context: BrowserContext, timeoutMs: number): Promise<Worker> {
  const present = context.serviceWorkers();
  const found = present.find(isRestoryWorker) ?? present.find((w) => w.url().startsWith('chrome-extension://'));
  if (found) return found;
  try {
    return await context.waitForEvent('serviceworker', {
      predicate: (w) => w.url().startsWith('chrome-extension://'),
      timeout: timeoutMs,
    });
  } catch (e) {
    throw new RestoryError(
      'launch_failed',
      `the extension's service worker did not start within ${timeoutMs} ms; check that dist/extension is a valid build (npm run build:extension) and that Chromium (not branded Chrome 137+) is used`,
      { cause: e },
    );
  }
}

/** With port 0 Chromium picks one and writes it to <profile>/DevToolsActivePort. */
async function cdpEndpointOf(userDataDir: string, port: number): Promise<string> {
  if (port !== 0) return `http://127.0.0.1:${port}`;
  const file = join(userDataDir, 'DevToolsActivePort');
  for (let i = 0; i < 50; i++) {
    const text = await readFile(file, 'utf8').catch(() => '');
    const chosen = Number(text.split('\n')[0]);
    if (chosen > 0) return `http://127.0.0.1:${chosen}`;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new RestoryError('launch_failed', `Chromium did not report its CDP port in ${file}`);
}
