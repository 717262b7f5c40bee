/**
 * The record reducer: how each journal record changes the database and the live states. The same
 * code runs when a mutation is made (`SqlJsStore` journals the record, then applies it) and when the
 * journal is replayed at open, so what is rebuilt after a crash is what was acknowledged. Callers
 * validate before journaling: applying a record must not fail.
 */
import type { Database } from 'sql.js';
import type { SessionState } from '../../shared/state.js';
import { LiveState } from '../session-state/live-state.js';
import { debug } from '../debug.js';
import { splitState, type StoredState } from './blobs.js';
import type { JournalRecord } from './journal-format.js';
import type { LiveStates } from './live-states.js';
import { contentHash, stateDigest } from './records.js';
import { deleteSessionRows, insertSnapshot, pruneSnapshotRows } from './snapshot-rows.js';
import { transaction } from './sqljs-rows.js';

const log = debug('store');

/** A snapshot `saveSnapshot` already computed, handed to `applyRecord` so it is not computed twice. */
export interface PreparedSnapshot {
  state: SessionState;
  /** Its row JSON and blobs (blobs.ts). */
  stored: StoredState;
}

export interface ApplyTarget {
  db: Database;
  lives: LiveStates;
}

export function applyRecord({ db, lives }: ApplyTarget, r: JournalRecord, prepared?: PreparedSnapshot): void {
  switch (r.t) {
    case 'create': {
      const live = LiveState.fromData(r.live);
      const digest = stateDigest(live.layout());
      db.run(
        `INSERT INTO sessions (id, name, state, created_at, last_activity_at, current_url, current_title, tab_count, live_captured_at, live_tab_count, live_instance_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [r.sid, r.name, r.status, r.at, r.at, digest.currentUrl, digest.currentTitle, digest.tabCount, live.capturedAt, digest.tabCount, live.instanceId ?? ''],
      );
      db.run('INSERT INTO session_live (session_id, live_state) VALUES (?, ?)', [r.sid, JSON.stringify(r.live)]);
      if (r.lim) db.run('UPDATE sessions SET storage_limited_at = ?, storage_limit_bytes = ? WHERE id = ?', [r.lim.at, r.lim.bytes, r.sid]);
      lives.put(r.sid, live, false);
      return;
    }
    case 'events': {
      const live = lives.get(r.sid);
      if (live.instanceId !== r.inst) {
        live.instanceId = r.inst;
        live.lastSeq = 0;
      }
      for (const e of r.evs) {
        live.apply(e.event, e.at);
        live.lastSeq = e.seq;
      }
      db.run('UPDATE sessions SET last_activity_at = max(last_activity_at, ?) WHERE id = ?', [r.at, r.sid]);
      if (r.lim !== undefined) {
        db.run('UPDATE sessions SET storage_limited_at = ?, storage_limit_bytes = ? WHERE id = ? AND storage_limited_at IS NULL', [r.at, r.lim, r.sid]);
      }
      lives.changed(r.sid);
      return;
    }
    case 'reset':
      lives.put(r.sid, LiveState.fromData(r.live), true);
      return;
    case 'status':
      if (r.err !== undefined) db.run('UPDATE sessions SET state = ?, last_error = ? WHERE id = ?', [r.status, r.err, r.sid]);
      else db.run('UPDATE sessions SET state = ? WHERE id = ?', [r.status, r.sid]);
      return;
    case 'delete':
      transaction(db, () => deleteSessionRows(db, r.sid));
      lives.drop(r.sid);
      return;
    case 'snapshot':
      applySnapshot({ db, lives }, r, prepared);
      return;
    case 'prune':
      transaction(db, () => pruneSnapshotRows(db, r.sid, r.keep));
      return;
  }
}

/**
 * The snapshot row, the session's summary columns, and (when it changed) its live state, all in one
 * transaction with the pruning the record asks for.
 */
function applySnapshot({ db, lives }: ApplyTarget, r: Extract<JournalRecord, { t: 'snapshot' }>, prepared?: PreparedSnapshot): void {
  let snap = prepared;
  let hash = r.hash;
  if (!snap) {
    const state = r.state ?? lives.get(r.sid).toState();
    snap = { state, stored: splitState(state) };
    hash = contentHash(state);
    // Replay rebuilds the state from the events before it; a mismatch means LiveState's
    // serialisation lost something. Keep what was rebuilt, under its own hash.
    if (hash !== r.hash) log(`snapshot ${r.id} of ${r.sid}: replayed state differs from the original (hash mismatch)`);
  }
  const { stored } = snap;
  const digest = stateDigest(snap.state);
  transaction(db, () => {
    insertSnapshot(db, { id: r.id, sessionId: r.sid, at: r.at, reason: r.reason, hash, stored });
    db.run('UPDATE sessions SET last_snapshot_at = ?, current_url = ?, current_title = ?, tab_count = ? WHERE id = ?', [
      r.at,
      digest.currentUrl,
      digest.currentTitle,
      digest.tabCount,
      r.sid,
    ]);
    if (lives.isDirty(r.sid)) lives.fold(r.sid);
    // Taken from the live state, which the row now holds: start-up can tell it unchanged from the row.
    lives.rowMatchesSnapshot(r.sid, r.state ? null : r.id);
    pruneSnapshotRows(db, r.sid, r.keep);
  });
  // Only after COMMIT: a rolled-back fold must stay dirty.
  lives.folded(r.sid);
}
