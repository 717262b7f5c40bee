/**
 * The PostgreSQL store's schema and its versioned migrations (pg-store.ts uses it). As with the
 * embedded store (migrations.ts), `restory_meta` holds `schema_version`; migrations run in order,
 * each in its own transaction, and a schema written by a newer restory is refused, not guessed at.
 *
 * Several companions may open one database at once: migrations run under a transaction-scoped
 * advisory lock, so exactly one of them migrates and the others see the result.
 *
 * Layout (pg-store.ts says how it is used):
 *   sessions          one row per session: summary columns, the folded live state (`live_state`,
 *                     sealed when a key is set), the extension instance feeding it, and the lease (`owner_id`, `lease_expires_at`,
 *                     server clock) of the companion that captures into it
 *   capture_batches   acknowledged capture batches not yet folded into `live_state` (the shared
 *                     store's journal); deleted when the session's live state is folded
 *   session_snapshots + snapshot_blobs + snapshot_blob_refs   as in the embedded store (blobs.ts)
 *
 * Payload columns (`live_state`, `events`, `state`, `data`) are bytea: UTF-8 JSON, or with
 * RESTORY_KEY a crypto.ts sealed blob of it, so the server never holds cookie or storage values.
 */
import type { PoolClient } from 'pg';
import { RestoryError } from '../../shared/errors.js';

interface PgMigration {
  version: number;
  describe: string;
  sql: string;
}

export const PG_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    describe: 'sessions with leases, capture batches, snapshots with shared content-addressed chunks',
    sql: `
      CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('active','closed','error','recoverable','stale','failed')),
        created_at BIGINT NOT NULL,
        last_activity_at BIGINT NOT NULL,
        last_snapshot_at BIGINT,
        current_url TEXT,
        current_title TEXT,
        tab_count INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        live_state BYTEA NOT NULL,
        instance_id TEXT,
        owner_id TEXT,
        lease_expires_at TIMESTAMPTZ
      );
      CREATE INDEX sessions_by_activity ON sessions (last_activity_at);
      CREATE INDEX sessions_by_instance ON sessions (instance_id);
      CREATE TABLE capture_batches (
        id BIGSERIAL PRIMARY KEY,
        session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        instance_id TEXT NOT NULL,
        at BIGINT NOT NULL,
        events BYTEA NOT NULL
      );
      CREATE INDEX capture_batches_by_session ON capture_batches (session_id, id);
      CREATE TABLE session_snapshots (
        id BIGSERIAL PRIMARY KEY,
        session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        taken_at BIGINT NOT NULL,
        reason TEXT NOT NULL,
        state BYTEA NOT NULL,
        content_hash TEXT NOT NULL,
        state_bytes BIGINT NOT NULL
      );
      CREATE INDEX session_snapshots_by_time ON session_snapshots (session_id, taken_at, id);
      CREATE TABLE snapshot_blobs (
        hash TEXT PRIMARY KEY,
        data BYTEA NOT NULL,
        bytes BIGINT NOT NULL
      );
      CREATE TABLE snapshot_blob_refs (
        snapshot_id BIGINT NOT NULL REFERENCES session_snapshots(id) ON DELETE CASCADE,
        hash TEXT NOT NULL REFERENCES snapshot_blobs(hash),
        PRIMARY KEY (snapshot_id, hash)
      );
      CREATE INDEX snapshot_blob_refs_by_hash ON snapshot_blob_refs (hash);
    `,
  },
  {
    // As the embedded store's migration 4: when the session first had storage left out (storage-limit.ts).
    version: 2,
    describe: 'when a session reached its storage limit',
    sql: `
      ALTER TABLE sessions ADD COLUMN storage_limited_at BIGINT;
      ALTER TABLE sessions ADD COLUMN storage_limit_bytes BIGINT;
    `,
  },
];

export const PG_LATEST_SCHEMA_VERSION = PG_MIGRATIONS[PG_MIGRATIONS.length - 1].version;

/** Any constant: the advisory lock key every restory companion migrates under. */
const MIGRATION_LOCK = 0x7265_7374; // 'rest'

/** The schema version of the database `client` is connected to (0: none yet). */
export async function pgSchemaVersion(client: PoolClient): Promise<number> {
  const exists = await client.query<{ t: string | null }>("SELECT to_regclass('restory_meta')::text AS t");
  if (!exists.rows[0]?.t) return 0;
  const row = await client.query<{ value: string }>("SELECT value FROM restory_meta WHERE key = 'schema_version'");
  return Number(row.rows[0]?.value ?? 0);
}

function tooNew(current: number, where: string): RestoryError {
  return new RestoryError(
    'storage_failed',
    `${where} was written by a newer restory (schema ${current} > ${PG_LATEST_SCHEMA_VERSION}); upgrade restory`,
  );
}

/** Bring the database up to the latest schema; `where` names it (URL without password) in errors. Returns the versions applied. */
export async function pgMigrate(client: PoolClient, where: string): Promise<number[]> {
  const before = await pgSchemaVersion(client);
  if (before > PG_LATEST_SCHEMA_VERSION) throw tooNew(before, where);
  if (before === PG_LATEST_SCHEMA_VERSION) return [];
  const applied: number[] = [];
  for (const m of PG_MIGRATIONS) {
    await client.query('BEGIN');
    try {
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await client.query('CREATE TABLE IF NOT EXISTS restory_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
      // Read again under the lock: another companion may have migrated meanwhile.
      const current = await pgSchemaVersion(client);
      if (current > PG_LATEST_SCHEMA_VERSION) throw tooNew(current, where);
      if (m.version <= current) {
        await client.query('COMMIT');
        continue;
      }
      await client.query(m.sql);
      await client.query(
        "INSERT INTO restory_meta (key, value) VALUES ('schema_version', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [String(m.version)],
      );
      await client.query('COMMIT');
      applied.push(m.version);
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {});
      if (e instanceof RestoryError) throw e;
      throw new RestoryError('storage_failed', `migration ${m.version} (${m.describe}) of ${where} failed: ${(e as Error).message}`, { cause: e });
    }
  }
  return applied;
}
