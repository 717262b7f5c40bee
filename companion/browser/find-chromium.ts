/**
 * Which Chromium binary to launch. Playwright cannot download its own browser on most machines we run
 * on, so a system Chromium is the usual answer; branded Google Chrome 137+ ignores --load-extension
 * and would silently run without our extension, which is why it is not on the list.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { ENV } from '../../shared/constants.js';
import { RestoryError } from '../../shared/errors.js';

/**
 * The system locations tried after RESTORY_CHROMIUM and Playwright's own download.
 * `/usr/lib/chromium/chromium` comes first: the `/usr/bin/chromium` wrapper script on Debian injects
 * flags and environment of its own.
 */
export const SYSTEM_CHROMIUM_PATHS = ['/usr/lib/chromium/chromium', '/usr/bin/chromium', '/usr/bin/chromium-browser'] as const;

export interface FindChromiumDeps {
  exists: (path: string) => boolean;
  /** Playwright's bundled browser path (may not exist on disk); null when Playwright knows none. */
  playwrightPath: () => string | null;
}

/** Playwright's own Chromium path (which may not exist); loads Playwright (~450 ms of CPU) to ask it. */
export function askPlaywright(): string | null {
  try {
    // Loaded here, not at the top: `list` and `doctor` import this file and need no Playwright.
    const { chromium } = createRequire(import.meta.url)('playwright-core') as typeof import('playwright-core');
    return chromium.executablePath();
  } catch {
    return null; // playwright-core throws when it has no registry entry for this platform
  }
}

const defaultDeps: FindChromiumDeps = { exists: existsSync, playwrightPath: askPlaywright };

/**
 * Path of the Chromium to launch: RESTORY_CHROMIUM, then Playwright's own Chromium if it is installed,
 * then the system paths. Throws RestoryError('launch_failed') naming every path tried.
 * RESTORY_CHROMIUM is taken only if the file exists — a typo there should fail loudly, not fall back.
 */
export function findChromium(env: NodeJS.ProcessEnv = process.env, deps: FindChromiumDeps = defaultDeps): string {
  const tried: string[] = [];
  const fromEnv = env[ENV.chromium];
  if (fromEnv) {
    if (deps.exists(fromEnv)) return fromEnv;
    throw new RestoryError(
      'launch_failed',
      `${ENV.chromium} is set to ${fromEnv}, but no such file exists. Point it at a Chromium binary or unset it.`,
    );
  }
  const candidates = [deps.playwrightPath(), ...SYSTEM_CHROMIUM_PATHS].filter((p): p is string => !!p);
  for (const path of candidates) {
    tried.push(path);
    if (deps.exists(path)) return path;
  }
  throw new RestoryError(
    'launch_failed',
    `No Chromium found. Tried: ${tried.join(', ')}. ` +
      `Install one (Debian/Ubuntu: apt-get install chromium) or set ${ENV.chromium}=/path/to/chromium.`,
  );
}
