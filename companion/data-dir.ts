/**
 * Where restory keeps its files: `--data-dir`, else RESTORY_DATA_DIR, else the XDG data home.
 * The directory is owner-only (0700) and every file the project writes in it is 0600, because it
 * holds cookies and a socket token.
 */
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ENV } from '../shared/constants.js';

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

/** mkdir -p with mode 0700; tightens an existing directory that is group/world accessible. */
export function ensureDataDir(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: DIR_MODE });
  const mode = statSync(dir).mode & 0o777;
  if (mode !== DIR_MODE) chmodSync(dir, DIR_MODE);
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
