/**
 * The embedded session store: sessions, their live state and versioned snapshots in an in-memory
 * sql.js database, durable across SIGKILL through a journal and checkpoints (checkpoint.ts).
 *
 *   sqljs-store.ts    opening (and its consistency loop), the public API: validation, then one
 *                     journal record per mutation
 *   checkpoint.ts     LSNs, journaling, replay at open, checkpoints and their timer
 *   apply-record.ts   what each journal record does to the database and the live states
 *   live-states.ts    the in-memory LiveState per session: lazy load, fold into its row, eviction
 *   snapshot-rows.ts  where snapshots and their shared blobs are written, pruned and read
 *   sqljs-rows.ts     query helpers, transactions, row → record mappers
 *
 * With RESTORY_KEY or RESTORY_KEY_FILE set, restory.db's file image and each journal record are
 * encrypted (crypto.ts). A plaintext data dir opened read-write with a key is migrated at once: the
 * open checkpoints, which writes restory.db encrypted and empties the plaintext journal.
 */
import { randomBytes } from 'node:crypto';
import type { Database } from 'sql.js';
import { RestoryError } from '../../shared/errors.js';
import type { SequencedEvent } from '../../shared/capture-events.js';
import { SessionStatusSchema, SnapshotReasonSchema, type SessionState, type SessionStatus, type SnapshotReason } from '../../shared/state.js';
import { LiveState } from '../session-state/live-state.js';
import { fitToLimit, mayExceedLimit } from '../session-state/storage-limit.js';
import { DEFAULT_CONFIG } from '../config.js';
import { assertDataDirUsable, dataPaths, ensureDataDir, type DataPaths } from '../data-dir.js';
import { debug } from '../debug.js';
import { splitState } from './blobs.js';
import { Checkpointer, readDataFiles } from './checkpoint.js';
import { keySourceFromEnv, type KeySource, type StoreCipher } from './crypto.js';
import { DataDirLock } from './data-dir-lock.js';
import { removeStaleTemps, tightenFileMode } from './files.js';
import { parseJournals } from './journal-format.js';
import { LiveStates } from './live-states.js';
import { getMeta } from './migrations.js';
import { sessionIndexPath } from './session-index.js';
import { contentHash, stateDigest } from './records.js';
import { countSnapshots, latestSnapshotInfo, listSnapshotInfos, nextSnapshotId, readSnapshot } from './snapshot-rows.js';
import { all, one, SESSION_COLUMNS, toSessionRecord } from './sqljs-rows.js';
import { assertKeepCount, missingSnapshot, newEvents, unknownSession, type AppliedEvents, type CaptureCursor, type NewSession, type SessionRecord, type SnapshotInfo, type SnapshotRecord, type Store, type StoreOptions } from './store.js';

const log = debug('store');

/**
 * The embedded store. Its methods answer synchronously (sql.js is in memory); through the `Store`
 * interface callers await them, as they must for a backend that is not.
 */
export class SqlJsStore implements Store {
  readonly paths: DataPaths;
  readonly readOnly: boolean;
  /** Read-only, but mutations change the in-memory database (StoreOptions.inMemoryWrites). */
  private readonly inMemoryWrites: boolean;
  private readonly clock: () => number;
  private readonly snapshotsKept: number;
  private readonly storageLimit: number;
  private readonly lives: LiveStates;
  private readonly checkpointer: Checkpointer;
  private lock: DataDirLock | null = null;
  private closed = false;

  private constructor(
    private readonly db: Database,
    opts: StoreOptions,
    foldedLsn: number,
    /** Encrypts what is written; null when no key is set. */
    cipher: StoreCipher | null,
    key: KeySource | null,
  ) {
    this.paths = dataPaths(opts.dataDir);
    this.readOnly = opts.readOnly ?? false;
    this.inMemoryWrites = this.readOnly && (opts.inMemoryWrites ?? false);
    this.clock = opts.clock ?? Date.now;
    this.snapshotsKept = opts.config?.snapshotsKept ?? DEFAULT_CONFIG.snapshotsKept;
    this.storageLimit = opts.config?.sessionMaxStorageBytes ?? DEFAULT_CONFIG.sessionMaxStorageBytes;
    this.lives = new LiveStates(db, this.paths.db);
    this.checkpointer = new Checkpointer({
      db,
      lives: this.lives,
      paths: this.paths,
      cipher,
      key,
      foldedLsn,
      checkpointIntervalMs: opts.config?.checkpointIntervalMs ?? DEFAULT_CONFIG.checkpointIntervalMs,
      journalMaxBytes: opts.config?.journalMaxBytes ?? DEFAULT_CONFIG.journalMaxBytes,
      inMemoryOnly: this.inMemoryWrites,
      isClosed: () => this.closed,
    });
  }

