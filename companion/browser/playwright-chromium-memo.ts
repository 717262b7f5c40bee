/**
 * Where Playwright's own Chromium would be, remembered in the data dir. Asking Playwright means
 * loading it: ~450 ms of CPU and ~0.4 s of wall time on 2 cores (measured), which `restory resume`
 * paid before it could start Chromium, the step everything else waits for. The answer depends only on
 * which Playwright is installed and on the environment its registry reads, so it is remembered under
 * those and asked again when any of them changes. Whether the file is there is still checked on every
 * launch (findChromium): a Playwright Chromium installed or removed later is seen at once.
 *
 * The memo is a cache: a missing, unreadable or foreign file is asked again and replaced, never trusted.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute } from 'node:path';
import { askPlaywright } from './find-chromium.js';

interface Memo {
  key: string;
  /** Playwright's answer: a path that may not exist, or null when Playwright knows none here. */
  path: string | null;
}

/**
 * Everything Playwright's registry derives the path from (playwright-core 1.65, registryDirectory and
 * executablePath): its own install (version and folder), PLAYWRIGHT_BROWSERS_PATH (resolved against
 * INIT_CWD or the working directory when relative), the cache folder (XDG_CACHE_HOME, HOME), and the
 * platform. Null when playwright-core cannot be found (then there is nothing to remember).
 */
export function memoKey(env: NodeJS.ProcessEnv = process.env): string | null {
  let manifest: string;
  try {
    manifest = createRequire(import.meta.url).resolve('playwright-core/package.json');
  } catch {
    return null;
  }
  let version: unknown;
  try {
    version = (JSON.parse(readFileSync(manifest, 'utf8')) as { version?: unknown }).version;
  } catch {
    return null;
  }
  const browsersPath = env.PLAYWRIGHT_BROWSERS_PATH ?? null;
  const relative = browsersPath !== null && browsersPath !== '0' && !isAbsolute(browsersPath);
  return JSON.stringify([
    manifest,
    version,
    browsersPath,
    relative ? (env.INIT_CWD ?? process.cwd()) : null,
    env.XDG_CACHE_HOME ?? null,
    env.HOME ?? null,
    process.platform,
    process.arch,
  ]);
}

function readMemo(file: string): Memo | null {
  try {
    const memo = JSON.parse(readFileSync(file, 'utf8')) as Partial<Memo>;
    const pathOk = memo.path === null || typeof memo.path === 'string';
    return typeof memo.key === 'string' && pathOk ? { key: memo.key, path: memo.path ?? null } : null;
  } catch {
    return null;
  }
}

/** Playwright's Chromium path, from `file` when it was remembered under the current key, else asked and remembered. */
export function rememberedPlaywrightPath(file: string, ask: () => string | null = askPlaywright): string | null {
  const key = memoKey();
  if (key === null) return ask();
  const memo = readMemo(file);
  if (memo?.key === key) return memo.path;
  const path = ask();
  try {
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ key, path } satisfies Memo), { mode: 0o600 });
    renameSync(tmp, file);
  } catch {
    // A data dir we cannot write to: the next launch asks Playwright again, nothing worse.
  }
  return path;
}
