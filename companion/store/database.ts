/**
 * The sql.js database file: load it (refusing anything that is not an intact SQLite file, and
 * never touching such a file), migrate it, and persist it atomically — the whole file image
 * encrypted (crypto.ts) when a key is set. A plaintext file opened with a key is read as it is and
 * written encrypted from the next persist on.
 */
import { readFileSync } from 'node:fs';
import type { Database } from 'sql.js';
import { RestoryError } from '../../shared/errors.js';
import { writeFileAtomic } from './files.js';
import { migrate, schemaVersion } from './migrations.js';
import { loadSqlJs } from './sqljs.js';
import { debug } from '../debug.js';
import { StoreCipher, isEncrypted, keyMissing, saltOf, type KeySource } from './crypto.js';

const log = debug('store');

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

function corrupt(file: string, what: string, cause?: unknown): RestoryError {
  return new RestoryError(
    'storage_failed',
    `${file} cannot be used: ${what}. It was left untouched. Move it aside (mv "${file}" "${file}.bad") to start with an empty store, or restore it from a backup.`,
    { cause },
  );
}

/** Reject files that sql.js would happily "open" (empty, truncated, garbage) before loading them. */
function checkHeader(file: string, bytes: Buffer): void {
  if (bytes.length < 100 || !bytes.subarray(0, 16).equals(SQLITE_MAGIC)) {
    throw corrupt(file, 'it is not a SQLite database');
  }
  const rawPageSize = bytes.readUInt16BE(16);
  const pageSize = rawPageSize === 1 ? 65536 : rawPageSize;
  const pageCount = bytes.readUInt32BE(28);
  // The in-header page count is valid when the "version-valid-for" number matches the change counter.
  if (bytes.readUInt32BE(92) === bytes.readUInt32BE(24) && pageCount * pageSize > bytes.length) {
    throw corrupt(file, `it is truncated (${bytes.length} bytes, the header says ${pageCount * pageSize})`);
  }
}

function readIfExists(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    // Not a damaged file: moving it aside would not help, and would lose it.
    if (code === 'EACCES' || code === 'EPERM') {
      throw new RestoryError('storage_failed', `cannot read ${file}: permission denied; run restory as the user who owns it`, { cause: e });
    }
    throw corrupt(file, (e as Error).message, e);
  }
}

export interface DatabaseFile {
  /** The SQLite bytes (decrypted), undefined when the file does not exist. */
  bytes: Buffer | undefined;
  /** The file on disk is encrypted. */
  encrypted: boolean;
  /** Encrypts this data dir's files from now on (its salt reused); null without a key. */
  cipher: StoreCipher | null;
}

/**
 * Read `file`, decrypting it if it is encrypted. Throws (touching nothing) when it is encrypted and
 * no key is given, or the key does not open it.
 */
export function readDatabaseFile(file: string, key: KeySource | null): DatabaseFile {
  const raw = readIfExists(file);
  if (raw && isEncrypted(raw)) {
    if (!key) throw keyMissing(file);
    const cipher = new StoreCipher(key, saltOf(raw));
    return { bytes: cipher.open(raw, 'restory.db', file), encrypted: true, cipher };
  }
  return { bytes: raw, encrypted: false, cipher: key ? new StoreCipher(key) : null };
}

export interface OpenedDatabase {
  db: Database;
  existed: boolean;
  migrated: number[];
  encrypted: boolean;
  cipher: StoreCipher | null;
}

/**
 * Per-connection settings: at open, and again after an export (older sql.js versions reopened the
 * database on export, dropping them).
 * journal_mode MEMORY: the database lives in memory and restory's own journal and checkpoints make
 * it durable, so SQLite's rollback journal — a file created, written and deleted on sql.js's
 * in-memory file system by every write statement — was pure cost: 407 µs per one-row UPDATE
 * against 31 µs without it (measured, sql.js 1.16), paid on every capture batch (issue 11).
 */