  static async open(opts: StoreOptions): Promise<SqlJsStore> {
    const paths = dataPaths(opts.dataDir);
    const readOnly = opts.readOnly ?? false;
    const key = opts.key !== undefined ? opts.key : keySourceFromEnv(opts.env ?? process.env);
    let lock: DataDirLock | null = null;
    if (readOnly) assertDataDirUsable(paths.dir, 'read');
    else {
      ensureDataDir(paths.dir);
      lock = DataDirLock.acquire(paths.lock, paths.dir);
    }
    let db: Database | undefined;
    try {
      const { opened, journals } = await readDataFiles(paths, key, readOnly);
      db = opened.db;
      const store = new SqlJsStore(db, opts, Number(getMeta(db, 'journal_lsn') ?? 0), opened.cipher, key);
      const parsed = parseJournals(journals, opened.cipher);
      for (const t of parsed.torn) log(`dropping a torn tail of ${t.bytes} bytes from ${t.file}`);
      const journalBytes = journals.reduce((n, j) => n + j.bytes.length, 0);
      store.checkpointer.replay(parsed.records);
      if (!readOnly) {
        store.lock = lock;
        removeStaleTemps(paths.db);
        removeStaleTemps(sessionIndexPath(paths.db));
        tightenFileMode(paths.db);
        store.checkpointer.openJournal();
        // Fold what was replayed (and cut any torn tail) before appending after it; a plaintext
        // data dir that now has a key is encrypted right here.
        const encrypting = opened.existed && !opened.encrypted && opened.cipher !== null;
        if (encrypting) log(`encrypting ${paths.db} and the journal (a key is set now)`);
        if (!opened.existed || journalBytes > 0 || opened.migrated.length > 0 || encrypting) store.checkpoint();
        store.checkpointer.startTimer();
      }
      return store;
    } catch (e) {
      db?.close();
      lock?.release();
      throw e;
    }
  }

  // --- Sessions ---

  createSession(input: NewSession): SessionRecord {
    this.assertWritable();
    const id = input.id ?? this.newSessionId();
    if (id.length === 0 || id.length > 200) throw new RestoryError('bad_message', 'a session id must be 1 to 200 characters');
    if (this.getSession(id)) throw new RestoryError('invalid_state', `a session with id "${id}" already exists`);
    const status = SessionStatusSchema.parse(input.state ?? 'active');
    const at = this.clock();
    const live = (input.initial ? LiveState.fromState(input.initial) : new LiveState(at)).toData();
    const lim = input.storageLimit ? { lim: { at: input.storageLimit.at, bytes: input.storageLimit.bytes } } : {};
    this.checkpointer.commit({ t: 'create', sid: id, name: input.name, status, at, live, ...lim });
    return this.requireSession(id);
  }

  getSession(id: string): SessionRecord | undefined {
    const row = one(this.db, `SELECT ${SESSION_COLUMNS} FROM sessions WHERE id = ?`, [id]);
    return row ? this.withLiveSummary(toSessionRecord(row)) : undefined;
  }

  requireSession(id: string): SessionRecord {
    const record = this.getSession(id);
    if (!record) throw unknownSession(id);
    return record;
  }

  /** Newest activity first. */
  listSessions(filter: { state?: SessionStatus } = {}): SessionRecord[] {
    const where = filter.state ? 'WHERE state = ?' : '';
    return all(
      this.db,
      `SELECT ${SESSION_COLUMNS} FROM sessions ${where} ORDER BY last_activity_at DESC, created_at DESC, id`,
      filter.state ? [filter.state] : [],
    ).map((r) => this.withLiveSummary(toSessionRecord(r)));
  }

  /** `lastError`: undefined keeps the stored one, null clears it. */
  setState(id: string, state: SessionStatus, lastError?: string | null): void {
    this.assertWritable();
    this.requireSession(id);
    SessionStatusSchema.parse(state);
    this.checkpointer.commit({ t: 'status', sid: id, status: state, ...(lastError !== undefined ? { err: lastError } : {}) });
  }

  deleteSession(id: string): void {
    this.assertWritable();
    this.requireSession(id);
    this.checkpointer.commit({ t: 'delete', sid: id });
  }

  // --- Live state and capture ---

  currentState(id: string): SessionState {
    return this.lives.get(id).toState();
  }

