/**
 * The session index: `restory.db.sessions` beside restory.db, a small JSON copy of the sessions
 * table (the summary columns `list` shows, never a live state or snapshot) written at every
 * checkpoint, so that `restory list` without a companion can answer without sql.js, zod or reading
 * the database. Measured before it: `list` took ~0.65 s of wall time on a small store, of which
 * importing zod was ~0.13 s, compiling sql.js's wasm ~0.06 s and opening the store the rest; the
 * open alone is O(database size) (0.6–0.7 s at 50 MB).
 *
 * It is a cache and must never lie, so a reader uses it only when it provably describes what a full
 * open would show:
 *  - it is written under the persist lock right after a new restory.db is renamed into place (by
 *    the companion's thread or the checkpoint worker, checkpoint.ts), from the rows of that very
 *    database, and carries that file's identity (inode, size, mtime: files.ts `fileIdentity`). A
 *    reader compares it with the restory.db on disk: a checkpoint that crashed or failed between the
 *    rename and the index leaves an index naming another file.
 *  - journal.log is empty and there is no rotated segment: nothing happened after the checkpoint.
 *    Every checkpoint writes the index before it empties the journal files, so empty journals mean
 *    the newest checkpoint's index is in place.
 *  - no session is `active`: showing an active session needs its orphan verdict (the age of its
 *    newest captured state) and its browser record, which only the full open has.
 * Anything else (no index, an unreadable or malformed one, an encrypted store, whose index would be
 * plaintext and is therefore never written) sends the reader to the full open, which validates
 * everything. The index is written without fsync: a power loss can only lose or garble it, and
 * either is caught above.
 */
import { readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import type { Database } from 'sql.js';
import type { SessionStatus } from '../../shared/state.js';
import { FILE_MODE } from '../data-dir.js';
import { fileIdentity, tempPathFor } from './files.js';
import { rotatedJournalPath } from './journal.js';
import { all, SESSION_COLUMNS, toSessionRecord } from './sqljs-rows.js';
import type { SessionRecord } from './store.js';

const FORMAT = 'restory-session-index';
const VERSION = 1;

/** The states the index may show as stored; `active` needs the full open (see the header). */
export const STATES_SHOWN_AS_STORED: readonly SessionStatus[] = ['closed', 'error', 'recoverable', 'stale', 'failed'];

interface SessionIndexFile {
  format: typeof FORMAT;
  v: typeof VERSION;
  /** The LSN restory.db holds (for people reading the file; the identity is what is checked). */
  lsn: number;
  /** `fileIdentity` of the restory.db these rows were read from. */
  db: string;
  /** Newest activity first, like `listSessions`. */
  sessions: SessionRecord[];
}

export function sessionIndexPath(dbPath: string): string {
  return `${dbPath}.sessions`;
}

/**
 * Write the index of `db`, which was just renamed into place at `dbPath` and holds `lsn`. Call
 * under the persist lock, before the journal files are emptied. With `encrypted`, remove it instead.
 * Never throws: a failure removes the index, and the next reader takes the full open.
 */
export function writeSessionIndex(db: Database, dbPath: string, lsn: number, encrypted: boolean): void {
  const file = sessionIndexPath(dbPath);
  const tmp = tempPathFor(file);
  try {
    if (encrypted) {
      removeIfExists(file);
      return;
    }
    const sessions = all(db, `SELECT ${SESSION_COLUMNS} FROM sessions ORDER BY last_activity_at DESC, created_at DESC, id`, []).map(toSessionRecord);
    const index: SessionIndexFile = { format: FORMAT, v: VERSION, lsn, db: fileIdentity(dbPath), sessions };
    writeFileSync(tmp, JSON.stringify(index), { mode: FILE_MODE });
    renameSync(tmp, file);
  } catch {
    // Best effort: an index naming an older restory.db is refused by its identity check all the same.
    for (const leftover of [tmp, file]) {
      try {
        removeIfExists(leftover);
      } catch {
        // see above
      }
    }
  }
}

/**
 * The sessions a full read-only open of `paths` would list right now, or null when the index
 * cannot tell (see the header): the caller then opens the store. `paths.db`'s directory may not
 * exist (an empty store).
 */
export function readSessionIndex(paths: { db: string; journal: string }): SessionRecord[] | null {
  let text: string | undefined;
  try {
    text = readFileSync(sessionIndexPath(paths.db), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return null;
  }
  if (sizeOf(paths.journal) !== 0 || sizeOf(rotatedJournalPath(paths.journal)) !== 0 || sizeOf(paths.db) === null) return null;
  const db = fileIdentity(paths.db);
  // No database and no journal: the store is empty (a full open would create it in memory).
  if (text === undefined) return db === 'missing' ? [] : null;
  const index = parseIndex(text);
  if (!index || index.db !== db || db === 'missing') return null;
  return index.sessions;
}

/** 0 for a missing file; null when it cannot be told. */
function sizeOf(file: string): number | null {
  try {
    return statSync(file).size;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? 0 : null;
  }
}

/**
 * The file checked field by field by hand, not with zod: importing zod costs more than the whole
 * fast path. Anything unexpected makes it unusable (null), never an error: the full open is the
 * authority and validates everything it reads.
 */
function parseIndex(text: string): SessionIndexFile | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isObject(value) || value.format !== FORMAT || value.v !== VERSION || typeof value.db !== 'string') return null;
  if (typeof value.lsn !== 'number' || !Array.isArray(value.sessions) || !value.sessions.every(isShownSession)) return null;
  return value as unknown as SessionIndexFile;
}

function isShownSession(s: unknown): s is SessionRecord {
  return (
    isObject(s) &&
    typeof s.id === 'string' &&
    typeof s.name === 'string' &&
    STATES_SHOWN_AS_STORED.includes(s.state as SessionStatus) &&
    typeof s.createdAt === 'number' &&
    typeof s.lastActivityAt === 'number' &&
    (s.lastSnapshotAt === null || typeof s.lastSnapshotAt === 'number') &&
    Number.isInteger(s.tabCount) &&
    (s.tabCount as number) >= 0 &&
    (s.currentUrl === null || typeof s.currentUrl === 'string') &&
    (s.currentTitle === null || typeof s.currentTitle === 'string') &&
    (s.lastError === null || typeof s.lastError === 'string') &&
    (s.storageLimit === undefined || isStorageLimit(s.storageLimit)) &&
    Object.keys(s).length === (s.storageLimit === undefined ? 10 : 11)
  );
}

function isStorageLimit(v: unknown): boolean {
  return isObject(v) && typeof v.at === 'number' && Number.isInteger(v.bytes) && (v.bytes as number) > 0 && Object.keys(v).length === 2;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function removeIfExists(file: string): void {
  try {
    unlinkSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}
