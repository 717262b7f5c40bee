/**
 * The shared session store: sessions, live state, capture cursor and versioned snapshots in a
 * PostgreSQL database that many companions (on many machines) open at once. Schema and migrations
 * in pg-migrations.ts; connecting, retries and URL redaction in pg-connection.ts.
 *
 * Writes go through one FIFO queue per store, each item in its own transaction; consecutive capture
 * batches are coalesced into one transaction with one multi-row INSERT (group commit). A batch is
 * acknowledged (`flush()` resolves) only after its transaction committed. While the server is
 * unreachable a transaction is retried (reconnecting) for `retryForMs`; then it fails with one line
 * naming the server (no password), and the sessions it touched are reloaded from the database, so
 * nothing unacknowledged passes for stored and a resend is not dropped as a duplicate.
 *
 * Capture batches are the shared store's journal: `capture_batches` rows, folded into the session's
 * `live_state` (and deleted) with every snapshot, reset and at close. Any companion reading a
 * session rebuilds its live state from the row plus the batches after it.
 *
 * Ownership: one companion at a time captures into a live session. It holds a lease on the row
 * (`owner_id`, `lease_expires_at` on the server's clock) renewed every leaseMs/3; every capture
 * write is fenced by it. An `active` session whose lease expired is shown `recoverable` to every
 * companion; `claimSession` (resume) takes the lease in one UPDATE whose WHERE admits only a free
 * or expired lease, so of two companions resuming at once exactly one wins. A lease row rather than
 * an advisory lock: a session-level advisory lock belongs to one connection, so a pool that
 * reconnects after a server restart silently loses it, and a half-open connection keeps it until
 * TCP notices; a lease on the server's clock survives reconnects, fences writes with a plain WHERE,
 * and every reader sees with a plain query whether a session's owner is alive.
 *
 * With RESTORY_KEY (or RESTORY_KEY_FILE) every payload (live state, capture batches, snapshot
 * states and blobs) is sealed here (crypto.ts) before it is sent: the server never holds cookie or
 * storage values. Names, URLs and titles of the summary columns stay plain, as listings need them.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { z } from 'zod';
import { RestoryError } from '../../shared/errors.js';
import { SequencedEventSchema, type SequencedEvent } from '../../shared/capture-events.js';
import {
  SessionStateSchema,
  SessionStatusSchema,
  SnapshotReasonSchema,
  type SessionState,
  type SessionStatus,
  type SnapshotReason,
} from '../../shared/state.js';
import { LiveState, type LiveStateData } from '../session-state/live-state.js';
import { fitToLimit, mayExceedLimit } from '../session-state/storage-limit.js';
import { DEFAULT_CONFIG, type Config } from '../config.js';
import { debug } from '../debug.js';
import { joinState, splitState } from './blobs.js';
import { isEncrypted, keyMissing, keySourceFromEnv, saltOf, StoreCipher, type KeySource } from './crypto.js';
import { createPool, isRetryable, unreachable } from './pg-connection.js';
import { redactUrl } from './store-url.js';
import { PG_LATEST_SCHEMA_VERSION, pgMigrate, pgSchemaVersion } from './pg-migrations.js';
import { contentHash, errorLine, stateDigest, storageLimitOf } from './records.js';
import { assertKeepCount, missingSnapshot, newEvents, unknownSession, type AppliedEvents, type CaptureCursor, type NewSession, type SessionRecord, type SnapshotInfo, type SnapshotRecord, type Store } from './store.js';

const log = debug('pg-store');

export interface PgStoreOptions {
  url: string;
  /** Nothing is written (list, export, snapshots): no heartbeat, mutations refused. */
  readOnly?: boolean;
  clock?: () => number;
  config?: Partial<Config>;
  env?: NodeJS.ProcessEnv;
  key?: KeySource | null;
  /** Who holds leases taken through this store; default a random id per open. */
  ownerId?: string;
  /** How long a write keeps retrying while the server is unreachable. */
  retryForMs?: number;
  /** Called once the store is closed (open-store.ts releases the data-dir lock). */
  onClose?: () => void;
}

// --- Rows read back (a boundary: parsed, not trusted) ---

const num = z.coerce.number();
const SessionRowSchema = z.object({
  id: z.string(),
  name: z.string(),
  shown_state: SessionStatusSchema,
  created_at: num,
  last_activity_at: num,
  last_snapshot_at: num.nullable(),
  current_url: z.string().nullable(),
  current_title: z.string().nullable(),
  tab_count: num,
  last_error: z.string().nullable(),
  storage_limited_at: num.nullable(),
  storage_limit_bytes: num.nullable(),
});
const SnapshotRowSchema = z.object({
  id: num,
  session_id: z.string(),
  taken_at: num,
  reason: SnapshotReasonSchema,
  content_hash: z.string(),
  state_bytes: num,
});
/**
 * A stored live state (only the current form is ever written here): the fields checked are those
 * that place it; cookies, storage and tabs are checked by shape, their items as LiveState reads them.
 */
