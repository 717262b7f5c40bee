/**
 * Where snapshots are written to and read from the database: a `session_snapshots` row plus the
 * blobs it shares with other snapshots (blobs.ts explains the split), pruning to the newest N, and
 * removing the blobs no snapshot refers to any more. The writers run inside the caller's
 * transaction, so a snapshot and its blobs (or a prune and its orphans) land or vanish together.
 */
import type { Database, SqlValue } from 'sql.js';
import type { SnapshotReason } from '../../shared/state.js';
import { joinState, type StoredState } from './blobs.js';
import { all, one, SNAPSHOT_COLUMNS, toSnapshotInfo } from './sqljs-rows.js';
import type { SnapshotInfo, SnapshotRecord } from './store.js';

/** Inside the caller's transaction: the snapshot row, its blobs (each stored once) and their refs. */
export function insertSnapshot(
  db: Database,
  snap: { id: number; sessionId: string; at: number; reason: SnapshotReason; hash: string; stored: StoredState },
): void {
  const { json, blobs, bytes } = snap.stored;
  db.run(
    'INSERT INTO session_snapshots (id, session_id, taken_at, reason, state, content_hash, state_bytes) VALUES (?, ?, ?, ?, ?, ?, ?)',
    [snap.id, snap.sessionId, snap.at, snap.reason, json, snap.hash, bytes],
  );
  for (const [blobHash, data] of blobs) {
    // Check first: handing sql.js a string that is already stored copies megabytes for nothing.
    if (!one(db, 'SELECT 1 AS x FROM snapshot_blobs WHERE hash = ?', [blobHash])) {
      db.run('INSERT INTO snapshot_blobs (hash, data, bytes) VALUES (?, ?, ?)', [blobHash, data, Buffer.byteLength(data)]);
    }
    db.run('INSERT INTO snapshot_blob_refs (snapshot_id, hash) VALUES (?, ?)', [snap.id, blobHash]);
  }
}

/** Inside the caller's transaction: keep the newest `keep`; the blobs only the pruned snapshots used go with them. */
export function pruneSnapshotRows(db: Database, sessionId: string, keep: number): void {
  const doomed = `SELECT id FROM session_snapshots WHERE session_id = ? AND id NOT IN
       (SELECT id FROM session_snapshots WHERE session_id = ? ORDER BY taken_at DESC, id DESC LIMIT ?)`;
  const hashes = blobsOf(db, doomed, [sessionId, sessionId, keep]);
  db.run(`DELETE FROM session_snapshots WHERE id IN (${doomed})`, [sessionId, sessionId, keep]);
  deleteOrphanBlobs(db, hashes);
}

/** Inside the caller's transaction: the session row, its snapshots (by cascade) and the blobs only they used. */
export function deleteSessionRows(db: Database, sessionId: string): void {
  const hashes = blobsOf(db, 'SELECT id FROM session_snapshots WHERE session_id = ?', [sessionId]);
  db.run('DELETE FROM session_live WHERE session_id = ?', [sessionId]);
  db.run('DELETE FROM sessions WHERE id = ?', [sessionId]); // cascades to snapshots and their blob refs
  deleteOrphanBlobs(db, hashes);
}

/** The blobs the snapshots that `ids` (a SELECT of snapshot ids) selects refer to. */
function blobsOf(db: Database, ids: string, params: SqlValue[]): string[] {
  return all(db, `SELECT DISTINCT hash FROM snapshot_blob_refs WHERE snapshot_id IN (${ids})`, params).map((r) => String(r.hash));
}

/** Of `hashes`, delete the blobs no snapshot refers to any more (refs go with their snapshots, by cascade). */
function deleteOrphanBlobs(db: Database, hashes: string[]): void {
  for (const hash of hashes) {
    db.run('DELETE FROM snapshot_blobs WHERE hash = ? AND NOT EXISTS (SELECT 1 FROM snapshot_blob_refs WHERE hash = ?)', [hash, hash]);
  }
}

/** A snapshot with its state put back together from its row and blobs; `dbPath` names the file in errors. */
export function readSnapshot(db: Database, sessionId: string, snapshotId: number, dbPath: string): SnapshotRecord | undefined {
  const row = one(db, `SELECT ${SNAPSHOT_COLUMNS}, state FROM session_snapshots WHERE session_id = ? AND id = ?`, [sessionId, snapshotId]);
  if (!row) return undefined;
  const state = joinState(
    String(row.state),
    (hash) => {
      const blob = one(db, 'SELECT data FROM snapshot_blobs WHERE hash = ?', [hash]);
      return blob ? String(blob.data) : undefined;
    },
    `snapshot ${snapshotId} of session "${sessionId}" in ${dbPath}`,
  );
  return { ...toSnapshotInfo(row), state };
}

export function latestSnapshotInfo(db: Database, sessionId: string): SnapshotInfo | undefined {
  const row = one(db, `SELECT ${SNAPSHOT_COLUMNS} FROM session_snapshots WHERE session_id = ? ORDER BY taken_at DESC, id DESC LIMIT 1`, [
    sessionId,
  ]);
  return row ? toSnapshotInfo(row) : undefined;
}

/** Newest first. */
export function listSnapshotInfos(db: Database, sessionId: string): SnapshotInfo[] {
  return all(db, `SELECT ${SNAPSHOT_COLUMNS} FROM session_snapshots WHERE session_id = ? ORDER BY taken_at DESC, id DESC`, [
    sessionId,
  ]).map(toSnapshotInfo);
}

export function countSnapshots(db: Database, sessionId: string): number {
  return Number(one(db, 'SELECT count(*) AS n FROM session_snapshots WHERE session_id = ?', [sessionId])?.n ?? 0);
}

/** AUTOINCREMENT: ids are never reused, even after the newest snapshot is deleted. */
export function nextSnapshotId(db: Database): number {
  const seq = one(db, "SELECT seq FROM sqlite_sequence WHERE name = 'session_snapshots'", []);
  return Number(seq?.seq ?? 0) + 1;
}
