/**
 * The sql.js database file: load it (refusing anything that is not an intact SQLite file, and
 * never touching such a file), migrate it, and persist it atomically.
 */
import { readFileSync } from 'node:fs';
import type { Database } from 'sql.js';
import { RestoryError } from '../../shared/protocol.js';
import { writeFileAtomic } from './files.js';
import { migrate } from './migrations.js';
import { loadSqlJs } from './sqljs.js';
import { debug } from './debug.js';

const log = debug('restory:store');

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

/** Open `file` (or a new empty database if it does not exist) and migrate it to the latest schema. */
export async function openDatabase(file: string): Promise<{ db: Database; existed: boolean; migrated: number[] }> {
  const SQL = await loadSqlJs();
  let bytes: Buffer | undefined;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw corrupt(file, (e as Error).message, e);
  }
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
  db.run('PRAGMA foreign_keys = ON');
  let migrated: number[];
  try {
    migrated = migrate(db, { file });
  } catch (e) {
    db.close();
    throw e;
  }
  return { db, existed: bytes !== undefined, migrated };
}

/** Export the in-memory database and replace `file` with it atomically. O(size): call rarely. */
export function persistDatabase(db: Database, file: string): number {
  const t0 = performance.now();
  const bytes = db.export();
  // Older sql.js versions reopened the database on export, dropping connection pragmas.
  db.run('PRAGMA foreign_keys = ON');
  const t1 = performance.now();
  writeFileAtomic(file, bytes);
  log(`persist ${bytes.length} bytes: export ${(t1 - t0).toFixed(1)} ms, write+fsync+rename ${(performance.now() - t1).toFixed(1)} ms`);
  return bytes.length;
}