const LiveDataSchema = z.looseObject({
  format: z.literal(2),
  cookies: z.array(z.unknown()),
  local: z.array(z.unknown()),
  tabs: z.array(z.unknown()),
  windows: z.array(z.unknown()),
  instanceId: z.string().nullable(),
  lastSeq: z.number(),
  capturedAt: z.number(),
});
const BatchEventsSchema = z.array(SequencedEventSchema);

/**
 * An `active` session whose lease is neither ours nor alive lost its companion: shown `recoverable`.
 * $1 is this store's owner id.
 */
const SHOWN = `
  SELECT id, name, created_at, last_activity_at, last_snapshot_at, current_url, current_title, tab_count,
    storage_limited_at, storage_limit_bytes,
    CASE WHEN state = 'active' AND owner_id IS DISTINCT FROM $1 AND (owner_id IS NULL OR lease_expires_at < now())
      THEN 'recoverable' ELSE state END AS shown_state,
    CASE WHEN state = 'active' AND owner_id IS DISTINCT FROM $1 AND (owner_id IS NULL OR lease_expires_at < now())
      THEN coalesce(last_error, 'its companion stopped while the session was active') ELSE last_error END AS last_error
  FROM sessions`;
const SNAPSHOT_COLUMNS = 'id, session_id, taken_at, reason, content_hash, state_bytes';

function toRecord(row: unknown): SessionRecord {
  const r = SessionRowSchema.parse(row);
  return {
    id: r.id,
    name: r.name,
    state: r.shown_state,
    createdAt: r.created_at,
    lastActivityAt: r.last_activity_at,
    lastSnapshotAt: r.last_snapshot_at,
    currentUrl: r.current_url,
    currentTitle: r.current_title,
    tabCount: r.tab_count,
    lastError: r.last_error === null ? null : errorLine(r.last_error),
    ...storageLimitOf(r.storage_limited_at, r.storage_limit_bytes),
  };
}

function toInfo(row: unknown): SnapshotInfo {
  const r = SnapshotRowSchema.parse(row);
  return { id: r.id, sessionId: r.session_id, takenAt: r.taken_at, reason: r.reason, hash: r.content_hash, bytes: r.state_bytes };
}

// --- The write queue ---

interface EventsOp {
  kind: 'events';
  sid: string;
  inst: string;
  at: number;
  evs: SequencedEvent[];
  /** The events were cut down to this storage limit (storage-limit.ts): the session is marked. */
  lim?: number;
  digest: ReturnType<typeof stateDigest>;
  done: Deferred;
}
interface TxOp {
  kind: 'tx';
  /** Sessions whose cached live state is wrong if this fails. */
  sids: string[];
  run: (c: PoolClient) => Promise<void>;
  done: Deferred;
}
type Op = EventsOp | TxOp;

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (e: Error) => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  promise.catch(() => {}); // observed by flush() or the caller; never an unhandled rejection
  return { promise, resolve, reject };
}

/** Most capture batches in one transaction: bounds the statement's size and the retry's cost. */
const MAX_GROUP = 200;

export class PgStore implements Store {
  readonly readOnly: boolean;
  /** The URL without its password, for messages. */
  readonly where: string;
  readonly ownerId: string;
  private readonly clock: () => number;
  private readonly snapshotsKept: number;
  private readonly storageLimit: number;
  private readonly leaseMs: number;
  private readonly retryForMs: number;
  /** Live states of the sessions this store captures into (created, reset, fed or claimed here). */
  private readonly lives = new Map<string, LiveState>();
  /** live.version when the session's newest snapshot was taken from it: an idle session is not re-hashed. */
  private readonly snapshotVersion = new Map<string, { live: LiveState; version: number }>();
  private readonly queue: Op[] = [];
  private readonly pending = new Set<Promise<void>>();
  private draining: Promise<void> | null = null;
  /** A capture batch that failed since the last flush: that flush must not resolve as if it were stored. */
  private eventsFailed: Error | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly onClose: () => void;

  private constructor(
    private readonly pool: Pool,
    opts: PgStoreOptions,
    private readonly cipher: StoreCipher | null,
  ) {
    this.onClose = opts.onClose ?? (() => {});
    this.readOnly = opts.readOnly ?? false;
    this.where = redactUrl(opts.url);
    this.ownerId = opts.ownerId ?? randomUUID();
    this.clock = opts.clock ?? Date.now;
    this.snapshotsKept = opts.config?.snapshotsKept ?? DEFAULT_CONFIG.snapshotsKept;
    this.storageLimit = opts.config?.sessionMaxStorageBytes ?? DEFAULT_CONFIG.sessionMaxStorageBytes;
    this.leaseMs = opts.config?.leaseMs ?? DEFAULT_CONFIG.leaseMs;
    this.retryForMs = opts.retryForMs ?? 60_000;
  }

