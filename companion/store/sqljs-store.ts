/**
 * The session store: sessions, their live state and versioned snapshots, durable across SIGKILL.
 *
 * Every mutation is appended to journal.log (checksummed records with increasing LSNs) and applied
 * to the in-memory sql.js database and LiveState objects. `flush()` group-commits the journal.
 * A checkpoint folds the live states into their rows, records the LSN it covers in `meta`, persists
 * restory.db atomically and then empties the journal; opening replays only records past that LSN,
 * so a crash anywhere in between loses nothing. Persisting is O(database size), so it runs on a
 * timer and when the journal grows large — never per event.
 *
 * With RESTORY_KEY or RESTORY_KEY_FILE set, restory.db's file image and each journal record are
 * encrypted (crypto.ts). A plaintext data dir opened read-write with a key is migrated at once: the
 * open checkpoints, which writes restory.db encrypted and empties the plaintext journal.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Database, SqlValue } from 'sql.js';
import { RestoryError } from '../../shared/errors.js';
import type { SequencedEvent } from '../../shared/capture-events.js';
import { SessionStatusSchema, SnapshotReasonSchema, type SessionState, type SessionStatus, type SnapshotReason } from '../../shared/state.js';
import { LiveState, type LiveStateData } from '../session-state/live-state.js';
import { DEFAULT_CONFIG, type Config } from '../config.js';
import { dataPaths, ensureDataDir, type DataPaths } from '../data-dir.js';
import { keySourceFromEnv, type KeySource, type StoreCipher } from './crypto.js';
import { DataDirLock } from './data-dir-lock.js';
import { tightenFileMode } from './files.js';
import { openDatabase, persistDatabase } from './database.js';
import { debug } from '../debug.js';
import { encodeRecord, parseJournal, type JournalEntry, type JournalRecord } from './journal-format.js';
import { JournalWriter } from './journal.js';
import { getMeta, setMeta } from './migrations.js';
import { contentHash, stateDigest } from './records.js';
import type { CaptureCursor, SessionRecord, SnapshotInfo, SnapshotRecord, Store, StoreOptions } from './store.js';
import { joinState, splitState, type StoredState } from './blobs.js';


const log = debug('store');

type Row = Record<string, SqlValue>;

const SESSION_COLUMNS =
  'id, name, state, created_at, last_activity_at, last_snapshot_at, current_url, current_title, tab_count, last_error';
const SNAPSHOT_COLUMNS = 'id, session_id, taken_at, reason, content_hash, state_bytes';

/** A session's row; its summary columns are as of the last fold (`SqlJsStore.withLiveSummary` freshens them). */
function toSessionRecord(r: Row): SessionRecord {
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
    lastError: r.last_error === null ? null : String(r.last_error),
  };
}

function toSnapshotInfo(r: Row): SnapshotInfo {
  return {
    id: Number(r.id),
    sessionId: String(r.session_id),
    takenAt: Number(r.taken_at),
    reason: r.reason as SnapshotReason,
    hash: String(r.content_hash),
    bytes: Number(r.state_bytes),
  };
}

/** A computed snapshot handed from `saveSnapshot` to `applyRecord`, so it is not computed twice. */
interface Prepared {
  state: SessionState;
  /** Its row JSON and blobs (blobs.ts). */
  stored: StoredState;
}

/**
 * The embedded store. Its methods answer synchronously (sql.js is in memory); through the `Store`
 * interface callers await them, as they must for a backend that is not.
 */
export class SqlJsStore implements Store {
  readonly paths: DataPaths;
  readonly readOnly: boolean;
  private readonly clock: () => number;
  private readonly config: Pick<Config, 'snapshotsKept' | 'checkpointIntervalMs' | 'journalMaxBytes'>;
  private lives = new Map<string, LiveState>();
  /** Sessions whose LiveState changed since their row was written. */
  private dirty = new Set<string>();
  /** The live state (object and version) each session's newest snapshot was taken from. */
  private snapshotted = new Map<string, { live: LiveState; version: number }>();
  /** Last LSN assigned, and the last one folded into restory.db. */
  private lsn: number;
  private foldedLsn: number;
  private journal: JournalWriter | null = null;
  private lock: DataDirLock | null = null;
  private timer: NodeJS.Timeout | null = null;
  private checkpointQueued = false;
  private closed = false;
  private replaying = false;

