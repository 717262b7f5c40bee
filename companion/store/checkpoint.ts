/**
 * The journal side of the store: LSN bookkeeping, journaling each mutation, replay at open and
 * checkpoints.
 *
 * Every mutation is appended to journal.log (checksummed records with increasing LSNs) and applied
 * to the in-memory sql.js database and LiveState objects (apply-record.ts); `flush()` group-commits
 * the journal, and that is what acknowledgements wait for. A checkpoint makes restory.db hold
 * everything up to an LSN (recorded in its `meta`), after which the journal records up to it can
 * go; opening replays only records past that LSN, so a crash anywhere in between loses nothing.
 * Persisting is O(database size), so it runs on a timer and when the journal grows large.
 *
 * Two ways to checkpoint:
 *  - background (timer, journal size): off the event loop. The journal is rotated — journal.log
 *    becomes journal.log.rotated between two group writes, appends continue in a new journal.log —
 *    and the checkpoint worker (checkpoint-worker.ts) replays the rotated segment into its own
 *    replica of the database, exports it and renames the new restory.db into place. Only then is
 *    the rotated segment deleted. The companion's thread only folds its changed live states into
 *    their rows (O(what changed), so idle ones can be evicted from memory, live-states.ts) and
 *    renames one file. A SIGKILL at any point leaves restory.db at some LSN F and the journal
 *    records after F in journal.log.rotated and/or journal.log; open replays both (LSN-ordered).
 *  - synchronous, on the companion's thread (as before): at open and close, `store.checkpoint()`,
 *    and as the fallback when there is no worker script, the journal failed to write (ENOSPC: its
 *    records exist only in memory) or a rotated segment is left from a failed checkpoint. It
 *    persists, truncates journal.log and deletes any rotated segment.
 * The two never rename over each other's newer file: persist-lock.ts. Whichever renames a new
 * restory.db writes the session index for it under that lock, before the journal files are emptied
 * (session-index.ts: what `restory list` reads instead of opening the store).
 */
import { existsSync, unlinkSync } from 'node:fs';
import type { Database } from 'sql.js';
import { RestoryError } from '../../shared/errors.js';
import type { DataPaths } from '../data-dir.js';
import { debug } from '../debug.js';
import { applyRecord, type PreparedSnapshot } from './apply-record.js';
import type { KeySource, StoreCipher } from './crypto.js';
import { CheckpointWorker, workerScript, type CheckpointDone } from './checkpoint-offload.js';
import { openDatabase, persistDatabase, type OpenedDatabase } from './database.js';
import { fileIdentity, tempPathFor } from './files.js';
import { encodeRecord, readJournalFile, type JournalEntry, type JournalRecord, type JournalSegment } from './journal-format.js';
import { JournalWriter, rotatedJournalPath } from './journal.js';
import { PersistLock } from './persist-lock.js';
import type { LiveStates } from './live-states.js';
import { setMeta } from './migrations.js';
import { writeSessionIndex } from './session-index.js';
import { transaction } from './sqljs-rows.js';

const log = debug('store');

/**
 * restory.db and its journal files as a set that belongs together. A read-only open runs beside a
 * live companion, which may checkpoint between our reads: if the db file changed meanwhile
 * (checkpoints rename a new one in before truncating or deleting journal files), the set is
 * inconsistent, so read it all again. journal.log is read before the rotated segment: a rotation
 * between the two reads then only makes both hold the same records, never neither.
 */
export async function readDataFiles(
  paths: DataPaths,
  key: KeySource | null,
  readOnly: boolean,
): Promise<{ opened: OpenedDatabase; journals: JournalSegment[] }> {
  const rotated = rotatedJournalPath(paths.journal);
  for (let attempt = 1; ; attempt++) {
    const before = fileIdentity(paths.db);
    const opened = await openDatabase(paths.db, key);
    const journals = [
      { file: paths.journal, bytes: readJournalFile(paths.journal) },
      { file: rotated, bytes: readJournalFile(rotated) },
    ].filter((j) => j.bytes.length > 0 || j.file === paths.journal);
    if (!readOnly || fileIdentity(paths.db) === before) return { opened, journals };
    opened.db.close();
    // Returning a set that may not belong together could show a state older than acknowledged ones.
    if (attempt >= 20) {
      throw new RestoryError('storage_failed', `${paths.db} was replaced ${attempt} times while it was being read (a companion checkpointing back to back); try again`);
    }
  }
}

