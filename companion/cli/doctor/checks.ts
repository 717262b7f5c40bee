/**
 * The checks of `restory doctor`, one function each, in the order they are shown. Every check only
 * reads: no lock is taken, no file written, nothing migrated. A check that finds a problem says how
 * to fix it (`fix`); `warn` is for what works but deserves a look, `fail` for what breaks restory.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { EXTENSION_ID, EXTENSION_KEY, EXTENSION_ORIGIN, NATIVE_HOST_NAME } from '../../../shared/constants.js';
import { findChromium } from '../../browser/find-chromium.js';
import { HOST_BROWSERS, hostManifestDirs, type HostBrowser } from '../../native-host/manifest.js';
import { CompanionClient } from '../../socket/client.js';
import { dataPaths, DIR_MODE, type DataPaths } from '../../data-dir.js';
import { nativeHostScript, packageVersion, projectRoot } from '../../project-root.js';
import { keySourceFromEnv, StoreCipher, type KeySource } from '../../store/crypto.js';
import { inspectLock } from '../../store/data-dir-lock.js';
import { integrityCheck } from '../../store/database.js';
import { parseJournal } from '../../store/journal-format.js';
import { LATEST_SCHEMA_VERSION } from '../../store/migrations.js';

const execFileAsync = promisify(execFile);

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface CheckResult {
  name: string;
  status: CheckStatus;
  message: string;
  /** The command (or step) that fixes it. */
  fix?: string;
}

/** What the checks share: the data dir and what earlier checks learned. */
export interface DoctorContext {
  dataDir: string;
  paths: DataPaths;
  env: NodeJS.ProcessEnv;
  /** The configured key: undefined until the encryption check ran, null when none or invalid. */
  key?: KeySource | null;
  /** Pid of the companion that answered on the socket, if one did. */
  companionPid?: number;
}