export function applyConnectionPragmas(db: Database): void {
  db.run('PRAGMA foreign_keys = ON');
  db.run('PRAGMA journal_mode = MEMORY');
}

/**
 * Open `file` (or a new empty database if it does not exist) and migrate it to the latest schema.
 * `key`: the configured encryption key (crypto.ts), needed for an encrypted file.
 */
export async function openDatabase(file: string, key: KeySource | null = null): Promise<OpenedDatabase> {
  const SQL = await loadSqlJs();
  const { bytes, encrypted, cipher } = readDatabaseFile(file, key);
  let db: Database;
  if (bytes) {
    checkHeader(file, bytes);
    try {
      db = new SQL.Database(bytes);
      const check = db.exec('PRAGMA quick_check')[0]?.values[0]?.[0];
      if (check !== 'ok') throw new Error(String(check));
    } catch (e) {
      throw corrupt(file, `SQLite reports it damaged (${(e as Error).message})`, e);
    }
  } else {
    db = new SQL.Database();
  }
  applyConnectionPragmas(db);
  let migrated: number[];
  try {
    migrated = migrate(db, { file });
  } catch (e) {
    db.close();
    throw e;
  }
  return { db, existed: bytes !== undefined, migrated, encrypted, cipher };
}

export interface IntegrityReport {
  exists: boolean;
  encrypted: boolean;
  bytes: number;
  schemaVersion: number | null;
  sessions: number | null;
  /** SQLite's `PRAGMA integrity_check` lines: ['ok'] when intact. */
  problems: string[];
}

/**
 * Read-only check of `file` for `restory doctor`: decrypts it if needed (throwing like
 * openDatabase on a missing or wrong key), then runs SQLite's full `PRAGMA integrity_check` on an
 * in-memory copy. Never writes, never takes the lock, never migrates.
 */
export async function integrityCheck(file: string, key: KeySource | null): Promise<IntegrityReport> {
  const { bytes, encrypted } = readDatabaseFile(file, key);
  if (!bytes) return { exists: false, encrypted: false, bytes: 0, schemaVersion: null, sessions: null, problems: ['ok'] };
  const report: IntegrityReport = { exists: true, encrypted, bytes: bytes.length, schemaVersion: null, sessions: null, problems: [] };
  try {
    checkHeader(file, bytes);
  } catch (e) {
    report.problems = [(e as Error).message];
    return report;
  }
  const SQL = await loadSqlJs();
  let db: Database | undefined;
  try {
    db = new SQL.Database(bytes);
    report.problems = (db.exec('PRAGMA integrity_check')[0]?.values ?? []).map((r) => String(r[0]));
    if (report.problems.length === 0) report.problems = ['integrity_check returned nothing'];
    if (report.problems[0] === 'ok') {
      report.schemaVersion = schemaVersion(db);
      const hasSessions = db.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sessions'").length > 0;
      report.sessions = hasSessions ? Number(db.exec('SELECT count(*) FROM sessions')[0]?.values[0]?.[0] ?? 0) : 0;
    }
  } catch (e) {
    report.problems = [`SQLite reports it damaged (${(e as Error).message})`];
  } finally {
    db?.close();
  }
  return report;
}

/**
 * Export the in-memory database and replace `file` with it atomically, encrypted when `cipher` is
 * given (the temp file holds ciphertext only). O(size): call rarely.
 */
export function persistDatabase(db: Database, file: string, cipher: StoreCipher | null = null): number {
  const t0 = performance.now();
  const plain = db.export();
  const bytes = cipher ? cipher.seal(plain, 'restory.db') : plain;
  applyConnectionPragmas(db);
  const t1 = performance.now();
  writeFileAtomic(file, bytes);
  log(`persist ${bytes.length} bytes${cipher ? ' (encrypted)' : ''}: export ${(t1 - t0).toFixed(1)} ms, write+fsync+rename ${(performance.now() - t1).toFixed(1)} ms`);
  return bytes.length;
}