export interface CheckpointerOptions {
  db: Database;
  lives: LiveStates;
  paths: DataPaths;
  /** Encrypts what is written; null when no key is set. */
  cipher: StoreCipher | null;
  /** The configured key, for the checkpoint worker to open the same files. */
  key: KeySource | null;
  /** The LSN restory.db already holds (its `journal_lsn`). */
  foldedLsn: number;
  checkpointIntervalMs: number;
  journalMaxBytes: number;
  /** A read-only store that applies mutations in memory only (StoreOptions.inMemoryWrites): it has no journal. */
  inMemoryOnly: boolean;
  /** A closed store (or one a test abandoned as a crash would) checkpoints no more in the background. */
  isClosed: () => boolean;
}

export class Checkpointer {
  /** Last LSN assigned, and the last one folded into restory.db. */
  private lsn: number;
  private foldedLsn: number;
  /** Null until `openJournal` (never, for a read-only store). */
  private journal: JournalWriter | null = null;
  private timer: NodeJS.Timeout | null = null;
  private checkpointQueued = false;
  private readonly persistLock = new PersistLock();
  /** Started at the first background checkpoint; null when there is no worker script. */
  private worker: CheckpointWorker | null = null;
  /** The background checkpoint in progress, if any: one at a time. */
  private inFlight: Promise<void> | null = null;
  private readonly rotatedPath: string;

  constructor(private readonly opts: CheckpointerOptions) {
    this.lsn = this.foldedLsn = opts.foldedLsn;
    this.persistLock.init(opts.foldedLsn);
    this.rotatedPath = rotatedJournalPath(opts.paths.journal);
  }

  get hasJournal(): boolean {
    return this.journal !== null;
  }

  /** Re-apply the records restory.db does not hold yet; throws, leaving the files untouched, on a gap. */
  replay(records: JournalRecord[]): void {
    const { paths } = this.opts;
    for (const r of records) {
      if (r.lsn <= this.foldedLsn) continue; // already in restory.db (crash between rename and truncate)
      if (r.lsn !== this.lsn + 1) {
        throw new RestoryError(
          'storage_failed',
          `${paths.journal} continues at LSN ${r.lsn} but ${paths.db} ends at LSN ${this.lsn}: the two files do not belong together. ` +
            'Both were left untouched; restore the matching pair from a backup, or move the journal aside to keep only the database.',
        );
      }
      try {
        applyRecord(this.opts, r);
      } catch (e) {
        throw new RestoryError(
          'storage_failed',
          `cannot replay record LSN ${r.lsn} (${r.t}) of ${paths.journal}: ${(e as Error).message}. The file was left untouched.`,
          { cause: e },
        );
      }
      this.lsn = r.lsn;
    }
    if (records.length > 0) log(`replayed up to LSN ${this.lsn} from ${paths.journal}`);
  }

  /** After replay: new records are appended after the last one replayed. */
  openJournal(): void {
    this.journal = JournalWriter.open(this.opts.paths.journal, this.lsn);
  }

  /** Journal the entry, then apply it. Callers validate first: applying must not fail. */
  commit(entry: JournalEntry, prepared?: PreparedSnapshot): void {
    const record = { ...entry, lsn: this.lsn + 1 } as JournalRecord;
    if (this.opts.inMemoryOnly && !this.journal) {
      applyRecord(this.opts, record, prepared);
      this.lsn = record.lsn;
      return;
    }
    const journal = this.requireJournal();
    const bytes = encodeRecord(record, this.opts.cipher);
    applyRecord(this.opts, record, prepared);
    this.lsn = record.lsn;
    journal.append(record.lsn, bytes);
    if (journal.bytes >= this.opts.journalMaxBytes) this.queueCheckpoint();
  }

  /** Resolves once every record committed so far is on disk. */
  flush(): Promise<void> {
    return this.journal ? this.journal.flush() : Promise.resolve();
  }

  /**
   * Fold the journal into restory.db on this thread: write dirty live states into their rows,
   * record the LSN, persist atomically, then empty the journal and delete any rotated segment.
   * Synchronous, so no append interleaves. Holds the persist lock, so a background checkpoint
   * still running cannot rename an older file over this one (it may make this wait for its rename).
   */
  checkpoint(): void {
    const journal = this.requireJournal();
    const { db, lives, paths, cipher } = this.opts;
    const started = performance.now();
    const lsn = this.lsn;
    let evicted = 0;
    transaction(db, () => {
      lives.foldDirty();
      evicted = lives.evictIdle();
      setMeta(db, 'journal_lsn', lsn);
    });
    lives.folded();
    const folded = performance.now();
    let size = 0;
    this.persistLock.withLock(() => {
      size = persistDatabase(db, paths.db, cipher);
      writeSessionIndex(db, paths.db, lsn, cipher !== null);
      return lsn;
    });
    this.foldedLsn = lsn;
    journal.truncateAfterCheckpoint(lsn);
    // Every record it holds was assigned before this checkpoint began (a rotation after it would
    // have had to wait for the rotated file to be gone: backgroundCheckpoint checks).
    removeIfExists(this.rotatedPath);
    const end = performance.now();
    log(
      `checkpoint at LSN ${lsn}: ${size} bytes, fold ${(folded - started).toFixed(1)} ms + persist ${(end - folded).toFixed(1)} ms` +
        (evicted > 0 ? `, ${evicted} idle live states evicted` : ''),
    );
  }