const ok = (name: string, message: string): CheckResult => ({ name, status: 'ok', message });
const warn = (name: string, message: string, fix?: string): CheckResult => ({ name, status: 'warn', message, ...(fix ? { fix } : {}) });
const fail = (name: string, message: string, fix?: string): CheckResult => ({ name, status: 'fail', message, ...(fix ? { fix } : {}) });

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Quote a path for a shell command we print. */
function q(path: string): string {
  return /^[\w@%+=:,./-]+$/.test(path) ? path : `'${path.replaceAll("'", `'\\''`)}'`;
}

// ------------------------------------------------------------------------------ browser and build

export async function checkBrowser(ctx: DoctorContext): Promise<CheckResult> {
  const fix = 'apt-get install chromium (or set RESTORY_CHROMIUM=/path/to/chromium)';
  let path: string;
  try {
    path = findChromium(ctx.env);
  } catch (e) {
    return fail('browser', errorMessage(e), fix);
  }
  try {
    const { stdout } = await execFileAsync(path, ['--version'], { timeout: 15_000 });
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

export function checkExtension(): CheckResult {
  const dir = join(projectRoot(), 'dist', 'extension');
  const manifestFile = join(dir, 'manifest.json');
  const fix = `cd ${q(projectRoot())} && npm run build`;
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

export function checkHostScript(): CheckResult {
  const script = nativeHostScript();
  if (!existsSync(script)) return fail('native host', `${script} is missing`, `cd ${q(projectRoot())} && npm run build`);
  return ok('native host', script);
}

// ------------------------------------------------------------------------------ host manifests

/** Undo shellQuote (host-manifest.ts): '…' with each ' written as '\''. */
function unquote(word: string): string {
  return word.slice(1, -1).replaceAll(`'\\''`, `'`);
}
const QUOTED = `'(?:[^']|'\\\\'')*'`;

interface Launcher {
  node: string;
  script: string;
  dataDir?: string;
}

function parseLauncher(text: string): Launcher | null {
  const exec = new RegExp(`^exec (${QUOTED}) (${QUOTED})`, 'm').exec(text);
  if (!exec) return null;
  const dataDir = new RegExp(`^export RESTORY_DATA_DIR=(${QUOTED})$`, 'm').exec(text);
  return { node: unquote(exec[1]), script: unquote(exec[2]), ...(dataDir ? { dataDir: unquote(dataDir[1]) } : {}) };
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** One registration: the manifest, its launcher, and the node and host script the launcher runs. */
function checkRegistration(browser: HostBrowser, dir: string, ctx: DoctorContext): CheckResult {
  const name = `host (${browser})`;
  const manifestFile = join(dir, `${NATIVE_HOST_NAME}.json`);
  const fix = `restory install-host --browser ${browser} --data-dir ${q(ctx.dataDir)}`;
  let manifest: { name?: unknown; path?: unknown; allowed_origins?: unknown };
  try {
    manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as typeof manifest;
  } catch (e) {
    return warn(name, `${manifestFile} is unreadable: ${errorMessage(e)}`, fix);
  }
  const problems: string[] = [];
  if (manifest.name !== NATIVE_HOST_NAME) problems.push(`its name is ${JSON.stringify(manifest.name)}, not ${NATIVE_HOST_NAME}`);
  if (!Array.isArray(manifest.allowed_origins) || !manifest.allowed_origins.includes(EXTENSION_ORIGIN)) {
    problems.push(`allowed_origins lacks ${EXTENSION_ORIGIN}`);
  }
  const launcherPath = typeof manifest.path === 'string' ? manifest.path : null;
  let launcher: Launcher | null = null;
  if (!launcherPath) problems.push('it names no launcher ("path")');
  else if (!isExecutable(launcherPath)) problems.push(`its launcher ${launcherPath} is missing or not executable`);
  else {
    launcher = parseLauncher(readFileSync(launcherPath, 'utf8'));
    if (!launcher) problems.push(`its launcher ${launcherPath} was not written by restory install-host`);
    else {
      if (!isExecutable(launcher.node)) problems.push(`the launcher runs node at ${launcher.node}, which does not exist`);
      if (!existsSync(launcher.script)) problems.push(`the launcher runs ${launcher.script}, which does not exist`);
    }
  }
  if (problems.length > 0) return warn(name, `${manifestFile}: ${problems.join('; ')}`, fix);
  const target = launcher?.dataDir === undefined ? 'the default data dir' : launcher.dataDir === ctx.dataDir ? 'this data dir' : `data dir ${launcher.dataDir}`;
  return ok(name, `installed in ${dir}; runs ${launcher!.script} with ${launcher!.node}, streaming to ${target}`);
}

/** The user-level registrations for the user's own browsers; none is fine (it is optional). */
export function checkHostManifests(ctx: DoctorContext): CheckResult[] {
  if (process.platform !== 'linux' && process.platform !== 'darwin') {
    return [ok('host manifests', `not checked on ${process.platform}`)];
  }
  const home = ctx.env.HOME || homedir();
  const results: CheckResult[] = [];
  for (const browser of HOST_BROWSERS) {
    for (const dir of hostManifestDirs(browser, process.platform, home, ctx.env.XDG_CONFIG_HOME || undefined)) {
      if (existsSync(join(dir, `${NATIVE_HOST_NAME}.json`))) results.push(checkRegistration(browser, dir, ctx));
    }
  }
  if (results.length === 0) {
    results.push(
      ok('host manifests', 'note: not registered for your own browsers (only needed to track a browser you start yourself: restory install-host)'),
    );
  }
  return results;
}

// ------------------------------------------------------------------------------ companion and lock

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export async function checkCompanion(ctx: DoctorContext): Promise<CheckResult> {
  const { socket, token } = ctx.paths;
  let client: CompanionClient | null | 'timeout';
  try {
    client = await withTimeout(CompanionClient.connect(ctx.dataDir), 5000);
  } catch (e) {
    return fail(
      'companion',
      `a companion listens on ${socket} but refused this client: ${errorMessage(e)}`,
      `stop that companion and start it again (its token file ${token} may have been replaced)`,
    );
  }
  if (client === 'timeout') {
    return fail('companion', `a companion listens on ${socket} but does not answer`, 'stop it (see the lock check for its pid) and start it again');
  }
  if (!client) {
    const leftover = existsSync(socket) ? ` (the socket file is a leftover of a companion that is gone; the next start removes it)` : '';
    return ok('companion', `not running${leftover}; start one with: restory start`);
  }
  try {
    const status = await withTimeout(client.request('status', {}), 5000);
    if (status === 'timeout') return fail('companion', `the companion on ${socket} does not answer a status request`, 'stop it and start it again');
    ctx.companionPid = status.pid;
    const sessions = status.activeSessions.length;
    const message = `running (pid ${status.pid}, version ${status.version}, ${sessions} browser${sessions === 1 ? '' : 's'})`;
    if (status.version !== packageVersion()) {
      return warn('companion', `${message}, but this restory is version ${packageVersion()}`, `restart the companion (kill ${status.pid}, then restory start)`);
    }
    return ok('companion', message);
  } catch (e) {
    return fail('companion', `the companion on ${socket} failed a status request: ${errorMessage(e)}`, 'stop it and start it again');
  } finally {
    client.close();
  }
}

export function checkLock(ctx: DoctorContext): CheckResult {
  const file = ctx.paths.lock;
  let lock;
  try {
    lock = inspectLock(file);
  } catch (e) {
    return fail('lock', `cannot read ${file}: ${errorMessage(e)}`, `chmod 600 ${q(file)}`);
  }
  switch (lock.state) {
    case 'free':
      return ok('lock', 'free (no companion holds this data dir)');
    case 'held':
      if (lock.pid === ctx.companionPid) return ok('lock', `held by the running companion (pid ${lock.pid})`);
      return warn(
        'lock',
        `held by pid ${lock.pid}, which does not answer on the socket: a restory command in progress, a companion still starting, or a hung one`,
        `if it stays that way: kill ${lock.pid}`,
      );
    case 'stale':
      return warn(
        'lock',
        `stale: ${file} was left by a companion that is gone (${lock.why}); the next restory start takes it over`,
        `nothing to do, or remove it: rm ${q(file)}`,
      );
  }
}

// ------------------------------------------------------------------------------ store

export function checkEncryption(ctx: DoctorContext): CheckResult {
  try {
    ctx.key = keySourceFromEnv(ctx.env);
  } catch (e) {
    ctx.key = null;
    return fail('encryption', errorMessage(e));
  }
  if (!ctx.key) return ok('encryption', 'off (set RESTORY_KEY or RESTORY_KEY_FILE to encrypt the stored state)');
  return ok('encryption', `on: key from ${ctx.key.from} (${ctx.key.kind === 'raw' ? '32-byte key' : 'passphrase, scrypt'})`);
}

/** The fix for a store file that could not be opened because of the encryption key, if that was why. */
function keyFix(message: string): string | undefined {
  if (/no key is set/.test(message)) return 'export RESTORY_KEY=… (or RESTORY_KEY_FILE=…) with the key the data dir was encrypted with';
  if (/wrong RESTORY_KEY/.test(message)) return 'set RESTORY_KEY (or RESTORY_KEY_FILE) to the key the data dir was encrypted with';
  return undefined;
}

export async function checkDatabase(ctx: DoctorContext): Promise<CheckResult> {
  const file = ctx.paths.db;
  let report;
  try {
    report = await integrityCheck(file, ctx.key ?? null);
  } catch (e) {
    const message = errorMessage(e);
    return fail('database', message, keyFix(message));
  }
  if (!report.exists) return ok('database', `no database yet (${file} is created by the first restory start or import)`);
  if (report.problems.length !== 1 || report.problems[0] !== 'ok') {
    const shown = report.problems.slice(0, 3).join('; ') + (report.problems.length > 3 ? `; … (${report.problems.length} problems)` : '');
    return fail('database', `${file} is damaged: ${shown}`, `mv ${q(file)} ${q(file + '.bad')}   # start with an empty store, or restore a backup`);
  }
  if ((report.schemaVersion ?? 0) > LATEST_SCHEMA_VERSION) {
    return fail('database', `${file} was written by a newer restory (schema ${report.schemaVersion} > ${LATEST_SCHEMA_VERSION})`, 'upgrade restory');
  }
  const kb = Math.max(1, Math.round(report.bytes / 1024));
  const how = report.encrypted ? 'encrypted' : ctx.key ? 'not encrypted yet: the next restory start encrypts it' : 'not encrypted';
  return ok('database', `${file}: intact, ${report.sessions} session${report.sessions === 1 ? '' : 's'}, schema ${report.schemaVersion}, ${kb} KiB, ${how}`);
}

