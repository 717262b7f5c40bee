/**
 * The flags and environment every Chromium restory starts gets, whether Playwright launches it
 * (launch.ts, tests and benchmarks) or restory spawns it for a session (spawn-browser.ts). Kept apart
 * from both so that commands which only read records (`list`) do not load Playwright.
 */
/** Keep Chromium from talking to Google on its own: no update checks, sync, QUIC probes or first-run UI. */
export const QUIET_FLAGS = [
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
] as const;

/**
 * Playwright 1.65 launches Chromium with `--disable-features=…,ThirdPartyStoragePartitioning,…`.
 * Without partitioning, Chromium 156 denies cross-site iframes any localStorage/sessionStorage at all
 * (measured: SecurityError "Access is denied for this document"), unlike a normal Chrome, where such
 * frames get storage partitioned by top-level site — which is what the extension captures (topOrigin)
 * and what we restore. Chromium honours only the last --disable-features switch, so we pass Playwright's
 * list again without ThirdPartyStoragePartitioning. Keep in sync with Playwright's chromiumSwitches.
 */
export const DISABLED_FEATURES = [
  'AvoidUnnecessaryBeforeUnloadCheckSync',
  'DestroyProfileOnBrowserClose',
  'HttpsUpgrades',
  'HttpsFirstBalancedModeAutoEnable',
  'LensOverlay',
  'MediaRouter',
  'PaintHolding',
  'AvoidCorsURLLoaderRestartOnRedirect',
  'OptimizationHints',
  'NetworkTimeServiceQuerying',
  'AimEnabled',
  'PreconnectToSearch',
] as const;

/** Encryption-at-rest key variables (companion/store/crypto.ts), not passed on to the browser. */
const KEY_VARIABLES = new Set(['RESTORY_KEY', 'RESTORY_KEY_FILE']);

export interface WindowBounds {
  left: number;
  top: number;
  width: number;
  height: number;
}

/**
 * The browser's environment: ours plus `extra`. The browser and the native host (a stateless relay)
 * never need the encryption key: keep it out of their environments.
 */
export function browserEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !KEY_VARIABLES.has(k)) env[k] = v;
  return Object.assign(env, extra);
}