  /** Connect, migrate (unless read-only), check the key; a server that is down is one clear error. */
  static async open(opts: PgStoreOptions): Promise<PgStore> {
    const where = redactUrl(opts.url);
    const pool = createPool(opts.url);
    try {
      let client: PoolClient;
      try {
        client = await pool.connect();
      } catch (e) {
        throw unreachable(where, e);
      }
      let cipher: StoreCipher | null;
      try {
        if (opts.readOnly) {
          // A read-only command writes no session data and creates no schema; one older than this
          // restory reads is migrated first (as the next writer would), a newer one refused.
          const version = await pgSchemaVersion(client);
          if (version === 0) throw new RestoryError('storage_failed', `the PostgreSQL store at ${where} has no restory schema yet; a companion (restory start --store …) creates it`);
          if (version !== PG_LATEST_SCHEMA_VERSION) await pgMigrate(client, where); // refuses a newer schema
        } else await pgMigrate(client, where);
        const key = opts.key !== undefined ? opts.key : keySourceFromEnv(opts.env ?? process.env);
        cipher = await PgStore.keyCheck(client, key, where, opts.readOnly ?? false);
      } finally {
        client.release();
      }
      const store = new PgStore(pool, opts, cipher);
      if (!store.readOnly) store.startHeartbeat();
      return store;
    } catch (e) {
      await pool.end().catch(() => {});
      throw e;
    }
  }

  /**
   * The database remembers a sealed marker once a key was used: a wrong key is told apart at open,
   * and a writer without the key is refused (it would store plaintext beside sealed rows).
   */
  private static async keyCheck(client: PoolClient, key: KeySource | null, where: string, readOnly: boolean): Promise<StoreCipher | null> {
    const row = await client.query<{ value: string }>("SELECT value FROM restory_meta WHERE key = 'key_check'");
    const marker = row.rows[0] ? Buffer.from(row.rows[0].value, 'base64') : null;
    if (!key) {
      if (marker && !readOnly) throw keyMissing(`the PostgreSQL store at ${where}`);
      return null;
    }
    if (marker) {
      const cipher = new StoreCipher(key, saltOf(marker));
      cipher.open(marker, 'postgres value', `the PostgreSQL store at ${where}`);
      return cipher;
    }
    const cipher = new StoreCipher(key, randomBytes(16));
    if (readOnly) return cipher;
    const sealed = cipher.seal(Buffer.from('restory'), 'postgres value').toString('base64');
    const inserted = await client.query("INSERT INTO restory_meta (key, value) VALUES ('key_check', $1) ON CONFLICT (key) DO NOTHING", [sealed]);
    // Another companion set the key at the same moment: check ours against its marker.
    return inserted.rowCount === 1 ? cipher : PgStore.keyCheck(client, key, where, readOnly);
  }

  // --- Sessions ---

  async createSession(input: NewSession): Promise<SessionRecord> {
    this.assertWritable();
    const id = input.id ?? randomBytes(4).toString('hex');
    if (id.length === 0 || id.length > 200) throw new RestoryError('bad_message', 'a session id must be 1 to 200 characters');
    const status = SessionStatusSchema.parse(input.state ?? 'active');
    const at = this.clock();
    const live = input.initial ? LiveState.fromState(input.initial) : new LiveState(at);
    const digest = stateDigest(live.layout());
    const data = this.seal(JSON.stringify(live.toData()));
    let exists = false;
    await this.write([], async (c) => {
      const r = await c.query(
        `INSERT INTO sessions (id, name, state, created_at, last_activity_at, current_url, current_title, tab_count, live_state, instance_id, owner_id, lease_expires_at,
           storage_limited_at, storage_limit_bytes)
         VALUES ($1, $2, $3, $4, $4, $5, $6, $7, $8, $9, $10, now() + $11 * interval '1 millisecond', $12, $13)
         ON CONFLICT (id) DO NOTHING`,
        [id, input.name, status, at, digest.currentUrl, digest.currentTitle, digest.tabCount, data, live.instanceId, this.ownerId, this.leaseMs,
          input.storageLimit?.at ?? null, input.storageLimit?.bytes ?? null],
      );
      exists = r.rowCount === 0;
    });
    if (exists) throw new RestoryError('invalid_state', `a session with id "${id}" already exists`);
    this.lives.set(id, live);
    return this.requireSession(id);
  }

