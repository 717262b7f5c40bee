/**
 * Row-level helpers for the sql.js store: running a query into plain row objects, transactions,
 * and mapping `sessions` / `session_snapshots` rows onto the records the Store interface returns.
 */
import type { Database, SqlValue } from 'sql.js';
import type { SessionStatus, SnapshotReason } from '../../shared/state.js';
import type { SessionRecord, SnapshotInfo } from './store.js';
import { errorLine, storageLimitOf } from './records.js';

export type Row = Record<string, SqlValue>;

/** What `toSessionRecord` reads; `live_state` is left out (it can be megabytes), see live-states.ts. */
export const SESSION_COLUMNS =
  'id, name, state, created_at, last_activity_at, last_snapshot_at, current_url, current_title, tab_count, last_error, storage_limited_at, storage_limit_bytes';
/** What `toSnapshotInfo` reads; the `state` column is read only when a snapshot is loaded. */
export const SNAPSHOT_COLUMNS = 'id, session_id, taken_at, reason, content_hash, state_bytes';

/** A session's row; its summary columns are as of the last fold (`SqlJsStore.withLiveSummary` freshens them). */
export function toSessionRecord(r: Row): SessionRecord {
  return {
    id: String(r.id),
    name: String(r.name),
    state: r.state as SessionStatus,
    createdAt: Number(r.created_at),
    lastActivityAt: Number(r.last_activity_at),
    lastSnapshotAt: r.last_snapshot_at === null ? null : Number(r.last_snapshot_at),
    currentUrl: r.current_url === null ? null : String(r.current_url),
    currentTitle: r.current_title === null ? null : String(r.current_title),
    tabCount: Number(r.tab_count),
    // Rows written before lastError was kept to one line are shown as if it had been.
    lastError: r.last_error === null ? null : errorLine(String(r.last_error)),
    ...storageLimitOf(r.storage_limited_at, r.storage_limit_bytes),
  };
}

export function toSnapshotInfo(r: Row): SnapshotInfo {
  return {
    id: Number(r.id),
    sessionId: String(r.session_id),
    takenAt: Number(r.taken_at),
    reason: r.reason as SnapshotReason,
    hash: String(r.content_hash),
    bytes: Number(r.state_bytes),
  };
}

export function all(db: Database, sql: string, params: SqlValue[]): Row[] {
  const stmt = db.prepare(sql);
  try {
    stmt.bind(params);
    const rows: Row[] = [];
    while (stmt.step()) rows.push(stmt.getAsObject());
    return rows;
  } finally {
    stmt.free();
  }
}

export function one(db: Database, sql: string, params: SqlValue[]): Row | undefined {
  return all(db, sql, params)[0];
}

/** Run `fn` in BEGIN … COMMIT, rolling back (and rethrowing) if it throws. */
export function transaction(db: Database, fn: () => void): void {
  db.run('BEGIN');
  try {
    fn();
    db.run('COMMIT');
  } catch (e) {
    db.run('ROLLBACK');
    throw e;
  }
}
