/**
 * The in-memory LiveState of each session the store is working with, and when its row catches up.
 *
 * A session's row holds its live state as JSON (`sessions.live_state`), written only when the state
 * is folded (at a checkpoint, or with a snapshot): between folds the journal is what makes the
 * changes durable. A state is loaded from its row on first use.
 *
 * Also kept here: which live state (object and version) each session's newest snapshot was taken
 * from, so an interval snapshot of an idle session need not serialise and hash the whole state only
 * to find it unchanged.
 */
import type { Database } from 'sql.js';
import { RestoryError } from '../../shared/protocol.js';
import { LiveState, type LiveStateData } from '../session-state/live-state.js';
import { stateDigest } from './records.js';
import { one } from './sqljs-rows.js';

/** Which live state the newest snapshot was taken from: a loaded object at a version. */
type SnapshotSource = { live: LiveState; version: number };

export class LiveStates {
  private loaded = new Map<string, LiveState>();
  /** Sessions whose LiveState changed since their row was written. */
  private dirty = new Set<string>();
  private snapshotted = new Map<string, SnapshotSource>();

  /** `dbPath` names the database file in errors. */
  constructor(
    private readonly db: Database,
    private readonly dbPath: string,
  ) {}

  /** The session's live state, loaded from its row if it is not in memory. */
  get(id: string): LiveState {
    let live = this.loaded.get(id);
    if (!live) {
      live = this.load(id);
      this.loaded.set(id, live);
    }
    return live;
  }

  /** The loaded live state, if any; never reads the row. */
  peek(id: string): LiveState | undefined {
    return this.loaded.get(id);
  }

  /** A session's new live state (create, reset); `dirty` when its row does not hold it yet. */
  put(id: string, live: LiveState, dirty: boolean): void {
    this.loaded.set(id, live);
    this.snapshotted.delete(id);
    if (dirty) this.dirty.add(id);
  }

  /** Events were folded into the session's loaded state. */
  changed(id: string): void {
    this.dirty.add(id);
  }

  /** The session is gone. */
  drop(id: string): void {
    this.loaded.delete(id);
    this.dirty.delete(id);
    this.snapshotted.delete(id);
  }

  isDirty(id: string): boolean {
    return this.dirty.has(id);
  }

  /** Inside the caller's transaction: write every changed state into its row. Call `folded()` after COMMIT. */
  foldDirty(): void {
    for (const id of this.dirty) this.fold(id);
  }

  /** Inside the caller's transaction: write the session's live state into its row. */
  fold(id: string): void {
    const live = this.loaded.get(id);
    if (!live) return;
    const data = live.toData();
    const digest = stateDigest(data.state);
    this.db.run('UPDATE sessions SET live_state = ?, current_url = ?, current_title = ?, tab_count = ? WHERE id = ?', [
      JSON.stringify(data),
      digest.currentUrl,
      digest.currentTitle,
      digest.tabCount,
      id,
    ]);
  }

  /** After COMMIT: the session's row (or, with no id, every row) holds its live state. A rolled-back fold stays dirty. */
  folded(id?: string): void {
    if (id === undefined) this.dirty.clear();
    else this.dirty.delete(id);
  }

  /**
   * Whether the session's newest snapshot was taken from `live` as it is now. Never true after the
   * state changed: every change bumps its version, and a replaced state is another object.
   */
  unchangedSinceSnapshot(id: string, live: LiveState): boolean {
    const seen = this.snapshotted.get(id);
    return seen !== undefined && seen.live === live && seen.version === live.version;
  }

  /** The session's newest snapshot now has `live`'s content. */
  snapshotTakenFrom(id: string, live: LiveState): void {
    this.snapshotted.set(id, { live, version: live.version });
  }

  /** The session's newest snapshot is (about to be) one of a state the caller gave, not the live one. */
  forgetSnapshotSource(id: string): void {
    this.snapshotted.delete(id);
  }

  private load(id: string): LiveState {
    const row = one(this.db, 'SELECT live_state FROM sessions WHERE id = ?', [id]);
    if (!row) throw new RestoryError('unknown_session', `no session with id "${id}"; list them with: restory list`);
    let data: LiveStateData;
    try {
      data = JSON.parse(String(row.live_state)) as LiveStateData;
    } catch (e) {
      throw new RestoryError('storage_failed', `the live state of session "${id}" in ${this.dbPath} is not JSON`, { cause: e });
    }
    return LiveState.fromData(data);
  }
}
