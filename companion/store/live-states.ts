/**
 * The in-memory LiveState of each session the store is working with, and when its row catches up.
 *
 * A session's live state is kept as JSON in its own row (`session_live.live_state`, apart from the
 * `sessions` row, which SQLite rewrites whole on every status or activity update), written only when the state
 * is folded (at a checkpoint, or with a snapshot): between folds the journal is what makes the
 * changes durable. A state is loaded from its row on first use and kept while it is being captured
 * into; after a checkpoint has folded it, the state of a session that is neither `active` nor
 * `error` and had no change since the previous checkpoint is evicted (`evictIdle`): a closed session
 * holding megabytes of storage would otherwise stay in memory for the companion's lifetime. It is
 * loaded again from its row if anything asks.
 *
 * Also kept here: which live state (object and version) each session's newest snapshot was taken
 * from, so an interval snapshot of an idle session need not serialise and hash the whole state only
 * to find it unchanged. Eviction carries that knowledge over to the state reloaded from the row.
 *
 * The session's row keeps facts about it (`RowFacts`: when it was captured, how many tabs it shows,
 * and the newest snapshot whose content it equals), written with it. They let start-up
 * classify an orphaned session that nothing changed since its newest snapshot without parsing its
 * state — megabytes of storage for a session that only needs its verdict (session/orphans.ts).
 */
import type { Database } from 'sql.js';
import { RestoryError } from '../../shared/errors.js';
import type { SessionStatus } from '../../shared/state.js';
import { LiveState, type StoredLiveStateData } from '../session-state/live-state.js';
import { stateDigest } from './records.js';
import { one, type Row } from './sqljs-rows.js';
import { unknownSession } from './store.js';

/** Sessions whose live state stays loaded whatever their activity: they are (or may again be) captured into. */
const CAPTURING: readonly SessionStatus[] = ['active', 'error'];

/**
 * Which live state the newest snapshot was taken from: a loaded object at a version, or `'row'`
 * when that object was evicted unchanged, so the state its row holds is exactly the snapshot's.
 */
type SnapshotSource = { live: LiveState; version: number } | 'row';

/**
 * What a session's row says of its live state without parsing it (as of its last fold): undefined
 * when the row was written before these columns existed and has not been folded since.
 * `snapshotId`: the snapshot whose content the row's state equals (it was taken from exactly that
 * state), null when unknown or changed since; only meaningful while it is the session's newest.
 */
export interface RowFacts {
  capturedAt: number;
  tabCount: number;
  snapshotId: number | null;
}

/** How many LiveStates were parsed from rows: a probe for tests and benchmarks of what start-up loads. */
export const liveStateLoads = { count: 0 };

