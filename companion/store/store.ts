/**
 * What the companion and the CLI need from a session store, whatever keeps it: today the embedded
 * sql.js file with its journal (sqljs-store.ts); a shared server later. Methods return
 * `Awaitable<T>` so the embedded store can answer synchronously (its unit tests use it so) while
 * a store over the network returns promises: callers always `await`.
 *
 * The store owns everything durable about a session: its record (name, lifecycle state, summary),
 * the live state that capture events are folded into, the capture cursor (which extension instance
 * feeds it and the newest sequence number folded in), and its versioned snapshots.
 */
import type { SequencedEvent } from '../../shared/capture-events.js';
import { RestoryError } from '../../shared/errors.js';
import type { SessionState, SessionStatus, SessionSummary, SnapshotReason } from '../../shared/state.js';
import type { Config } from '../config.js';
import type { KeySource } from './crypto.js';

export type Awaitable<T> = T | Promise<T>;

/** A session as listings show it; the summary (URL, title, tab count) is that of its newest state. */
export type SessionRecord = SessionSummary;

/** A snapshot without its state: what listings show. */
export interface SnapshotInfo {
  id: number;
  sessionId: string;
  takenAt: number;
  reason: SnapshotReason;
  hash: string;
  /** Size of the state's JSON. */
  bytes: number;
}

export interface SnapshotRecord extends SnapshotInfo {
  state: SessionState;
}

/**
 * Where a session's capture stream stands: events at or below `lastSeq` from the same extension
 * instance are duplicates (a resend after reconnect); another instance starts its own sequence.
 */
/** What `applyEvents` did with a batch. */
export interface AppliedEvents {
  accepted: number;
  lastSeq: number;
  resync: boolean;
}

export interface CaptureCursor {
  instanceId: string | null;
  lastSeq: number;
}

/**
 * The events of a batch that are new for `cursor` (CaptureCursor's rule), and the cursor's sequence
 * number after them. Both stores decide duplicates with this.
 */
export function newEvents(
  cursor: CaptureCursor,
  instanceId: string,
  events: SequencedEvent[],
): { accepted: SequencedEvent[]; lastSeq: number; sameInstance: boolean } {
  const sameInstance = cursor.instanceId === instanceId;
  let lastSeq = sameInstance ? cursor.lastSeq : 0;
  const accepted: SequencedEvent[] = [];
  for (const e of events) {
    if (e.seq > lastSeq) {
      accepted.push(e);
      lastSeq = e.seq;
    }
  }
  return { accepted, lastSeq, sameInstance };
}

/** What every store says for an id it does not hold. */
export function unknownSession(id: string): RestoryError {
  return new RestoryError('unknown_session', `no session with id "${id}"; list them with: restory list`);
}

/** What every store says when a session has no snapshot (`snapshotId` undefined: none at all). */
export function missingSnapshot(sessionId: string, snapshotId?: number): RestoryError {
  const what = snapshotId === undefined ? 'no snapshot yet' : `no snapshot ${snapshotId}`;
  return new RestoryError('invalid_state', `session "${sessionId}" has ${what}; list them with: restory snapshots ${sessionId}`);
}

/** Both stores refuse the same `keep` values. */
export function assertKeepCount(keep: number): void {
  if (!Number.isInteger(keep) || keep < 0) throw new RestoryError('bad_message', `keep must be a non-negative integer, got ${keep}`);
}

export interface StoreOptions {
  dataDir: string;
  /** No lock, no file written: loads the db and replays the journal in memory (`restory list`). */
  readOnly?: boolean;
  /**
   * With readOnly: mutations are allowed, but they only change the store in memory — nothing is
   * journaled or written, and they are gone at close. For previewing what a writer would make of
   * the store (session/orphan-preview.ts) without touching it.
   */
  inMemoryWrites?: boolean;
  clock?: () => number;
  config?: Partial<Config>;
  /** Where RESTORY_KEY / RESTORY_KEY_FILE are read; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** The encryption key itself (null: none), instead of reading it from `env`. */
  key?: KeySource | null;
}