  captureCursor(id: string): CaptureCursor {
    const live = this.lives.get(id);
    return { instanceId: live.instanceId, lastSeq: live.lastSeq };
  }

  findSessionByInstance(instanceId: string): string | undefined {
    // From the rows: the user's own browser connecting must not parse every session's state.
    return this.listSessions().find((r) => this.lives.capturedBy(r.id, instanceId))?.id;
  }

  capturedAt(id: string): number | undefined {
    // An unloaded session's row answers without parsing its state (start-up asks this of every orphan).
    const facts = this.lives.rowFacts(id);
    if (facts) {
      if (facts.tabCount > 0 || this.rowMatchesNewestSnapshot(id, facts.snapshotId)) return facts.capturedAt;
      return this.latestSnapshot(id)?.state.capturedAt;
    }
    const live = this.lives.get(id);
    // Age is that of the newest captured state, not of any snapshot record written for it.
    return live.layout().tabs.length > 0 ? live.capturedAt : this.latestSnapshot(id)?.state.capturedAt;
  }

  resetLive(id: string, state: SessionState): void {
    this.assertWritable();
    this.requireSession(id);
    this.checkpointer.commit({ t: 'reset', sid: id, live: LiveState.fromState(state).toData() });
  }

  /**
   * Fold a batch of capture events into the session. Events at or below the stored seq of the same
   * extension instance are duplicates (a resend after reconnect) and are dropped; a different
   * instance starts its own sequence. Durable once `flush()` resolves.
   *
   * A batch that could take the session past its storage limit is journaled an event at a time,
   * each cut down (storage-limit.ts) against the state the ones before it left: what the journal
   * holds is what was folded in, so replay needs no limit. An event cut to nothing is not journaled;
   * its seq is acknowledged all the same, so the extension does not send it again.
   */
  applyEvents(sessionId: string, instanceId: string, events: SequencedEvent[]): AppliedEvents {
    this.assertWritable();
    const live = this.lives.get(sessionId);
    const { accepted, lastSeq: last, sameInstance } = newEvents(live, instanceId, events);
    if (!mayExceedLimit(live, accepted, this.storageLimit)) {
      if (accepted.length > 0 || !sameInstance) {
        this.checkpointer.commit({ t: 'events', sid: sessionId, inst: instanceId, at: this.clock(), evs: accepted });
      }
      return { accepted: accepted.length, lastSeq: last, resync: this.lives.get(sessionId).takeResync() };
    }
    const at = this.clock();
    let journaled = false;
    for (const e of accepted) {
      const fitted = fitToLimit(live, e.event, this.storageLimit);
      // Nothing left to fold in, and the session is already marked: nothing to journal.
      if (!fitted.event && (!fitted.cut || this.storageLimitReached(sessionId))) continue;
      const evs = fitted.event ? [fitted.event === e.event ? e : { ...e, event: fitted.event }] : [];
      this.checkpointer.commit({ t: 'events', sid: sessionId, inst: instanceId, at, evs, ...(fitted.cut ? { lim: this.storageLimit } : {}) });
      journaled = true;
    }
    if (!journaled && !sameInstance) this.checkpointer.commit({ t: 'events', sid: sessionId, inst: instanceId, at, evs: [] });
    return { accepted: accepted.length, lastSeq: last, resync: this.lives.get(sessionId).takeResync() };
  }

  /** Resolves once every mutation made so far is on disk. */
  flush(): Promise<void> {
    if (this.readOnly) return Promise.resolve();
    return this.checkpointer.flush();
  }

  // --- Snapshots ---

  /**
   * Store a snapshot of the session (its live state unless `state` is given). Returns null and
   * stores nothing when the content equals the newest snapshot's. Prunes to `snapshotsKept`.
   */
  saveSnapshot(sessionId: string, reason: SnapshotReason, opts: { state?: SessionState } = {}): SnapshotRecord | null {
    this.assertWritable();
    this.requireSession(sessionId);
    SnapshotReasonSchema.parse(reason);
    // An unloaded state its row says is the newest snapshot's, exactly: unchanged, and not parsed to
    // find that out (a recovery snapshot of every orphan at start-up would otherwise load them all).
    if (!opts.state && this.rowMatchesNewestSnapshot(sessionId, this.lives.rowFacts(sessionId)?.snapshotId)) return null;
    const live = opts.state ? null : this.lives.get(sessionId);
    if (!live) this.lives.forgetSnapshotSource(sessionId); // the newest snapshot will not be the live state's
    // Interval snapshots of an idle session would serialise and hash the whole state (0.5 s for
    // 5 MB of localStorage) only to find it unchanged: skip that when no event came in since.
    if (live && this.lives.unchangedSinceSnapshot(sessionId, live)) return null;
    const state = opts.state ?? live!.toState();
    const hash = contentHash(state);
    if (latestSnapshotInfo(this.db, sessionId)?.hash === hash) {
      if (live) this.lives.snapshotTakenFrom(sessionId, live);
      return null;
    }
    const id = nextSnapshotId(this.db);
    const at = this.clock();
    const stored = splitState(state);
    this.checkpointer.commit(
      { t: 'snapshot', sid: sessionId, id, reason, at, hash, keep: this.snapshotsKept, ...(opts.state ? { state } : {}) },
      { state, stored },
    );
    if (live) this.lives.snapshotTakenFrom(sessionId, live);
    return { id, sessionId, takenAt: at, reason, hash, bytes: stored.bytes, state };
  }

