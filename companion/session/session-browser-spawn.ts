/**
 * Chromium for a session: spawned with the extension and with what its native host needs to reach
 * this data dir's companion (data dir, socket, token, session id in its environment).
 *
 * `restory resume` spawns it before it loads the companion and opens the store (prelaunch): on 2 cores
 * Chromium takes ~0.7–1 s to answer on its CDP port and the CLI ~1.5–2 s to import the companion,
 * open the store and get to the launch, so started together they overlap instead of adding up. The
 * window is the default size then; restore sets the captured bounds and viewport afterwards (as it
 * does for any window it did not launch). Only this module spawns session browsers, so the prelaunched
 * one and the one `launch` spawns are the same kind of browser.
 */
import { existsSync, rmSync } from 'node:fs';
import { ENV } from '../../shared/constants.js';
import type { SessionState } from '../../shared/state.js';
import { ensureExtensionBuilt } from '../browser/extension-build.js';
import { killGroup, removeProfile, spawnBrowser, type SpawnedBrowser } from '../browser/spawn-browser.js';
import { dataPaths, ensureDataDir } from '../data-dir.js';
import { nativeHostScript, projectRoot } from '../project-root.js';
import { loadOrCreateToken } from '../socket/token.js';
import { recordFile } from './browser-record-file.js';

/** How long a prelaunched browser's native host waits for the companion to listen. */
const COMPANION_DUE_MS = 30_000;

export interface SessionBrowserOptions {
  headed?: boolean;
  cdpPort?: number;
}

/** A browser started for `sessionId` before the companion that will restore into it was open. */
export interface Prelaunched {
  sessionId: string;
  dataDir: string;
  options: SessionBrowserOptions;
  /** Settles once the browser answers on its CDP port and its record is written. */
  spawned: Promise<SpawnedBrowser>;
  /**
   * Resolves once the Chromium process exists (or the spawn failed). Await it before loading anything
   * heavy: the spawn's own steps are asynchronous, and a module import that blocks the event loop
   * meanwhile (Playwright's is ~0.4 s) would hold Chromium's start back by as much.
   */
  started: Promise<void>;
}

/** Spawn Chromium for a session of the companion at `endpoint`; window size from `state` when known. */
export async function spawnSessionBrowser(
  endpoint: { dataDir: string; token: string },
  sessionId: string,
  opts: SessionBrowserOptions,
  state?: SessionState,
  env: Record<string, string> = {},
  onProcess?: () => void,
): Promise<SpawnedBrowser> {
  const paths = dataPaths(endpoint.dataDir);
  const extensionDir = await ensureExtensionBuilt(projectRoot());
  const viewport = state?.viewport;
  const bounds = state?.windows[0]?.bounds ?? (viewport ? { width: viewport.width, height: viewport.height } : undefined);
  return spawnBrowser({
    extensionDir,
    hostScript: nativeHostScript(),
    headed: opts.headed,
    cdpPort: opts.cdpPort,
    ...(bounds ? { windowBounds: bounds } : {}),
    chromiumMemo: paths.chromiumMemo,
    onProcess,
    env: {
      [ENV.dataDir]: endpoint.dataDir,
      [ENV.socket]: paths.socket,
      [ENV.token]: endpoint.token,
      [ENV.sessionId]: sessionId,
      ...env,
    },
  });
}

/**
 * Start a session's browser now, for a companion about to open on `dataDir` (CompanionOptions.prelaunched).
 * Null when the session has a browser record already (a browser that may still run: the companion
 * adopts or clears it, and a second browser must not take its record). The browser is recorded as
 * soon as it runs, so a CLI killed before the companion took it leaves a record the next companion
 * clears (session/browser-records.ts), not a browser nobody knows. A failed spawn surfaces where the
 * browser is used (the resume), not here.
 */
export function prelaunchSessionBrowser(dataDir: string, sessionId: string, opts: SessionBrowserOptions): Prelaunched | null {
  ensureDataDir(dataDir);
  const paths = dataPaths(dataDir);
  if (existsSync(recordFile(paths.browsers, sessionId))) return null;
  const token = loadOrCreateToken(paths.token);
  // Its native host waits for the companion's socket until then (native-host/relay.ts).
  const env = { [ENV.companionDueBy]: String(Date.now() + COMPANION_DUE_MS) };
  let processStarted!: () => void;
  const started = new Promise<void>((resolve) => (processStarted = resolve));
  const spawned = spawnSessionBrowser({ dataDir, token }, sessionId, opts, undefined, env, processStarted).then(async (browser) => {
    try {
      // Imported here: the records' schema pulls in zod, which the spawn should not wait for.
      const { BrowserRecords } = await import('./browser-records.js');
      const { exited, ...where } = browser;
      new BrowserRecords(paths.browsers).write({ sessionId, ...where, startedAt: Date.now() });
      return browser;
    } catch (e) {
      killGroup(browser.pid, 'SIGKILL');
      await removeProfile(browser.userDataDir);
      throw e;
    }
  });
  spawned.catch(() => {}); // reported by whoever awaits it
  spawned.then(processStarted, processStarted);
  return { sessionId, dataDir, options: { ...opts }, spawned, started };
}

/** End a prelaunched browser nobody used: its process group, its profile and its record. */
export async function discardPrelaunched(p: Prelaunched): Promise<void> {
  const spawned = await p.spawned.catch(() => null);
  if (!spawned) return;
  killGroup(spawned.pid, 'SIGKILL');
  await spawned.exited;
  await removeProfile(spawned.userDataDir);
  rmSync(recordFile(dataPaths(p.dataDir).browsers, p.sessionId), { force: true });
}