export class LiveStates {
  private loaded = new Map<string, LiveState>();
  /** Sessions whose LiveState changed since their row was written. */
  private dirty = new Set<string>();
  /** Sessions created, reset or fed events since the last eviction pass (the last checkpoint). */
  private touched = new Set<string>();
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
      if (this.snapshotted.get(id) === 'row') this.snapshotted.set(id, { live, version: live.version });
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
    this.touched.add(id);
    if (dirty) this.dirty.add(id);
  }

  /** Events were folded into the session's loaded state. */
  changed(id: string): void {
    this.dirty.add(id);
    this.touched.add(id);
  }

  /** The session is gone. */
  drop(id: string): void {
    this.loaded.delete(id);
    this.dirty.delete(id);
    this.touched.delete(id);
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
    const digest = stateDigest(live.layout());
    // live_snapshot_id: a changed state is no longer known to equal a snapshot (applySnapshot sets it
    // again when the fold is that of a snapshot taken from it).
    this.db.run('UPDATE session_live SET live_state = ? WHERE session_id = ?', [JSON.stringify(live.toData()), id]);
    this.db.run(
      `UPDATE sessions SET current_url = ?, current_title = ?, tab_count = ?,
         live_captured_at = ?, live_tab_count = ?, live_snapshot_id = NULL, live_instance_id = ? WHERE id = ?`,
      [digest.currentUrl, digest.currentTitle, digest.tabCount, live.capturedAt, digest.tabCount, live.instanceId ?? '', id],
    );
  }

  /**
   * Inside the caller's transaction, after the snapshot row and any fold: the row's state is exactly
   * that of snapshot `snapshotId` (null: the newest snapshot is of another state).
   */
  rowMatchesSnapshot(id: string, snapshotId: number | null): void {
    this.db.run('UPDATE sessions SET live_snapshot_id = ? WHERE id = ?', [snapshotId, id]);
  }

  /**
   * The row's facts about a session's live state while it is not loaded (see RowFacts): the row then
   * holds the state as it is. Undefined when it is loaded (ask it), unknown, or predates the columns.
   */
  rowFacts(id: string): RowFacts | undefined {
    if (this.loaded.has(id)) return undefined;
    const row = one(this.db, 'SELECT live_captured_at, live_tab_count, live_snapshot_id FROM sessions WHERE id = ?', [id]);
    if (!row || row.live_captured_at === null || row.live_tab_count === null) return undefined;
    return {
      capturedAt: Number(row.live_captured_at),
      tabCount: Number(row.live_tab_count),
      snapshotId: row.live_snapshot_id === null ? null : Number(row.live_snapshot_id),
    };
  }

  /**
   * Whether the session's live state was captured from extension instance `instanceId`: from the
   * state when it is loaded (it may be ahead of its row), else from its row (live_instance_id, '' for
   * none), parsing the state only for a row from before that column.
   */
  capturedBy(id: string, instanceId: string): boolean {
    const loaded = this.loaded.get(id);
    if (loaded) return loaded.instanceId === instanceId;
    const row = one(this.db, 'SELECT live_instance_id FROM sessions WHERE id = ?', [id]);
    if (row && row.live_instance_id !== null) return row.live_instance_id === instanceId;
    return this.get(id).instanceId === instanceId;
  }

  /** After COMMIT: the session's row (or, with no id, every row) holds its live state. A rolled-back fold stays dirty. */
  folded(id?: string): void {
    if (id === undefined) this.dirty.clear();
    else this.dirty.delete(id);
  }

  /**
   * Inside the checkpoint's transaction, after `foldDirty`: drop the loaded states nothing is
   * capturing into (see the header). Returns how many were dropped.
   */
  evictIdle(): number {
    let evicted = 0;
    for (const [id, live] of this.loaded) {
      if (this.dirty.has(id) || this.touched.has(id)) continue;
      const row = one(this.db, 'SELECT state, current_url, current_title, tab_count FROM sessions WHERE id = ?', [id]);
      if (!row || CAPTURING.includes(row.state as SessionStatus)) continue;
      this.keepSummary(id, live, row);
      const seen = this.snapshotted.get(id);
      if (seen !== undefined && seen !== 'row' && seen.live === live && seen.version === live.version) this.snapshotted.set(id, 'row');
      else this.snapshotted.delete(id);
      this.loaded.delete(id);
      evicted++;
    }
    this.touched.clear();
    return evicted;
  }

  /**
   * Whether the session's newest snapshot was taken from `live` as it is now. Never true after the
   * state changed: every change bumps its version, and a replaced state is another object.
   */
  unchangedSinceSnapshot(id: string, live: LiveState): boolean {
    const seen = this.snapshotted.get(id);
    return seen !== undefined && seen !== 'row' && seen.live === live && seen.version === live.version;
  }

  /** The session's newest snapshot now has `live`'s content. */
  snapshotTakenFrom(id: string, live: LiveState): void {
    this.snapshotted.set(id, { live, version: live.version });
  }

  /** The session's newest snapshot is (about to be) one of a state the caller gave, not the live one. */
  forgetSnapshotSource(id: string): void {
    this.snapshotted.delete(id);
  }

  /**
   * Listings show an unloaded session's summary columns and a loaded one's live digest; these can
   * differ after a snapshot of a caller-given state. Write the digest, so that eviction changes nothing shown.
   */
  private keepSummary(id: string, live: LiveState, row: Row): void {
    const digest = stateDigest(live.layout());
    const same =
      digest.currentUrl === row.current_url && digest.currentTitle === row.current_title && digest.tabCount === Number(row.tab_count);
    if (same) return;
    this.db.run('UPDATE sessions SET current_url = ?, current_title = ?, tab_count = ? WHERE id = ?', [
      digest.currentUrl,
      digest.currentTitle,
      digest.tabCount,
      id,
    ]);
  }

  private load(id: string): LiveState {
    liveStateLoads.count++;
    const row = one(this.db, 'SELECT live_state FROM session_live WHERE session_id = ?', [id]);
    if (!row) throw unknownSession(id);
    let data: StoredLiveStateData;
    try {
      data = JSON.parse(String(row.live_state)) as StoredLiveStateData;
    } catch (e) {
      throw new RestoryError('storage_failed', `the live state of session "${id}" in ${this.dbPath} is not JSON`, { cause: e });
    }
    return LiveState.fromData(data);
  }
}