export function checkJournal(ctx: DoctorContext): CheckResult {
  const file = ctx.paths.journal;
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return ok('journal', 'empty');
    return fail('journal', `cannot read ${file}: ${errorMessage(e)}`, `chmod 600 ${q(file)}`);
  }
  try {
    const parsed = parseJournal(bytes, file, ctx.key ? new StoreCipher(ctx.key) : null);
    const records = parsed.records.length;
    const parts = [records === 0 ? 'no pending records' : `${records} record${records === 1 ? '' : 's'} not folded into the database yet`];
    if (parsed.tornBytes > 0) {
      parts.push(`${parsed.tornBytes} bytes of a torn last write (a crash, or a write in progress), dropped at the next open`);
    }
    return ok('journal', `${file}: ${parts.join('; ')}`);
  } catch (e) {
    const message = errorMessage(e);
    const fix = keyFix(message) ?? `mv ${q(file)} ${q(file + '.bad')}   # keeps only what the last checkpoint folded into the database`;
    return fail('journal', message, fix);
  }
}

// ------------------------------------------------------------------------------ permissions

/** The files restory writes into the data dir: each must be 0600 (owner-only) and ours. */
function ownFiles(paths: DataPaths): string[] {
  const temps = existsSync(paths.dir) ? readdirSync(paths.dir).filter((n) => n.startsWith('.restory.db.tmp-')).map((n) => join(paths.dir, n)) : [];
  return [paths.db, paths.journal, paths.lock, paths.token, paths.socket, ...temps];
}