  async getSession(id: string): Promise<SessionRecord | undefined> {
    const rows = await this.read(`${SHOWN} WHERE id = $2`, [this.ownerId, id]);
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  async requireSession(id: string): Promise<SessionRecord> {
    const record = await this.getSession(id);
    if (!record) throw unknownSession(id);
    return record;
  }

  async listSessions(filter: { state?: SessionStatus } = {}): Promise<SessionRecord[]> {
    const where = filter.state ? 'WHERE shown_state = $2' : '';
    const rows = await this.read(
      `SELECT * FROM (${SHOWN}) s ${where} ORDER BY last_activity_at DESC, created_at DESC, id`,
      filter.state ? [this.ownerId, filter.state] : [this.ownerId],
    );
    return rows.map(toRecord);
  }

  async setState(id: string, state: SessionStatus, lastError?: string | null): Promise<void> {
    this.assertWritable();
    SessionStatusSchema.parse(state);
    await this.requireSession(id);
    // Leaving active/error ends this companion's claim: anyone may resume it now. Becoming active
    // takes the lease when it is free (resume claimed it already; an own-profile browser came back).
    const release = state !== 'active' && state !== 'error';
    await this.write([], async (c) => {
      await c.query(
        `UPDATE sessions SET state = $2, last_error = CASE WHEN $3 THEN $4 ELSE last_error END,
           owner_id = CASE
             WHEN $5 THEN (CASE WHEN owner_id = $6 THEN NULL ELSE owner_id END)
             WHEN owner_id IS NULL OR lease_expires_at < now() THEN $6 ELSE owner_id END,
           lease_expires_at = CASE
             WHEN $5 THEN (CASE WHEN owner_id = $6 THEN NULL ELSE lease_expires_at END)
             WHEN owner_id IS NULL OR owner_id = $6 OR lease_expires_at < now() THEN now() + $7 * interval '1 millisecond'
             ELSE lease_expires_at END
         WHERE id = $1`,
        [id, state, lastError !== undefined, lastError ?? null, release, this.ownerId, this.leaseMs],
      );
    });
  }

  async deleteSession(id: string): Promise<void> {
    this.assertWritable();
    await this.requireSession(id);
    await this.write([id], async (c) => {
      const hashes = await blobsOf(c, 'SELECT id FROM session_snapshots WHERE session_id = $1', [id]);
      await c.query('DELETE FROM sessions WHERE id = $1', [id]); // cascades to batches, snapshots, refs
      await deleteOrphanBlobs(c, hashes);
    });
    this.lives.delete(id);
    this.snapshotVersion.delete(id);
  }

  // --- Ownership ---

  /**
   * Take the session's lease for this companion (resume). Exactly one of several companions racing
   * wins; the others get an `invalid_state` error naming the session. Taking over an `active`
   * session from a dead owner first folds what it captured into a `recovery` snapshot (as a
   * companion does with its own orphans at start-up), so resume restores everything acknowledged.
   */
  async claimSession(id: string): Promise<void> {
    this.assertWritable();
    await this.requireSession(id);
    let took: { state: string } | undefined;
    await this.write([id], async (c) => {
      const r = await c.query<{ state: string }>(
        `UPDATE sessions SET owner_id = $2, lease_expires_at = now() + $3 * interval '1 millisecond'
         WHERE id = $1 AND (owner_id IS NULL OR owner_id = $2 OR lease_expires_at < now())
         RETURNING state`,
        [id, this.ownerId, this.leaseMs],
      );
      took = r.rows[0];
    });
    if (!took) {
      throw new RestoryError(
        'invalid_state',
        `session ${id} is in use by another companion (it holds the session's lease); wait until that one stops, or until its lease of ${this.leaseMs} ms runs out after it died`,
      );
    }
    this.lives.delete(id); // whatever we had cached may be older than the previous owner's writes
    if (took.state === 'active') {
      await this.saveSnapshot(id, 'recovery');
      await this.setStateKeepingLease(id, 'recoverable', 'its companion stopped while the session was active');
    }
  }

  /** Whether another companion holds a live lease on the session (its orphan is not ours to recover). */
  async heldElsewhere(id: string): Promise<boolean> {
    const rows = await this.read('SELECT 1 FROM sessions WHERE id = $1 AND owner_id <> $2 AND lease_expires_at >= now()', [id, this.ownerId]);
    return rows.length > 0;
  }

  private async setStateKeepingLease(id: string, state: SessionStatus, lastError: string): Promise<void> {
    await this.write([], async (c) => {
      await c.query('UPDATE sessions SET state = $2, last_error = $3 WHERE id = $1', [id, state, lastError]);
    });
  }

  // --- Live state and capture ---

  async currentState(id: string): Promise<SessionState> {
    return (await this.live(id)).toState();
  }

  async capturedAt(id: string): Promise<number | undefined> {
    const live = await this.live(id);
    return live.layout().tabs.length > 0 ? live.capturedAt : (await this.latestSnapshot(id))?.state.capturedAt;
  }

  async captureCursor(id: string): Promise<CaptureCursor> {
    const live = await this.live(id);
    return { instanceId: live.instanceId, lastSeq: live.lastSeq };
  }

  async findSessionByInstance(instanceId: string): Promise<string | undefined> {
    for (const [id, live] of this.lives) if (live.instanceId === instanceId) return id;
    const rows = await this.read('SELECT id FROM sessions WHERE instance_id = $1 ORDER BY last_activity_at DESC LIMIT 1', [instanceId]);
    return rows[0] ? z.string().parse(rows[0].id) : undefined;
  }

  /** Fold the batch into the live state now; it is durable (and may be acknowledged) once `flush()` resolves. */
  async applyEvents(sessionId: string, instanceId: string, events: SequencedEvent[]): Promise<AppliedEvents> {
    this.assertWritable();
    let live = this.lives.get(sessionId);
    if (!live) {
      live = await this.load(sessionId);
      this.lives.set(sessionId, live);
    }
    const { accepted, lastSeq: last, sameInstance } = newEvents(live, instanceId, events);
    if (accepted.length > 0 || !sameInstance) {
      if (!sameInstance) {
        live.instanceId = instanceId;
        live.lastSeq = 0;
      }
      // Near the storage limit each event is cut down against the state the ones before it left
      // (storage-limit.ts); the batch row holds the cut events, so a reload needs no limit. An event
      // cut to nothing is left out of the row and acknowledged all the same.
      const limited = mayExceedLimit(live, accepted, this.storageLimit);
      let cut = false;
      const evs: SequencedEvent[] = [];
      for (const e of accepted) {
        const fitted = limited ? fitToLimit(live, e.event, this.storageLimit) : { event: e.event, cut: false };
        cut ||= fitted.cut;
        if (!fitted.event) continue;
        live.apply(fitted.event, e.at);
        live.lastSeq = e.seq;
        evs.push(fitted.event === e.event ? e : { ...e, event: fitted.event });
      }
      const op: EventsOp = {
        kind: 'events',
        sid: sessionId,
        inst: instanceId,
        at: this.clock(),
        evs,
        ...(cut ? { lim: this.storageLimit } : {}),
        digest: stateDigest(live.layout()),
        done: deferred(),
      };
      this.enqueue(op);
    }
    return { accepted: accepted.length, lastSeq: last, resync: live.takeResync() };
  }

  async resetLive(id: string, state: SessionState): Promise<void> {
    this.assertWritable();
    await this.requireSession(id);
    const live = LiveState.fromState(state);
    this.lives.set(id, live);
    this.snapshotVersion.delete(id);
    await this.write([id], (c) => this.foldInto(c, id, live));
  }

  /**
   * Resolves once every write queued so far committed; rejects with the first that failed —
   * including a capture batch that failed before this call (its caller had no promise to watch).
   */
  async flush(): Promise<void> {
    await Promise.all([...this.pending]);
    const failed = this.eventsFailed;
    this.eventsFailed = null;
    if (failed) throw failed;
  }

  // --- Snapshots ---

  async saveSnapshot(sessionId: string, reason: SnapshotReason, opts: { state?: SessionState } = {}): Promise<SnapshotInfo | null> {
    this.assertWritable();
    await this.requireSession(sessionId);
    SnapshotReasonSchema.parse(reason);
    let live: LiveState | null = null;
    if (!opts.state) {
      live = this.lives.get(sessionId) ?? (await this.load(sessionId));
      const seen = this.snapshotVersion.get(sessionId);
      if (seen && seen.live === live && seen.version === live.version) return null;
    } else this.snapshotVersion.delete(sessionId);
    const state = opts.state ?? live!.toState();
    // The version this state was taken at: capture goes on folding into `live` while the awaits below
    // run, and what arrives meanwhile is not in this snapshot, so the next one must not pass for
    // unchanged (it did: a tab opened during a snapshot reached no later snapshot until the next change).
    const taken = live ? { live, version: live.version } : null;
    const hash = contentHash(state);
    const latest = await this.latestInfo(sessionId);
    if (latest?.hash === hash) {
      if (taken) this.snapshotVersion.set(sessionId, taken);
      return null;
    }
    const at = this.clock();
    const stored = splitState(state);
    const digest = stateDigest(state);
    const sealedState = this.seal(stored.json);
    // Capture keeps folding into a cached live state; fold the row only for a state we hold.
    const fold = live && this.lives.get(sessionId) === live ? live : null;
    const foldData = fold ? this.seal(JSON.stringify(fold.toData())) : null;
    const keep = this.snapshotsKept;
    let id = 0;
    await this.write([sessionId], async (c) => {
      const r = await c.query<{ id: string }>(
        'INSERT INTO session_snapshots (session_id, taken_at, reason, state, content_hash, state_bytes) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id',
        [sessionId, at, reason, sealedState, hash, stored.bytes],
      );
      id = Number(r.rows[0].id);
      const hashes = [...stored.blobs.keys()];
      if (hashes.length > 0) {
        const have = new Set((await c.query<{ hash: string }>('SELECT hash FROM snapshot_blobs WHERE hash = ANY($1)', [hashes])).rows.map((b) => b.hash));
        const missing = hashes.filter((h) => !have.has(h));
        if (missing.length > 0) {
          const datas = missing.map((h) => stored.blobs.get(h)!);
          await c.query(
            'INSERT INTO snapshot_blobs (hash, data, bytes) SELECT * FROM unnest($1::text[], $2::bytea[], $3::bigint[]) ON CONFLICT (hash) DO NOTHING',
            [missing, datas.map((d) => this.seal(d)), datas.map((d) => Buffer.byteLength(d))],
          );
        }
        await c.query('INSERT INTO snapshot_blob_refs (snapshot_id, hash) SELECT $1, unnest($2::text[])', [id, hashes]);
      }
      await c.query('UPDATE sessions SET last_snapshot_at = $2, current_url = $3, current_title = $4, tab_count = $5 WHERE id = $1', [
        sessionId,
        at,
        digest.currentUrl,
        digest.currentTitle,
        digest.tabCount,
      ]);
      if (fold && foldData) await this.foldRow(c, sessionId, fold, foldData);
      await pruneRows(c, sessionId, keep);
    });
    if (taken) this.snapshotVersion.set(sessionId, taken);
    return { id, sessionId, takenAt: at, reason, hash, bytes: stored.bytes };
  }

  async latestSnapshot(sessionId: string): Promise<SnapshotRecord | undefined> {
    const info = await this.latestInfo(sessionId);
    return info ? this.getSnapshot(sessionId, info.id) : undefined;
  }

  async getSnapshot(sessionId: string, snapshotId: number): Promise<SnapshotRecord | undefined> {
    await this.idle();
    const c = await this.connect();
    try {
      await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const rows = (await c.query(`SELECT ${SNAPSHOT_COLUMNS}, state FROM session_snapshots WHERE session_id = $1 AND id = $2`, [sessionId, snapshotId])).rows;
      if (!rows[0]) return undefined;
      const blobs = await c.query<{ hash: string; data: Buffer }>(
        'SELECT b.hash, b.data FROM snapshot_blob_refs r JOIN snapshot_blobs b USING (hash) WHERE r.snapshot_id = $1',
        [snapshotId],
      );
      await c.query('COMMIT');
      const what = `snapshot ${snapshotId} of session "${sessionId}" in ${this.where}`;
      const data = new Map(blobs.rows.map((b) => [b.hash, this.unseal(b.data, what)]));
      const json = this.unseal(z.instanceof(Buffer).parse(rows[0].state), what);
      const state = SessionStateSchema.parse(joinState(json, (h) => data.get(h), what));
      return { ...toInfo(rows[0]), state };
    } finally {
      c.release();
    }
  }

  async requireSnapshot(sessionId: string, snapshotId?: number): Promise<SnapshotRecord> {
    await this.requireSession(sessionId);
    const snap = snapshotId === undefined ? await this.latestSnapshot(sessionId) : await this.getSnapshot(sessionId, snapshotId);
    if (!snap) throw missingSnapshot(sessionId, snapshotId);
    return snap;
  }

  async listSnapshots(sessionId: string): Promise<SnapshotInfo[]> {
    const rows = await this.read(`SELECT ${SNAPSHOT_COLUMNS} FROM session_snapshots WHERE session_id = $1 ORDER BY taken_at DESC, id DESC`, [sessionId]);
    return rows.map(toInfo);
  }

  async pruneSnapshots(sessionId: string, keep: number): Promise<number> {
    this.assertWritable();
    assertKeepCount(keep);
    let deleted = 0;
    await this.write([], async (c) => {
      deleted = await pruneRows(c, sessionId, keep);
    });
    return deleted;
  }

  // --- Durability ---

  /** Fold the live states we hold, release our leases, disconnect. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
    try {
      if (!this.readOnly) {
        for (const [id, live] of this.lives) {
          await this.write([], (c) => this.foldInto(c, id, live)).catch((e: Error) => log('final fold of', id, 'failed:', e.message));
        }
        await this.write([], async (c) => {
          await c.query('UPDATE sessions SET owner_id = NULL, lease_expires_at = NULL WHERE owner_id = $1', [this.ownerId]);
        }).catch((e: Error) => log('releasing leases failed:', e.message));
        await this.flush().catch(() => {});
      }
    } finally {
      this.closed = true;
      await this.pool.end().catch(() => {});
      this.onClose();
    }
  }

  // --- Internals ---

  private startHeartbeat(): void {
    this.heartbeat = setInterval(() => {
      this.pool
        .query(`UPDATE sessions SET lease_expires_at = now() + $2 * interval '1 millisecond' WHERE owner_id = $1`, [this.ownerId, this.leaseMs])
        .catch((e: Error) => log('lease heartbeat failed:', e.message));
    }, Math.max(100, Math.floor(this.leaseMs / 3)));
    this.heartbeat.unref();
  }

  /** The session's live state: ours if we capture into it, else rebuilt from its row and batches. */
  private async live(id: string): Promise<LiveState> {
    return this.lives.get(id) ?? this.load(id);
  }

  /** Row + unfolded batches, read in one snapshot of the database. */
  private async load(id: string): Promise<LiveState> {
    await this.idle();
    const c = await this.connect();
    try {
      await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const row = (await c.query<{ live_state: Buffer }>('SELECT live_state FROM sessions WHERE id = $1', [id])).rows[0];
      const batches = (await c.query<{ instance_id: string; events: Buffer }>('SELECT instance_id, events FROM capture_batches WHERE session_id = $1 ORDER BY id', [id])).rows;
      await c.query('COMMIT');
      if (!row) throw unknownSession(id);
      const where = `the live state of session "${id}" in ${this.where}`;
      // LiveDataSchema checks the frame; the items inside are as LiveState.toData wrote them.
      const data = LiveDataSchema.parse(this.parseJson(this.unseal(row.live_state, where), where)) as unknown as LiveStateData;
      const live = LiveState.fromData(data);
      for (const b of batches) {
        if (live.instanceId !== b.instance_id) {
          live.instanceId = b.instance_id;
          live.lastSeq = 0;
        }
        for (const e of BatchEventsSchema.parse(this.parseJson(this.unseal(b.events, where), where))) {
          if (e.seq <= live.lastSeq) continue; // a batch stored twice (its commit's reply was lost and it was retried)
          live.apply(e.event, e.at);
          live.lastSeq = e.seq;
        }
      }
      return live;
    } finally {
      c.release();
    }
  }

  private async foldInto(c: PoolClient, id: string, live: LiveState): Promise<void> {
    await this.foldRow(c, id, live, this.seal(JSON.stringify(live.toData())));
  }

  /**
   * Inside a transaction: the live state into its row; the batches it includes go (the queue is
   * FIFO: all of them). Fenced like capture: a session another live companion owns is not ours to fold.
   */
  private async foldRow(c: PoolClient, id: string, live: LiveState, data: Buffer): Promise<void> {
    const digest = stateDigest(live.layout());
    const r = await c.query(
      `UPDATE sessions SET live_state = $2, instance_id = $3, current_url = $4, current_title = $5, tab_count = $6
       WHERE id = $1 AND (owner_id IS NULL OR owner_id = $7 OR lease_expires_at < now())`,
      [id, data, live.instanceId, digest.currentUrl, digest.currentTitle, digest.tabCount, this.ownerId],
    );
    if (r.rowCount === 1) await c.query('DELETE FROM capture_batches WHERE session_id = $1', [id]);
    else log(`not folding ${id}: another companion owns it now`);
  }

  private async latestInfo(sessionId: string): Promise<SnapshotInfo | undefined> {
    const rows = await this.read(
      `SELECT ${SNAPSHOT_COLUMNS} FROM session_snapshots WHERE session_id = $1 ORDER BY taken_at DESC, id DESC LIMIT 1`,
      [sessionId],
    );
    return rows[0] ? toInfo(rows[0]) : undefined;
  }

  /** A read that sees every write queued before it. */
  private async read(sql: string, params: unknown[]): Promise<Record<string, unknown>[]> {
    await this.idle();
    try {
      return (await this.pool.query(sql, params)).rows as Record<string, unknown>[];
    } catch (e) {
      if (isRetryable(e)) throw unreachable(this.where, e);
      throw e;
    }
  }

  private async connect(): Promise<PoolClient> {
    try {
      return await this.pool.connect();
    } catch (e) {
      throw unreachable(this.where, e);
    }
  }

  /** Queue a transaction and wait for its commit. */
  private async write(sids: string[], run: (c: PoolClient) => Promise<void>): Promise<void> {
    const op: TxOp = { kind: 'tx', sids, run, done: deferred() };
    this.enqueue(op);
    await op.done.promise;
  }

  private enqueue(op: Op): void {
    this.queue.push(op);
    this.pending.add(op.done.promise);
    const forget = () => this.pending.delete(op.done.promise);
    op.done.promise.then(forget, forget);
    if (!this.draining) {
      this.draining = this.drain().finally(() => {
        this.draining = null;
      });
    }
  }

  /** Until the queue is empty (writes queued meanwhile included). */
  private async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const head = this.queue[0];
      let group: Op[] = [head];
      if (head.kind === 'events') {
        let n = 1;
        while (n < this.queue.length && n < MAX_GROUP && this.queue[n].kind === 'events') n++;
        group = this.queue.slice(0, n);
      }
      try {
        await this.transaction(async (c) => {
          if (head.kind === 'tx') await head.run(c);
          else await this.insertBatches(c, group as EventsOp[]);
        });
        for (const op of group) op.done.resolve();
      } catch (e) {
        const error = e instanceof Error ? e : new Error(String(e));
        // What the cache holds of these sessions was never stored: reload it from the database.
        for (const op of group) for (const sid of op.kind === 'events' ? [op.sid] : op.sids) this.dropCached(sid);
        if (head.kind === 'events') this.eventsFailed ??= error;
        for (const op of group) op.done.reject(error);
      }
      this.queue.splice(0, group.length);
    }
  }

  private dropCached(sid: string): void {
    this.lives.delete(sid);
    this.snapshotVersion.delete(sid);
  }

  /** One multi-row INSERT for the batches, and each session's summary, fenced by its lease. */
  private async insertBatches(c: PoolClient, ops: EventsOp[]): Promise<void> {
    const values: unknown[] = [];
    const tuples = ops.map((op) => {
      values.push(op.sid, op.inst, op.at, this.seal(JSON.stringify(op.evs)));
      const i = values.length;
      return `($${i - 3}, $${i - 2}, $${i - 1}, $${i})`;
    });
    await c.query(`INSERT INTO capture_batches (session_id, instance_id, at, events) VALUES ${tuples.join(', ')}`, values);
    const last = new Map<string, EventsOp>();
    for (const op of ops) last.set(op.sid, op);
    for (const op of last.values()) {
      const r = await c.query(
        `UPDATE sessions SET last_activity_at = greatest(last_activity_at, $2), current_url = $3, current_title = $4, tab_count = $5,
           instance_id = $6, owner_id = $7, lease_expires_at = now() + $8 * interval '1 millisecond'
         WHERE id = $1 AND (owner_id IS NULL OR owner_id = $7 OR lease_expires_at < now())`,
        [op.sid, op.at, op.digest.currentUrl, op.digest.currentTitle, op.digest.tabCount, op.inst, this.ownerId, this.leaseMs],
      );
      if (r.rowCount === 0) {
        const exists = (await c.query('SELECT 1 FROM sessions WHERE id = $1', [op.sid])).rowCount === 1;
        throw exists
          ? new RestoryError('invalid_state', `session ${op.sid} is now owned by another companion (this one's lease ran out); capture refused`)
          : unknownSession(op.sid);
      }
    }
    // Each session that had storage left out is marked once (the first time), fenced above.
    const limited = new Map<string, EventsOp>();
    for (const op of ops) if (op.lim !== undefined && !limited.has(op.sid)) limited.set(op.sid, op);
    for (const op of limited.values()) {
      await c.query('UPDATE sessions SET storage_limited_at = $2, storage_limit_bytes = $3 WHERE id = $1 AND storage_limited_at IS NULL', [op.sid, op.at, op.lim]);
    }
  }

  /** BEGIN … COMMIT, retried (on a fresh connection) while the server is unreachable, up to retryForMs. */
  private async transaction(fn: (c: PoolClient) => Promise<void>): Promise<void> {
    const started = Date.now();
    let delay = 100;
    for (let attempt = 1; ; attempt++) {
      let client: PoolClient | null = null;
      try {
        client = await this.pool.connect();
        await client.query('BEGIN');
        await fn(client);
        await client.query('COMMIT');
        client.release();
        return;
      } catch (e) {
        if (client) {
          await client.query('ROLLBACK').catch(() => {});
          client.release(isRetryable(e) ? (e as Error) : undefined); // a broken connection is not reused
        }
        if (!isRetryable(e)) throw e;
        if (Date.now() - started >= this.retryForMs) throw unreachable(this.where, e);
        log(`write attempt ${attempt} failed (${(e as Error).message}); retrying in ${delay} ms`);
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 1000);
      }
    }
  }

  private seal(json: string): Buffer {
    const plain = Buffer.from(json, 'utf8');
    return this.cipher ? this.cipher.seal(plain, 'postgres value') : plain;
  }

  private unseal(data: Buffer, what: string): string {
    if (!isEncrypted(data)) return data.toString('utf8');
    if (!this.cipher) throw keyMissing(what);
    return this.cipher.open(data, 'postgres value', what).toString('utf8');
  }

  private parseJson(text: string, what: string): unknown {
    try {
      return JSON.parse(text) as unknown;
    } catch (e) {
      throw new RestoryError('storage_failed', `${what} is not JSON`, { cause: e });
    }
  }

  private assertWritable(): void {
    if (this.closed) throw new RestoryError('invalid_state', 'the store is closed');
    if (this.readOnly) throw new RestoryError('invalid_state', `the store at ${this.where} was opened read-only`);
  }
}