  latestSnapshot(sessionId: string): SnapshotRecord | undefined {
    const info = latestSnapshotInfo(this.db, sessionId);
    return info ? this.getSnapshot(sessionId, info.id) : undefined;
  }

  /** undefined when the session has no snapshot with that id (like getSession). */
  getSnapshot(sessionId: string, snapshotId: number): SnapshotRecord | undefined {
    return readSnapshot(this.db, sessionId, snapshotId, this.paths.db);
  }

  /** Like getSnapshot, but an unknown session or snapshot is an error that says how to find one. */
  requireSnapshot(sessionId: string, snapshotId?: number): SnapshotRecord {
    this.requireSession(sessionId);
    const snap = snapshotId === undefined ? this.latestSnapshot(sessionId) : this.getSnapshot(sessionId, snapshotId);
    if (!snap) throw missingSnapshot(sessionId, snapshotId);
    return snap;
  }

  /** Newest first, metadata and sizes only; load one's state with getSnapshot. */
  listSnapshots(sessionId: string): SnapshotInfo[] {
    return listSnapshotInfos(this.db, sessionId);
  }

  /** Keep the newest `keep` snapshots of the session; returns how many were deleted. */
  pruneSnapshots(sessionId: string, keep: number): number {
    this.assertWritable();
    assertKeepCount(keep);
    const count = countSnapshots(this.db, sessionId);
    if (count <= keep) return 0;
    this.checkpointer.commit({ t: 'prune', sid: sessionId, keep });
    return count - keep;
  }

  // --- Durability ---

  /** Fold the journal into restory.db now (checkpoint.ts); it also runs on a timer and at close. */
  checkpoint(): void {
    this.assertWritable();
    if (this.readOnly) return; // in-memory writes: there is nothing to fold into
    this.checkpointer.checkpoint();
  }

  /**
   * Start a checkpoint the way the timer does (off the event loop when a worker is available,
   * checkpoint.ts) and resolve when no background checkpoint runs any more. For tests and benchmarks.
   */
  async checkpointInBackground(): Promise<void> {
    this.assertWritable();
    if (this.readOnly) return;
    this.checkpointer.startBackgroundCheckpoint();
    await this.checkpointer.idle();
  }

  /** Final checkpoint, stop the timer, release the lock. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.checkpointer.stopTimer();
    try {
      await this.checkpointer.finish();
    } finally {
      this.closed = true;
      this.lock?.release();
      this.lock = null;
      this.db.close();
    }
  }

  /** Whether `snapshotId` (from the row's facts) is the session's newest snapshot. */
  private rowMatchesNewestSnapshot(id: string, snapshotId: number | null | undefined): boolean {
    return snapshotId != null && latestSnapshotInfo(this.db, id)?.id === snapshotId;
  }

  private storageLimitReached(id: string): boolean {
    return one(this.db, 'SELECT storage_limited_at FROM sessions WHERE id = ?', [id])?.storage_limited_at != null;
  }

  /** A loaded live state is newer than the summary columns, which are written only when it is folded. */
  private withLiveSummary(record: SessionRecord): SessionRecord {
    const live = this.lives.peek(record.id);
    return live ? { ...record, ...stateDigest(live.layout()) } : record;
  }

  private assertWritable(): void {
    if (this.closed) throw new RestoryError('invalid_state', 'the store is closed');
    if (this.readOnly && !this.inMemoryWrites) throw new RestoryError('invalid_state', `the store at ${this.paths.dir} was opened read-only`);
  }

  private newSessionId(): string {
    for (;;) {
      const id = randomBytes(4).toString('hex');
      if (!this.getSession(id)) return id;
    }
  }
}