export function checkPermissions(ctx: DoctorContext): CheckResult {
  const { dir } = ctx.paths;
  const uid = typeof process.getuid === 'function' ? process.getuid() : null;
  let st;
  try {
    st = statSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return ok('permissions', `${dir} does not exist yet (created 0700 by the first restory start)`);
    return fail('permissions', `cannot read ${dir}: ${errorMessage(e)}`);
  }
  const problems: string[] = [];
  const fixes: string[] = [];
  if (uid !== null && st.uid !== uid) problems.push(`${dir} belongs to uid ${st.uid}, not to you (uid ${uid})`);
  if ((st.mode & 0o777) !== DIR_MODE) {
    problems.push(`${dir} is ${(st.mode & 0o777).toString(8).padStart(4, '0')}, not 0700`);
    fixes.push(`chmod 700 ${q(dir)}`);
  }
  const loose: string[] = [];
  for (const file of ownFiles(ctx.paths)) {
    let fst;
    try {
      fst = statSync(file);
    } catch {
      continue;
    }
    if (uid !== null && fst.uid !== uid) problems.push(`${file} belongs to uid ${fst.uid}`);
    if ((fst.mode & 0o077) !== 0) {
      problems.push(`${file} is ${(fst.mode & 0o777).toString(8).padStart(4, '0')}, not 0600`);
      loose.push(q(file));
    }
  }
  if (loose.length > 0) fixes.push(`chmod 600 ${loose.join(' ')}`);
  if (problems.length > 0) return fail('permissions', problems.join('; '), fixes.join(' && ') || undefined);
  try {
    if ((statSync(ctx.paths.config).mode & 0o022) !== 0) {
      return warn('permissions', `${ctx.paths.config} can be changed by other users`, `chmod 600 ${q(ctx.paths.config)}`);
    }
  } catch {
    // no config.json: defaults
  }
  return ok('permissions', `${dir} is 0700 and every file restory wrote in it is 0600`);
}

/** Every check, in display order. */
export async function runChecks(dataDir: string, env: NodeJS.ProcessEnv = process.env): Promise<CheckResult[]> {
  const ctx: DoctorContext = { dataDir, paths: dataPaths(dataDir), env };
  const results: CheckResult[] = [];
  results.push(await checkBrowser(ctx), checkExtension(), checkHostScript(), ...checkHostManifests(ctx));
  results.push(await checkCompanion(ctx), checkLock(ctx));
  results.push(checkEncryption(ctx), await checkDatabase(ctx), checkJournal(ctx), checkPermissions(ctx));
  return results;
}