/** The blobs the snapshots a SELECT of ids selects refer to. */
async function blobsOf(c: PoolClient, ids: string, params: unknown[]): Promise<string[]> {
  return (await c.query<{ hash: string }>(`SELECT DISTINCT hash FROM snapshot_blob_refs WHERE snapshot_id IN (${ids})`, params)).rows.map((r) => r.hash);
}

async function deleteOrphanBlobs(c: PoolClient, hashes: string[]): Promise<void> {
  if (hashes.length === 0) return;
  await c.query('DELETE FROM snapshot_blobs b WHERE b.hash = ANY($1) AND NOT EXISTS (SELECT 1 FROM snapshot_blob_refs r WHERE r.hash = b.hash)', [hashes]);
}

/** Inside a transaction: keep the newest `keep` snapshots; the blobs only the others used go with them. */
async function pruneRows(c: PoolClient, sessionId: string, keep: number): Promise<number> {
  const doomed = 'SELECT id FROM session_snapshots WHERE session_id = $1 ORDER BY taken_at DESC, id DESC OFFSET $2';
  const hashes = await blobsOf(c, doomed, [sessionId, keep]);
  const r = await c.query(`DELETE FROM session_snapshots WHERE id IN (${doomed})`, [sessionId, keep]);
  await deleteOrphanBlobs(c, hashes);
  return r.rowCount ?? 0;
}
