/**
 * Where restory keeps its files: `--data-dir`, else RESTORY_DATA_DIR, else the XDG data home.
 * The directory is owner-only (0700) and every file the project writes in it is 0600, because it
 * holds cookies and a socket token. A directory restory creates is made 0700; an existing one
 * that holds only restory's files (or nothing) is tightened to 0700; an existing one that also
 * holds files of the user's is refused rather than chmod'ed behind the user's back.
 */
import { accessSync, chmodSync, constants, mkdirSync, readdirSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ENV } from '../shared/constants.js';
import { RestoryError } from '../shared/errors.js';

export const DIR_MODE = 0o700;
export const FILE_MODE = 0o600;

export function resolveDataDir(opts: { flag?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const env = opts.env ?? process.env;
  if (opts.flag) return resolve(opts.flag);
  const fromEnv = env[ENV.dataDir];
  if (fromEnv) return resolve(fromEnv);
  const xdg = env.XDG_DATA_HOME;
  // The XDG spec says a relative XDG_DATA_HOME is invalid and must be ignored.
  if (xdg && xdg.startsWith('/')) return join(xdg, 'restory');
  return join(env.HOME || homedir(), '.local', 'share', 'restory');
}

/**
 * What restory writes into a data dir, with the temp and lock files beside them
 * (restory.db.tmp-…, companion.lock.<pid>.<token>, companion.lock.takeover).
 */
const OWN_NAME = /^(\.?restory\.db|journal\.log|companion\.lock|companion\.sock|token|config\.json|browsers)([.-].*)?$/;

const octal = (mode: number): string => (mode & 0o777).toString(8).padStart(4, '0');

/**
 * Why `dir` cannot serve as a data dir, or null if it can: it is not a directory, or this user
 * cannot `read` it (list, export, doctor) or `write` it (the companion, import, close). A dir that
 * does not exist is no problem: readers see an empty store, writers create it.
 */
export function dataDirProblem(dir: string, access: 'read' | 'write'): string | null {
  const you = `you (uid ${process.getuid?.() ?? '?'})`;
  let st;
  try {
    st = statSync(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'ENOTDIR') return `data dir ${dir} cannot be used: part of that path is a file, not a directory`;
    if (code === 'EACCES' || code === 'EPERM') return `data dir ${dir} cannot be reached by ${you}: a directory above it does not let you in`;
    return `data dir ${dir} cannot be used: ${(e as Error).message}`;
  }
  if (!st.isDirectory()) return `data dir ${dir} is a file, not a directory; point --data-dir (or RESTORY_DATA_DIR) at a directory`;
  try {
    accessSync(dir, access === 'write' ? constants.R_OK | constants.W_OK | constants.X_OK : constants.R_OK | constants.X_OK);
  } catch {
    const owner = st.uid === process.getuid?.() ? 'you' : `uid ${st.uid}`;
    return `data dir ${dir} is not ${access === 'write' ? 'writable' : 'readable'} by ${you}: it belongs to ${owner}, mode ${octal(st.mode)}; run restory as its owner, or let its owner chmod 700 it`;
  }
  return null;
}

/** Throws the dataDirProblem, if there is one, as a one-line error. */
export function assertDataDirUsable(dir: string, access: 'read' | 'write'): void {
  const problem = dataDirProblem(dir, access);
  if (problem) throw new RestoryError('storage_failed', problem);
}

/**
 * mkdir -p with mode 0700. An existing directory open to others is tightened to 0700 if it holds
 * nothing but restory's files; one that holds the user's own files is refused (see the header).
 */
export function ensureDataDir(dir: string): string {
  assertDataDirUsable(dir, 'write');
  mkdirSync(dir, { recursive: true, mode: DIR_MODE });
  const mode = statSync(dir).mode & 0o777;
  if (mode === DIR_MODE) return dir;
  const foreign = readdirSync(dir).filter((name) => !OWN_NAME.test(name));
  if (foreign.length > 0) {
    const shown = foreign.slice(0, 3).join(', ') + (foreign.length > 3 ? `, … (${foreign.length} in all)` : '');
    throw new RestoryError(
      'storage_failed',
      `data dir ${dir} is not restory's own: it holds other files (${shown}) and is ${octal(mode)}. restory keeps cookies there and needs ` +
        `a 0700 directory; it did not change the mode of yours. Use a subfolder restory creates itself: --data-dir ${join(dir, 'restory')}`,
    );
  }
  chmodSync(dir, DIR_MODE);
  return dir;
}

export interface DataPaths {
  dir: string;
  db: string;
  journal: string;
  lock: string;
  socket: string;
  token: string;
  config: string;
  /** One record per browser a companion launched and that may still run (session/browser-records.ts). */
  browsers: string;
  /** Where Playwright's own Chromium is, remembered so a launch need not load Playwright (browser/playwright-chromium-memo.ts). */
  chromiumMemo: string;
}

export function dataPaths(dir: string): DataPaths {
  return {
    dir,
    db: join(dir, 'restory.db'),
    journal: join(dir, 'journal.log'),
    lock: join(dir, 'companion.lock'),
    socket: socketPath(dir),
    token: join(dir, 'token'),
    config: join(dir, 'config.json'),
    browsers: join(dir, 'browsers'),
    chromiumMemo: join(dir, 'playwright-chromium.json'),
  };
}

/** Linux caps a Unix socket path at 107 bytes; leave room for a NUL and be safe on macOS (103). */
const MAX_SOCKET_PATH = 100;

/**
 * The companion's socket: in the data dir (0700, so reachable by its owner only), or for a data
 * dir too deep for a socket path, in a per-user 0700 folder under the temp dir named by a hash of
 * the data dir, which every side (companion, native host, CLI) derives the same way.
 */
export function socketPath(dir: string): string {
  const inDir = join(dir, 'companion.sock');
  if (Buffer.byteLength(inDir) <= MAX_SOCKET_PATH) return inDir;
  const hash = createHash('sha256').update(resolve(dir)).digest('hex').slice(0, 16);
  return join(tmpdir(), `restory-${process.getuid?.() ?? 'user'}`, `${hash}.sock`);
}
