/**
 * The browser restory launches, and the extension build it loads into it. Both checks only read.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { EXTENSION_ID, EXTENSION_KEY } from '../../../shared/constants.js';
import { findChromium } from '../../browser/find-chromium.js';
import { projectRoot } from '../../project-root.js';
import { errorMessage, fail, ok, type CheckResult } from './result.js';
import { shellArg } from './shell.js';

const execFileAsync = promisify(execFile);

/**
 * How long `chromium --version` may take. execFile kills the process at this limit, which the
 * runner's own (longer) limit for this check could not: it only stops waiting.
 */
export const BROWSER_VERSION_TIMEOUT_MS = 15_000;

export async function checkBrowser(env: NodeJS.ProcessEnv): Promise<CheckResult> {
  const fix = 'apt-get install chromium (or set RESTORY_CHROMIUM=/path/to/chromium)';
  let path: string;
  try {
    path = findChromium(env);
  } catch (e) {
    return fail('browser', errorMessage(e), fix);
  }
  try {
    const { stdout } = await execFileAsync(path, ['--version'], { timeout: BROWSER_VERSION_TIMEOUT_MS });
    return ok('browser', `${path}: ${stdout.trim() || 'runs'}`);
  } catch (e) {
    return fail('browser', `${path} does not run --version: ${errorMessage(e).split('\n')[0]}`, fix);
  }
}

/** The id Chromium derives from a manifest key: SHA-256 of the key's DER bytes, first 32 hex digits mapped to a–p. */
export function extensionIdFromKey(key: string): string {
  const hex = createHash('sha256').update(Buffer.from(key, 'base64')).digest('hex').slice(0, 32);
  return [...hex].map((c) => String.fromCharCode(97 + parseInt(c, 16))).join('');
}

/** The built extension must carry restory's key: the native host admits only the id that key gives. */
export function checkExtension(): CheckResult {
  const dir = join(projectRoot(), 'dist', 'extension');
  const manifestFile = join(dir, 'manifest.json');
  const fix = `cd ${shellArg(projectRoot())} && npm run build`;
  let manifest: { key?: unknown; version?: unknown };
  try {
    manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as typeof manifest;
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    return fail('extension', missing ? `the extension is not built (${manifestFile} is missing)` : `${manifestFile} is unreadable: ${errorMessage(e)}`, fix);
  }
  if (typeof manifest.key !== 'string') return fail('extension', `${manifestFile} has no "key", so its id is random and the native host refuses it`, fix);
  const id = extensionIdFromKey(manifest.key);
  if (id !== EXTENSION_ID || manifest.key !== EXTENSION_KEY) {
    return fail('extension', `${manifestFile}'s key gives the id ${id}, not ${EXTENSION_ID}: the native host would refuse it`, fix);
  }
  return ok('extension', `${dir} (version ${String(manifest.version)}, id ${id})`);
}