  private constructor(
    private readonly db: Database,
    opts: StoreOptions,
    foldedLsn: number,
    /** Encrypts what is written; null when no key is set. */
    private readonly cipher: StoreCipher | null,
  ) {
    this.paths = dataPaths(opts.dataDir);
    this.readOnly = opts.readOnly ?? false;
    this.clock = opts.clock ?? Date.now;
    this.config = {
      snapshotsKept: opts.config?.snapshotsKept ?? DEFAULT_CONFIG.snapshotsKept,
      checkpointIntervalMs: opts.config?.checkpointIntervalMs ?? DEFAULT_CONFIG.checkpointIntervalMs,
      journalMaxBytes: opts.config?.journalMaxBytes ?? DEFAULT_CONFIG.journalMaxBytes,
    };
    this.lsn = this.foldedLsn = foldedLsn;
  }

  static async open(opts: StoreOptions): Promise<SqlJsStore> {
    const paths = dataPaths(opts.dataDir);
    const readOnly = opts.readOnly ?? false;
    const key = opts.key !== undefined ? opts.key : keySourceFromEnv(opts.env ?? process.env);
    let lock: DataDirLock | null = null;
    if (!readOnly) {
      ensureDataDir(paths.dir);
      lock = DataDirLock.acquire(paths.lock, paths.dir);
    }
    let db: Database | undefined;
    try {
      // A read-only open runs beside a live companion, which may fold the journal between our reads
      // of the db and of the journal: if the db file changed meanwhile (checkpoints rename a new one
      // in before truncating the journal), the pair is inconsistent, so read both again.
      let opened: Awaited<ReturnType<typeof openDatabase>>;
      let journalBytes: Buffer;
      for (let attempt = 1; ; attempt++) {
        const before = fileIdentity(paths.db);
        opened = await openDatabase(paths.db, key);
        journalBytes = readJournal(paths.journal);
        if (!readOnly || fileIdentity(paths.db) === before || attempt >= 20) break;
        opened.db.close();
      }
      db = opened.db;
      const store = new SqlJsStore(db, opts, Number(getMeta(db, 'journal_lsn') ?? 0), opened.cipher);
      const parsed = parseJournal(journalBytes, paths.journal, opened.cipher);
      if (parsed.tornBytes > 0) log(`dropping a torn tail of ${parsed.tornBytes} bytes from ${paths.journal}`);
      store.replay(parsed.records);
      if (!readOnly) {
        store.lock = lock;
        removeStaleTemps(paths);
        tightenFileMode(paths.db);
        store.journal = JournalWriter.open(paths.journal, store.lsn);
        // Fold what was replayed (and cut any torn tail) before appending after it; a plaintext
        // data dir that now has a key is encrypted right here.
        const encrypting = opened.existed && !opened.encrypted && opened.cipher !== null;
        if (encrypting) log(`encrypting ${paths.db} and the journal (a key is set now)`);
        if (!opened.existed || journalBytes.length > 0 || opened.migrated.length > 0 || encrypting) store.checkpoint();
        store.startTimer();
      }
      return store;
    } catch (e) {
      db?.close();
      lock?.release();
      throw e;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Sessions
  // -------------------------------------------------------------------------------------------

  createSession(input: { name: string; id?: string; state?: SessionStatus; initial?: SessionState }): SessionRecord {
    this.assertWritable();
    const id = input.id ?? this.newSessionId();
    if (id.length === 0 || id.length > 200) throw new RestoryError('bad_message', 'a session id must be 1 to 200 characters');
    if (this.getSession(id)) throw new RestoryError('invalid_state', `a session with id "${id}" already exists`);
    const status = SessionStatusSchema.parse(input.state ?? 'active');
    const at = this.clock();
    const live = (input.initial ? LiveState.fromState(input.initial) : new LiveState(at)).toData();
    this.commit({ t: 'create', sid: id, name: input.name, status, at, live });
    return this.requireSession(id);
  }

  getSession(id: string): SessionRecord | undefined {
    const row = this.one(`SELECT ${SESSION_COLUMNS} FROM sessions WHERE id = ?`, [id]);
    return row ? this.withLiveSummary(toSessionRecord(row)) : undefined;
  }

  requireSession(id: string): SessionRecord {
    const record = this.getSession(id);
    if (!record) throw new RestoryError('unknown_session', `no session with id "${id}"; list them with: restory list`);
    return record;
  }

  /** Newest activity first. */
  listSessions(filter: { state?: SessionStatus } = {}): SessionRecord[] {
    const where = filter.state ? 'WHERE state = ?' : '';
    return this.all(
      `SELECT ${SESSION_COLUMNS} FROM sessions ${where} ORDER BY last_activity_at DESC, created_at DESC, id`,
      filter.state ? [filter.state] : [],
    ).map((r) => this.withLiveSummary(toSessionRecord(r)));
  }

  /** `lastError`: undefined keeps the stored one, null clears it. */
  setState(id: string, state: SessionStatus, lastError?: string | null): void {
    this.assertWritable();
    this.requireSession(id);
    SessionStatusSchema.parse(state);
    this.commit({ t: 'status', sid: id, status: state, ...(lastError !== undefined ? { err: lastError } : {}) });
  }

  deleteSession(id: string): void {
    this.assertWritable();
    this.requireSession(id);
    this.commit({ t: 'delete', sid: id });
  }

  currentState(id: string): SessionState {
    return this.live(id).toState();
  }

  captureCursor(id: string): CaptureCursor {
    const live = this.live(id);
    return { instanceId: live.instanceId, lastSeq: live.lastSeq };
  }

  findSessionByInstance(instanceId: string): string | undefined {
    return this.listSessions().find((r) => this.live(r.id).instanceId === instanceId)?.id;
  }

  capturedAt(id: string): number | undefined {
    const live = this.live(id);
    // Age is that of the newest captured state, not of any snapshot record written for it.
    return live.layout().tabs.length > 0 ? live.capturedAt : this.latestSnapshot(id)?.state.capturedAt;
  }

  /** The in-memory live state of a session, loaded from its row on first use. */
  private live(id: string): LiveState {
    let live = this.lives.get(id);
    if (!live) {
      const row = this.one('SELECT live_state FROM sessions WHERE id = ?', [id]);
      if (!row) throw new RestoryError('unknown_session', `no session with id "${id}"; list them with: restory list`);
      let data: LiveStateData;
      try {
        data = JSON.parse(String(row.live_state)) as LiveStateData;
      } catch (e) {
        throw new RestoryError('storage_failed', `the live state of session "${id}" in ${this.paths.db} is not JSON`, { cause: e });
      }
      live = LiveState.fromData(data);
      this.lives.set(id, live);
    }
    return live;
  }

  resetLive(id: string, state: SessionState): void {
    this.assertWritable();
    this.requireSession(id);
    this.commit({ t: 'reset', sid: id, live: LiveState.fromState(state).toData() });
  }

  /**
   * Fold a batch of capture events into the session. Events at or below the stored seq of the same
   * extension instance are duplicates (a resend after reconnect) and are dropped; a different
   * instance starts its own sequence. Durable once `flush()` resolves.
   */
  applyEvents(sessionId: string, instanceId: string, events: SequencedEvent[]): { accepted: number; lastSeq: number } {
    this.assertWritable();
    const live = this.live(sessionId);
    const sameInstance = live.instanceId === instanceId;
    let last = sameInstance ? live.lastSeq : 0;
    const accepted: SequencedEvent[] = [];
    for (const e of events) {
      if (e.seq > last) {
        accepted.push(e);
        last = e.seq;
      }
    }
    if (accepted.length > 0 || !sameInstance) {
      this.commit({ t: 'events', sid: sessionId, inst: instanceId, at: this.clock(), evs: accepted });
    }
    return { accepted: accepted.length, lastSeq: last };
  }

  /** Resolves once every mutation made so far is on disk. */
  flush(): Promise<void> {
    if (this.readOnly || !this.journal) return Promise.resolve();
    return this.journal.flush();
  }

  // -------------------------------------------------------------------------------------------
  // Snapshots
  // -------------------------------------------------------------------------------------------

  /**
   * Store a snapshot of the session (its live state unless `state` is given). Returns null and
   * stores nothing when the content equals the newest snapshot's. Prunes to `snapshotsKept`.
   */
  saveSnapshot(sessionId: string, reason: SnapshotReason, opts: { state?: SessionState } = {}): SnapshotRecord | null {
    this.assertWritable();
    this.requireSession(sessionId);
    SnapshotReasonSchema.parse(reason);
    const live = opts.state ? null : this.live(sessionId);
    if (!live) this.snapshotted.delete(sessionId); // the newest snapshot will not be the live state's
    // Interval snapshots of an idle session would serialise and hash the whole state (0.5 s for
    // 5 MB of localStorage) only to find it unchanged: skip that when no event came in since.
    const seen = live ? this.snapshotted.get(sessionId) : undefined;
    if (live && seen?.live === live && seen.version === live.version) return null;
    const state = opts.state ?? live!.toState();
    const hash = contentHash(state);
    const remember = () => live && this.snapshotted.set(sessionId, { live, version: live.version });
    if (this.latestSnapshotInfo(sessionId)?.hash === hash) {
      remember();
      return null;
    }
    const id = this.nextSnapshotId();
    const at = this.clock();
    const stored = splitState(state);
    this.commit(
      { t: 'snapshot', sid: sessionId, id, reason, at, hash, keep: this.config.snapshotsKept, ...(opts.state ? { state } : {}) },
      { state, stored },
    );
    remember();
    return { id, sessionId, takenAt: at, reason, hash, bytes: stored.bytes, state };
  }

  latestSnapshot(sessionId: string): SnapshotRecord | undefined {
    const info = this.latestSnapshotInfo(sessionId);
    return info ? this.getSnapshot(sessionId, info.id) : undefined;
  }

  /** undefined when the session has no snapshot with that id (like getSession). */
  getSnapshot(sessionId: string, snapshotId: number): SnapshotRecord | undefined {
    const row = this.one(`SELECT ${SNAPSHOT_COLUMNS}, state FROM session_snapshots WHERE session_id = ? AND id = ?`, [
      sessionId,
      snapshotId,
    ]);
    if (!row) return undefined;
    const state = joinState(String(row.state), (hash) => this.blobData(hash), `snapshot ${snapshotId} of session "${sessionId}" in ${this.paths.db}`);
    return { ...toSnapshotInfo(row), state };
  }

  /** Like getSnapshot, but an unknown session or snapshot is an error that says how to find one. */
  requireSnapshot(sessionId: string, snapshotId?: number): SnapshotRecord {
    this.requireSession(sessionId);
    const snap = snapshotId === undefined ? this.latestSnapshot(sessionId) : this.getSnapshot(sessionId, snapshotId);
    if (!snap) {
      const what = snapshotId === undefined ? 'no snapshot yet' : `no snapshot ${snapshotId}`;
      throw new RestoryError('invalid_state', `session "${sessionId}" has ${what}; list them with: restory snapshots ${sessionId}`);
    }
    return snap;
  }

  /** Newest first, metadata and sizes only; load one's state with getSnapshot. */
  listSnapshots(sessionId: string): SnapshotInfo[] {
    return this.all(
      `SELECT ${SNAPSHOT_COLUMNS} FROM session_snapshots WHERE session_id = ? ORDER BY taken_at DESC, id DESC`,
      [sessionId],
    ).map(toSnapshotInfo);
  }

  /** Keep the newest `keep` snapshots of the session; returns how many were deleted. */
  pruneSnapshots(sessionId: string, keep: number): number {
    this.assertWritable();
    if (!Number.isInteger(keep) || keep < 0) throw new RestoryError('bad_message', `keep must be a non-negative integer, got ${keep}`);
    const count = Number(this.one('SELECT count(*) AS n FROM session_snapshots WHERE session_id = ?', [sessionId])?.n ?? 0);
    if (count <= keep) return 0;
    this.commit({ t: 'prune', sid: sessionId, keep });
    return count - keep;
  }

  // -------------------------------------------------------------------------------------------
  // Durability
  // -------------------------------------------------------------------------------------------

  /**
   * Fold the journal into restory.db: write dirty live states into their rows, record the LSN,
   * persist atomically, then empty the journal. Synchronous, so no append interleaves.
   */
  checkpoint(): void {
    this.assertWritable();
    if (!this.journal) throw new RestoryError('internal', 'store has no journal');
    const started = performance.now();
    const lsn = this.lsn;
    this.db.run('BEGIN');
    try {
      for (const id of this.dirty) this.foldLive(id);
      setMeta(this.db, 'journal_lsn', lsn);
      this.db.run('COMMIT');
    } catch (e) {
      this.db.run('ROLLBACK');
      throw e;
    }
    this.dirty.clear();
    const folded = performance.now();
    const size = persistDatabase(this.db, this.paths.db, this.cipher);
    this.foldedLsn = lsn;
    this.journal.truncateAfterCheckpoint(lsn);
    const end = performance.now();
    log(`checkpoint at LSN ${lsn}: ${size} bytes, fold ${(folded - started).toFixed(1)} ms + persist ${(end - folded).toFixed(1)} ms`);
  }

  /** Final checkpoint, stop the timer, release the lock. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    try {
      if (this.journal) {
        await this.journal.drain();
        this.checkpoint();
      }
    } finally {
      await this.journal?.close();
      this.closed = true;
      this.journal = null;
      this.lock?.release();
      this.lock = null;
      this.db.close();
    }
  }

  // -------------------------------------------------------------------------------------------
  // Internals
  // -------------------------------------------------------------------------------------------

  /** A loaded live state is newer than the summary columns, which are written only when it is folded. */
  private withLiveSummary(record: SessionRecord): SessionRecord {
    const live = this.lives.get(record.id);
    return live ? { ...record, ...stateDigest(live.layout()) } : record;
  }

  private assertWritable(): void {
    if (this.closed) throw new RestoryError('invalid_state', 'the store is closed');
    if (this.readOnly && !this.replaying) {
      throw new RestoryError('invalid_state', `the store at ${this.paths.dir} was opened read-only`);
    }
  }

  /** Journal the entry, then apply it. Callers validate first: applying must not fail. */
  private commit(entry: JournalEntry, prepared?: Prepared): void {
    const record = { ...entry, lsn: this.lsn + 1 } as JournalRecord;
    const bytes = encodeRecord(record, this.cipher);
    this.applyRecord(record, prepared);
    this.lsn = record.lsn;
    this.journal!.append(record.lsn, bytes);
    if (this.journal!.bytes >= this.config.journalMaxBytes) this.queueCheckpoint();
  }

  private replay(records: JournalRecord[]): void {
    this.replaying = true;
    try {
      for (const r of records) {
        if (r.lsn <= this.foldedLsn) continue; // already in restory.db (crash between rename and truncate)
        if (r.lsn !== this.lsn + 1) {
          throw new RestoryError(
            'storage_failed',
            `${this.paths.journal} continues at LSN ${r.lsn} but ${this.paths.db} ends at LSN ${this.lsn}: the two files do not belong together. ` +
              'Both were left untouched; restore the matching pair from a backup, or move the journal aside to keep only the database.',
          );
        }
        try {
          this.applyRecord(r);
        } catch (e) {
          throw new RestoryError(
            'storage_failed',
            `cannot replay record LSN ${r.lsn} (${r.t}) of ${this.paths.journal}: ${(e as Error).message}. The file was left untouched.`,
            { cause: e },
          );
        }
        this.lsn = r.lsn;
      }
    } finally {
      this.replaying = false;
    }
    if (records.length > 0) log(`replayed up to LSN ${this.lsn} from ${this.paths.journal}`);
  }

  private applyRecord(r: JournalRecord, prepared?: Prepared): void {
    switch (r.t) {
      case 'create': {
        const digest = stateDigest(r.live.state);
        this.db.run(
          `INSERT INTO sessions (id, name, state, created_at, last_activity_at, current_url, current_title, tab_count, live_state)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [r.sid, r.name, r.status, r.at, r.at, digest.currentUrl, digest.currentTitle, digest.tabCount, JSON.stringify(r.live)],
        );
        this.lives.set(r.sid, LiveState.fromData(r.live));
        return;
      }
      case 'events': {
        const live = this.live(r.sid);
        if (live.instanceId !== r.inst) {
          live.instanceId = r.inst;
          live.lastSeq = 0;
        }
        for (const e of r.evs) {
          live.apply(e.event, e.at);
          live.lastSeq = e.seq;
        }
        this.db.run('UPDATE sessions SET last_activity_at = max(last_activity_at, ?) WHERE id = ?', [r.at, r.sid]);
        this.dirty.add(r.sid);
        return;
      }
      case 'reset':
        this.lives.set(r.sid, LiveState.fromData(r.live));
        this.dirty.add(r.sid);
        return;
      case 'status':
        if (r.err !== undefined) this.db.run('UPDATE sessions SET state = ?, last_error = ? WHERE id = ?', [r.status, r.err, r.sid]);
        else this.db.run('UPDATE sessions SET state = ? WHERE id = ?', [r.status, r.sid]);
        return;
      case 'delete':
        this.transaction(() => {
          const hashes = this.blobsOf('SELECT id FROM session_snapshots WHERE session_id = ?', [r.sid]);
          this.db.run('DELETE FROM sessions WHERE id = ?', [r.sid]); // cascades to snapshots and their blob refs
          this.deleteOrphanBlobs(hashes);
        });
        this.lives.delete(r.sid);
        this.dirty.delete(r.sid);
        return;
      case 'snapshot':
        this.applySnapshot(r, prepared);
        return;
      case 'prune':
        this.transaction(() => this.prune(r.sid, r.keep));
        return;
    }
  }

  private applySnapshot(r: Extract<JournalRecord, { t: 'snapshot' }>, prepared?: Prepared): void {
    let snap = prepared;
    let hash = r.hash;
    if (!snap) {
      const state = r.state ?? this.live(r.sid).toState();
      snap = { state, stored: splitState(state) };
      hash = contentHash(state);
      // Replay rebuilds the state from the events before it; a mismatch means LiveState's
      // serialisation lost something. Keep what was rebuilt, under its own hash.
      if (hash !== r.hash) log(`snapshot ${r.id} of ${r.sid}: replayed state differs from the original (hash mismatch)`);
    }
    const digest = stateDigest(snap.state);
    this.db.run('BEGIN');
    try {
      const { json, blobs, bytes } = snap.stored;
      this.db.run(
        'INSERT INTO session_snapshots (id, session_id, taken_at, reason, state, content_hash, state_bytes) VALUES (?, ?, ?, ?, ?, ?, ?)',
        [r.id, r.sid, r.at, r.reason, json, hash, bytes],
      );
      for (const [blobHash, data] of blobs) {
        // Check first: handing sql.js a string that is already stored copies megabytes for nothing.
        if (!this.one('SELECT 1 AS x FROM snapshot_blobs WHERE hash = ?', [blobHash])) {
          this.db.run('INSERT INTO snapshot_blobs (hash, data, bytes) VALUES (?, ?, ?)', [blobHash, data, Buffer.byteLength(data)]);
        }
        this.db.run('INSERT INTO snapshot_blob_refs (snapshot_id, hash) VALUES (?, ?)', [r.id, blobHash]);
      }
      this.db.run('UPDATE sessions SET last_snapshot_at = ?, current_url = ?, current_title = ?, tab_count = ? WHERE id = ?', [
        r.at,
        digest.currentUrl,
        digest.currentTitle,
        digest.tabCount,
        r.sid,
      ]);
      if (this.dirty.has(r.sid)) this.foldLive(r.sid);
      this.prune(r.sid, r.keep);
      this.db.run('COMMIT');
    } catch (e) {
      this.db.run('ROLLBACK');
      throw e;
    }
    // Only after COMMIT: a rolled-back fold must stay dirty.
    this.dirty.delete(r.sid);
  }

  /** Write a session's live state into its row (inside the caller's transaction). */
  private foldLive(id: string): void {
    const live = this.lives.get(id);
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

  /** Inside the caller's transaction: the blobs only the pruned snapshots used go with them. */
  private prune(sessionId: string, keep: number): void {
    const doomed = `SELECT id FROM session_snapshots WHERE session_id = ? AND id NOT IN
         (SELECT id FROM session_snapshots WHERE session_id = ? ORDER BY taken_at DESC, id DESC LIMIT ?)`;
    const hashes = this.blobsOf(doomed, [sessionId, sessionId, keep]);
    this.db.run(`DELETE FROM session_snapshots WHERE id IN (${doomed})`, [sessionId, sessionId, keep]);
    this.deleteOrphanBlobs(hashes);
  }

  /** The blobs the snapshots that `ids` (a SELECT of snapshot ids) selects refer to. */
  private blobsOf(ids: string, params: SqlValue[]): string[] {
    return this.all(`SELECT DISTINCT hash FROM snapshot_blob_refs WHERE snapshot_id IN (${ids})`, params).map((r) => String(r.hash));
  }

  /** Of `hashes`, delete the blobs no snapshot refers to any more (refs go with their snapshots, by cascade). */
  private deleteOrphanBlobs(hashes: string[]): void {
    for (const hash of hashes) {
      this.db.run('DELETE FROM snapshot_blobs WHERE hash = ? AND NOT EXISTS (SELECT 1 FROM snapshot_blob_refs WHERE hash = ?)', [hash, hash]);
    }
  }

  private blobData(hash: string): string | undefined {
    const row = this.one('SELECT data FROM snapshot_blobs WHERE hash = ?', [hash]);
    return row ? String(row.data) : undefined;
  }

  private transaction(fn: () => void): void {
    this.db.run('BEGIN');
    try {
      fn();
      this.db.run('COMMIT');
    } catch (e) {
      this.db.run('ROLLBACK');
      throw e;
    }
  }

  private latestSnapshotInfo(sessionId: string): SnapshotInfo | undefined {
    const row = this.one(
      `SELECT ${SNAPSHOT_COLUMNS} FROM session_snapshots WHERE session_id = ? ORDER BY taken_at DESC, id DESC LIMIT 1`,
      [sessionId],
    );
    return row ? toSnapshotInfo(row) : undefined;
  }

  /** AUTOINCREMENT: ids are never reused, even after the newest snapshot is deleted. */
  private nextSnapshotId(): number {
    const seq = this.one("SELECT seq FROM sqlite_sequence WHERE name = 'session_snapshots'", []);
    return Number(seq?.seq ?? 0) + 1;
  }

  private newSessionId(): string {
    for (;;) {
      const id = randomBytes(4).toString('hex');
      if (!this.getSession(id)) return id;
    }
  }

  private queueCheckpoint(): void {
    if (this.checkpointQueued) return;
    this.checkpointQueued = true;
    setImmediate(() => {
      this.checkpointQueued = false;
      this.backgroundCheckpoint();
    });
  }

  private startTimer(): void {
    this.timer = setInterval(() => this.backgroundCheckpoint(), this.config.checkpointIntervalMs);
    this.timer.unref();
  }

  /** A failed background checkpoint loses nothing: the journal still holds every record. */
  private backgroundCheckpoint(): void {
    if (this.closed || this.lsn === this.foldedLsn) return;
    try {
      this.checkpoint();
    } catch (e) {
      log(`checkpoint failed, will retry: ${(e as Error).message}`);
    }
  }

  private all(sql: string, params: SqlValue[]): Row[] {
    const stmt = this.db.prepare(sql);
    try {
      stmt.bind(params);
      const rows: Row[] = [];
      while (stmt.step()) rows.push(stmt.getAsObject());
      return rows;
    } finally {
      stmt.free();
    }
  }

  private one(sql: string, params: SqlValue[]): Row | undefined {
    return this.all(sql, params)[0];
  }
}

function readJournal(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return Buffer.alloc(0);
    throw new RestoryError('storage_failed', `cannot read ${file}: ${(e as Error).message}`, { cause: e });
  }
}

/** Temp files of a persist that a crash interrupted (we hold the lock, so none is in progress). */
function removeStaleTemps(paths: DataPaths): void {
  if (!existsSync(paths.dir)) return;
  for (const name of readdirSync(paths.dir)) {
    if (name.startsWith('.restory.db.tmp-')) {
      try {
        unlinkSync(join(paths.dir, name));
      } catch {
        // harmless leftover
      }
    }
  }
}

/** Changes whenever a checkpoint renames a new database file into place. */
function fileIdentity(path: string): string {
  try {
    const st = statSync(path);
    return `${st.ino}:${st.size}:${st.mtimeMs}`;
  } catch {
    return 'missing';
  }
}