export interface NewSession {
  name: string;
  id?: string;
  state?: SessionStatus;
  initial?: SessionState;
  storageLimit?: SessionRecord['storageLimit'];
}

export interface Store {
  readonly readOnly: boolean;

  // Sessions
  /**
   * A new session; `initial` is the state capture starts from (an import), else an empty one.
   * `storageLimit`: the session already reached its storage limit (`restory migrate` carries the mark over).
   */
  createSession(input: NewSession): Awaitable<SessionRecord>;
  getSession(id: string): Awaitable<SessionRecord | undefined>;
  /** Like getSession, but an unknown id is an `unknown_session` error that says how to list them. */
  requireSession(id: string): Awaitable<SessionRecord>;
  /** Newest activity first. */
  listSessions(filter?: { state?: SessionStatus }): Awaitable<SessionRecord[]>;
  /** Only `session/lifecycle.ts` calls this. `lastError`: undefined keeps the stored one, null clears it. */
  setState(id: string, state: SessionStatus, lastError?: string | null): Awaitable<void>;
  deleteSession(id: string): Awaitable<void>;

  // Live state and capture
  /** What has been captured so far: the newest snapshot plus every event acknowledged since. */
  currentState(id: string): Awaitable<SessionState>;
  /** When the newest captured state was captured; undefined when nothing ever was. */
  capturedAt(id: string): Awaitable<number | undefined>;
  captureCursor(id: string): Awaitable<CaptureCursor>;
  /** The session an extension instance (a browser profile) feeds, if any. */
  findSessionByInstance(instanceId: string): Awaitable<string | undefined>;
  /**
   * Fold a batch of capture events in, dropping duplicates (see CaptureCursor). Durable once `flush()`
   * resolves. `resync`: an event could not be folded in as sent (an IndexedDB delta on top of other
   * data than held); the extension should send everything again.
   */
  applyEvents(sessionId: string, instanceId: string, events: SequencedEvent[]): Awaitable<AppliedEvents>;
  /** Capture starts again from `state` (resume from a snapshot), with a fresh cursor. */
  resetLive(id: string, state: SessionState): Awaitable<void>;
  /** Resolves once every change made so far is durable. */
  flush(): Promise<void>;

  // Snapshots
  /**
   * Store a snapshot of the session (its live state unless `state` is given). Returns null and
   * stores nothing when the content equals the newest snapshot's. Prunes to the configured count.
   */
  saveSnapshot(sessionId: string, reason: SnapshotReason, opts?: { state?: SessionState }): Awaitable<SnapshotInfo | null>;
  latestSnapshot(sessionId: string): Awaitable<SnapshotRecord | undefined>;
  getSnapshot(sessionId: string, snapshotId: number): Awaitable<SnapshotRecord | undefined>;
  /** Like getSnapshot (newest when no id), but a missing one is an error that says how to find one. */
  requireSnapshot(sessionId: string, snapshotId?: number): Awaitable<SnapshotRecord>;
  /** Newest first, metadata and sizes only. */
  listSnapshots(sessionId: string): Awaitable<SnapshotInfo[]>;
  pruneSnapshots(sessionId: string, keep: number): Awaitable<number>;

  // Ownership (a shared store only; the embedded store's data-dir lock already makes its companion
  // the only writer, so it leaves these out).
  /**
   * This companion takes the session over (resume): exactly one of several companions racing
   * wins, the others get an `invalid_state` error. A session whose owner died is recovered first.
   */
  claimSession?(id: string): Awaitable<void>;
  /** Whether another live companion owns the session (so it is no orphan of ours). */
  heldElsewhere?(id: string): Awaitable<boolean>;

  /** Make everything durable and release the store (its lock, its connection). */
  close(): Promise<void>;
}
