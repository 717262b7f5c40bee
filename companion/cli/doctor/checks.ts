/**
 * Every check of `restory doctor`, in the order they are shown, and what passes between them: the
 * companion check hands the pid of the companion that answered to the lock check, and the
 * encryption check hands the configured key to the database and journal checks. Every check only
 * reads: no lock is taken, no file written, nothing migrated.
 */
import { dataDirProblem, dataPaths } from '../../data-dir.js';
import { BROWSER_VERSION_TIMEOUT_MS, checkBrowser, checkExtension } from './browser.js';
import { checkCompanion, checkLock, COMPANION_ANSWER_TIMEOUT_MS } from './companion.js';
import { checkHostManifests, checkHostScript } from './native-host.js';
import { checkPermissions } from './permissions.js';
import { fail, type CheckResult } from './result.js';
import { CheckRunner } from './runner.js';
import { checkSharedStore } from './shared-store.js';
import { checkDatabase, checkEncryption, checkJournal } from './store.js';
import { STORE_URL_ENV } from '../../store/store-url.js';

// The runner's limits are a backstop for a check that hangs: each lies beyond the limits the check
// applies itself, so the check's own, more telling message is the one a user sees.
const FILE_CHECK_TIMEOUT_MS = 10_000;
const BROWSER_TIMEOUT_MS = BROWSER_VERSION_TIMEOUT_MS + 5000;
const COMPANION_TIMEOUT_MS = 2 * COMPANION_ANSWER_TIMEOUT_MS + 5000;
/** Reads and checks the whole database (and derives a passphrase key): slow for a large store. */
const DATABASE_TIMEOUT_MS = 60_000;

export async function runChecks(dataDir: string, env: NodeJS.ProcessEnv = process.env): Promise<CheckResult[]> {
  const paths = dataPaths(dataDir);
  const runner = new CheckRunner();
  await runner.run('browser', () => checkBrowser(env), BROWSER_TIMEOUT_MS);
  await runner.run('extension', checkExtension, FILE_CHECK_TIMEOUT_MS);
  await runner.run('native host', checkHostScript, FILE_CHECK_TIMEOUT_MS);
  await runner.run('host manifests', () => checkHostManifests(dataDir, env), FILE_CHECK_TIMEOUT_MS);

  // A data dir that is a file, or that this user cannot read, fails each check of what is in it
  // with that one cause, instead of a fix for each file that does not apply (chmod it, move it aside).
  const dirProblem = dataDirProblem(dataDir, 'read');
  const inDataDir = <A,>(name: string, check: () => A): (() => A | CheckResult) => (dirProblem ? () => fail(name, `not checked: ${dirProblem}`) : check);

  const companion = await runner.run('companion', () => checkCompanion(dataDir, paths), COMPANION_TIMEOUT_MS);
  await runner.run('lock', inDataDir('lock', () => checkLock(paths, companion?.pid)), FILE_CHECK_TIMEOUT_MS);

  const encryption = await runner.run('encryption', () => checkEncryption(env, paths), FILE_CHECK_TIMEOUT_MS);
  const key = encryption?.key ?? null;
  await runner.run('database', inDataDir('database', () => checkDatabase(paths, key)), DATABASE_TIMEOUT_MS);
  await runner.run('journal', inDataDir('journal', () => checkJournal(paths, key)), FILE_CHECK_TIMEOUT_MS);
  const url = env[STORE_URL_ENV]?.trim();
  if (url) await runner.run('shared store', () => checkSharedStore(url), FILE_CHECK_TIMEOUT_MS);
  await runner.run('permissions', () => (dirProblem ? fail('permissions', dirProblem) : checkPermissions(paths)), FILE_CHECK_TIMEOUT_MS);
  return runner.results;
}