  startTimer(): void {
    this.timer = setInterval(() => this.backgroundCheckpoint(), this.opts.checkpointIntervalMs);
    this.timer.unref();
  }

  stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** The final checkpoint (if the journal is open), then the journal is closed whatever happens. */
  async finish(): Promise<void> {
    try {
      await this.inFlight;
      if (this.journal) {
        await this.journal.drain();
        this.checkpoint();
      }
    } finally {
      await this.journal?.close();
      this.journal = null;
      await this.worker?.terminate();
      this.worker = null;
    }
  }

  /** What the timer does, now. */
  startBackgroundCheckpoint(): void {
    this.backgroundCheckpoint();
  }

  /** Resolves when no background checkpoint is running (tests, benchmarks). */
  async idle(): Promise<void> {
    while (this.inFlight) await this.inFlight;
  }

  private requireJournal(): JournalWriter {
    if (!this.journal) throw new RestoryError('internal', 'store has no journal');
    return this.journal;
  }

  private queueCheckpoint(): void {
    if (this.checkpointQueued) return;
    this.checkpointQueued = true;
    setImmediate(() => {
      this.checkpointQueued = false;
      this.backgroundCheckpoint();
    });
  }

  /**
   * Off the event loop when it can be (see the header); on this thread when the journal does not
   * hold every record (a failed write), a rotated segment is left over, or there is no worker.
   * A failed background checkpoint loses nothing: the journal files still hold every record.
   */
  private backgroundCheckpoint(): void {
    if (this.opts.isClosed() || this.lsn === this.foldedLsn || this.inFlight) return;
    const journal = this.journal;
    if (!journal) return;
    const script = workerScript();
    if (script && !journal.hasFailed && !existsSync(this.rotatedPath)) {
      this.inFlight = this.offloadedCheckpoint(journal, script)
        .catch((e: unknown) => log(`background checkpoint failed, will retry: ${(e as Error).message}`))
        .finally(() => {
          this.inFlight = null;
        });
      return;
    }
    try {
      this.checkpoint();
    } catch (e) {
      log(`checkpoint failed, will retry: ${(e as Error).message}`);
    }
  }

  private async offloadedCheckpoint(journal: JournalWriter, script: URL): Promise<void> {
    const { db, lives, paths } = this.opts;
    const started = performance.now();
    // This thread's own rows catch up only so that idle live states can be evicted from memory:
    // the rows restory.db gets are the worker's. Proportional to the states that changed.
    let evicted = 0;
    transaction(db, () => {
      lives.foldDirty();
      evicted = lives.evictIdle();
    });
    lives.folded();
    const folded = performance.now();
    const rotatedUpTo = await journal.rotate();
    if (!this.worker?.alive) {
      this.worker = new CheckpointWorker(script, {
        dbPath: paths.db,
        rotatedPath: this.rotatedPath,
        tempPath: `${tempPathFor(paths.db)}-worker`,
        key: this.opts.key,
        lock: this.persistLock.buffer,
      });
    }
    const done: CheckpointDone = await this.worker.checkpoint();
    // restory.db now holds every record of the rotated segment (the worker's or a newer file).
    removeIfExists(this.rotatedPath);
    if (done.lsn > this.foldedLsn) this.foldedLsn = done.lsn;
    const m = done.ms;
    log(
      `background checkpoint at LSN ${done.lsn} (rotated up to ${rotatedUpTo}): ${done.bytes} bytes${done.renamed ? '' : ' (not renamed: restory.db was newer)'}; ` +
        `on the event loop: fold ${(folded - started).toFixed(1)} ms; in the worker: replay ${m.replay.toFixed(1)} ms, fold ${m.fold.toFixed(1)} ms, ` +
        `export ${m.export.toFixed(1)} ms, write+fsync+rename ${m.write.toFixed(1)} ms; total ${(performance.now() - started).toFixed(0)} ms` +
        (evicted > 0 ? `, ${evicted} idle live states evicted` : ''),
    );
  }
}

function removeIfExists(file: string): void {
  try {
    unlinkSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}
