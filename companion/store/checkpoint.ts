/**
 * The journal side of the store: LSN bookkeeping, journaling each mutation, replay at open and
 * checkpoints.
 *
 * Every mutation is appended to journal.log (checksummed records with increasing LSNs) and applied
 * to the in-memory sql.js database and LiveState objects (apply-record.ts); `flush()` group-commits
 * the journal. A checkpoint folds the live states into their rows, records the LSN it covers in
 * `meta`, persists restory.db atomically and then empties the journal; opening replays only records
 * past that LSN, so a crash anywhere in between loses nothing. Persisting is O(database size), so it
 * runs on a timer and when the journal grows large — never per event. A checkpoint is also when live
 * states nothing captures into are evicted from memory (live-states.ts).
 */
import type { Database } from 'sql.js';
import { RestoryError } from '../../shared/errors.js';
import type { DataPaths } from '../data-dir.js';
import { debug } from '../debug.js';
import { applyRecord, type PreparedSnapshot } from './apply-record.js';
import type { KeySource, StoreCipher } from './crypto.js';
import { openDatabase, persistDatabase, type OpenedDatabase } from './database.js';
import { fileIdentity } from './files.js';
import { encodeRecord, readJournalFile, type JournalEntry, type JournalRecord } from './journal-format.js';
import { JournalWriter } from './journal.js';
import type { LiveStates } from './live-states.js';
import { setMeta } from './migrations.js';
import { transaction } from './sqljs-rows.js';

const log = debug('store');

/**
 * restory.db and journal.log as a pair that belongs together. A read-only open runs beside a live
 * companion, which may fold the journal between our reads of the db and of the journal: if the db
 * file changed meanwhile (checkpoints rename a new one in before truncating the journal), the pair
 * is inconsistent, so read both again.
 */
export async function readDataFiles(
  paths: DataPaths,
  key: KeySource | null,
  readOnly: boolean,
): Promise<{ opened: OpenedDatabase; journalBytes: Buffer }> {
  for (let attempt = 1; ; attempt++) {
    const before = fileIdentity(paths.db);
    const opened = await openDatabase(paths.db, key);
    const journalBytes = readJournalFile(paths.journal);
    if (!readOnly || fileIdentity(paths.db) === before || attempt >= 20) return { opened, journalBytes };
    opened.db.close();
  }
}

export interface CheckpointerOptions {
  db: Database;
  lives: LiveStates;
  paths: DataPaths;
  /** Encrypts what is written; null when no key is set. */
  cipher: StoreCipher | null;
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

  constructor(private readonly opts: CheckpointerOptions) {
    this.lsn = this.foldedLsn = opts.foldedLsn;
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
   * Fold the journal into restory.db: write dirty live states into their rows, record the LSN,
   * persist atomically, then empty the journal. Synchronous, so no append interleaves.
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
    const size = persistDatabase(db, paths.db, cipher);
    this.foldedLsn = lsn;
    journal.truncateAfterCheckpoint(lsn);
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
      if (this.journal) {
        await this.journal.drain();
        this.checkpoint();
      }
    } finally {
      await this.journal?.close();
      this.journal = null;
    }
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

  /** A failed background checkpoint loses nothing: the journal still holds every record. */
  private backgroundCheckpoint(): void {
    if (this.opts.isClosed() || this.lsn === this.foldedLsn) return;
    try {
      this.checkpoint();
    } catch (e) {
      log(`checkpoint failed, will retry: ${(e as Error).message}`);
    }
  }
}
