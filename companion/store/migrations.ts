/**
 * Schema migrations. `meta` (key/value) holds `schema_version` and the journal LSN folded into the
 * file; migrations run in order, each in its own transaction, and a file written by a newer
 * restory is refused rather than guessed at.
 */
import type { Database } from 'sql.js';
import { RestoryError } from '../../shared/errors.js';

interface Migration {
  version: number;
  describe: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    describe: 'sessions and their snapshots',
    sql: `
      CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('active','closed','error','recoverable','stale','failed')),
        created_at INTEGER NOT NULL,
        last_activity_at INTEGER NOT NULL,
        last_snapshot_at INTEGER,
        current_url TEXT,
        tab_count INTEGER NOT NULL DEFAULT 0,
        live_state TEXT NOT NULL,
        last_error TEXT
      );
      CREATE TABLE session_snapshots (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        taken_at INTEGER NOT NULL,
        reason TEXT NOT NULL,
        state TEXT NOT NULL,
        content_hash TEXT NOT NULL
      );
      CREATE INDEX session_snapshots_by_time ON session_snapshots (session_id, taken_at);
    `,
  },
  {
    version: 2,
    describe: 'snapshot sizes (list without loading states) and the current tab title',
    sql: `
      ALTER TABLE session_snapshots ADD COLUMN state_bytes INTEGER NOT NULL DEFAULT 0;
      UPDATE session_snapshots SET state_bytes = length(CAST(state AS BLOB));
      ALTER TABLE sessions ADD COLUMN current_title TEXT;
      CREATE INDEX sessions_by_activity ON sessions (last_activity_at);
    `,
  },
  {
    // Layout and rules in blobs.ts. Snapshots written before stay inline (readers accept both).
    version: 3,
    describe: 'snapshot storage lists stored once, shared between snapshots (content-addressed blobs)',
    sql: `
      CREATE TABLE snapshot_blobs (
        hash TEXT PRIMARY KEY,
        data TEXT NOT NULL,
        bytes INTEGER NOT NULL
      );
      CREATE TABLE snapshot_blob_refs (
        snapshot_id INTEGER NOT NULL REFERENCES session_snapshots(id) ON DELETE CASCADE,
        hash TEXT NOT NULL REFERENCES snapshot_blobs(hash),
        PRIMARY KEY (snapshot_id, hash)
      ) WITHOUT ROWID;
      CREATE INDEX snapshot_blob_refs_by_hash ON snapshot_blob_refs (hash);
    `,
  },
  {
    // storage-limit.ts: when the session first had storage left out, and the limit it was held to.
    version: 4,
    describe: 'when a session reached its storage limit',
    sql: `
      ALTER TABLE sessions ADD COLUMN storage_limited_at INTEGER;
      ALTER TABLE sessions ADD COLUMN storage_limit_bytes INTEGER;
    `,
  },
  {
    // live-states.ts. The live state (megabytes for a storage-heavy session) moves out of `sessions`:
    // SQLite rewrites a whole row on any UPDATE, so every status change and every capture batch's
    // last_activity_at copied it (~20 ms per 5 MB in sql.js). Beside it in `sessions`, what start-up's
    // orphan classification and the search by extension instance need of it (RowFacts), readable
    // without parsing it; NULL in rows not folded since, which are parsed as before.
    version: 5,
    describe: 'live states in their own table, with facts about them in the session row (orphans classified without loading them)',
    sql: `
      ALTER TABLE sessions ADD COLUMN live_captured_at INTEGER;
      ALTER TABLE sessions ADD COLUMN live_tab_count INTEGER;
      ALTER TABLE sessions ADD COLUMN live_snapshot_id INTEGER;
      ALTER TABLE sessions ADD COLUMN live_instance_id TEXT;
      CREATE TABLE session_live (
        session_id TEXT PRIMARY KEY REFERENCES sessions(id) ON DELETE CASCADE,
        live_state TEXT NOT NULL
      );
      INSERT INTO session_live (session_id, live_state) SELECT id, live_state FROM sessions;
      ALTER TABLE sessions DROP COLUMN live_state;
    `,
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

export function getMeta(db: Database, key: string): string | undefined {
  const rows = db.exec('SELECT value FROM meta WHERE key = ?', [key]);
  const v = rows[0]?.values[0]?.[0];
  return v === undefined || v === null ? undefined : String(v);
}

export function setMeta(db: Database, key: string, value: string | number): void {
  db.run('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value', [key, String(value)]);
}

export function schemaVersion(db: Database): number {
  const hasMeta = db.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").length > 0;
  return hasMeta ? Number(getMeta(db, 'schema_version') ?? 0) : 0;
}

/**
 * Bring `db` up to `target` (default: latest). `file` names the database in errors.
 * Returns the versions applied.
 */
export function migrate(db: Database, opts: { target?: number; file?: string } = {}): number[] {
  const target = opts.target ?? LATEST_SCHEMA_VERSION;
  const current = schemaVersion(db);
  if (current > LATEST_SCHEMA_VERSION) {
    throw new RestoryError(
      'storage_failed',
      `${opts.file ?? 'the database'} was written by a newer restory (schema ${current} > ${LATEST_SCHEMA_VERSION}); upgrade restory`,
    );
  }
  db.run('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
  const applied: number[] = [];
  for (const m of MIGRATIONS) {
    if (m.version <= current || m.version > target) continue;
    db.run('BEGIN');
    try {
      db.exec(m.sql);
      setMeta(db, 'schema_version', m.version);
      db.run('COMMIT');
    } catch (e) {
      db.run('ROLLBACK');
      throw new RestoryError('storage_failed', `migration ${m.version} (${m.describe}) failed: ${(e as Error).message}`, { cause: e });
    }
    applied.push(m.version);
  }
  return applied;
}
