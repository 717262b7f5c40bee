/**
 * Append-only journal writer with group commit: records are buffered, and one write + one
 * fdatasync covers every record appended since the last group. `flush()` resolves once all that
 * was appended before it is on disk, however many callers wait on the same group.
 */
import { closeSync, fchmodSync, fdatasync, fstatSync, ftruncateSync, openSync, write } from 'node:fs';
import { promisify } from 'node:util';
import { RestoryError } from '../../shared/errors.js';
import { FILE_MODE } from '../data-dir.js';

const writeAsync = promisify(write);
const fdatasyncAsync = promisify(fdatasync);

interface Waiter {
  lsn: number;
  resolve: () => void;
  reject: (e: Error) => void;
}

export class JournalWriter {
  private pending: Buffer[] = [];
  private pendingLsn = 0;
  private appendedLsn = 0;
  private durableLsn = 0;
  private waiters: Waiter[] = [];
  private running: Promise<void> | null = null;
  private scheduled = false;
  private failed: RestoryError | null = null;
  /** Approximate size of the file: what was appended since the last truncate. */
  bytes: number;

  private constructor(
    private readonly fd: number,
    readonly file: string,
    startLsn: number,
  ) {
    this.bytes = fstatSync(fd).size;
    this.appendedLsn = this.durableLsn = startLsn;
  }

  /**
   * O_APPEND, so a group still in flight when a checkpoint truncates lands at the new end.
   * 0600 even when the file existed with a looser mode (the mode of open() applies only on create).
   */
  static open(file: string, startLsn: number): JournalWriter {
    const fd = openSync(file, 'a', FILE_MODE);
    try {
      fchmodSync(fd, FILE_MODE);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
    return new JournalWriter(fd, file, startLsn);
  }

  append(lsn: number, record: Buffer): void {
    if (this.failed) throw this.failed;
    this.pending.push(record);
    this.pendingLsn = this.appendedLsn = lsn;
    this.bytes += record.length;
    if (!this.scheduled && !this.running) {
      this.scheduled = true;
      setImmediate(() => this.kick());
    }
  }

  /** Resolves when every record appended so far is durable. */
  flush(): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    if (this.durableLsn >= this.appendedLsn) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ lsn: this.appendedLsn, resolve, reject });
      this.kick();
    });
  }

  private kick(): void {
    this.scheduled = false;
    if (!this.running && this.pending.length > 0) {
      this.running = this.writeGroups().finally(() => {
        this.running = null;
        // Records appended while the last group was being synced form the next group.
        if (this.pending.length > 0 && !this.failed) this.kick();
      });
    }
  }

  private async writeGroups(): Promise<void> {
    while (this.pending.length > 0 && !this.failed) {
      const group = Buffer.concat(this.pending);
      const upTo = this.pendingLsn;
      this.pending = [];
      try {
        let off = 0;
        while (off < group.length) off += (await writeAsync(this.fd, group, off, group.length - off)).bytesWritten;
        await fdatasyncAsync(this.fd);
      } catch (e) {
        // A partial write may have left a torn record: append nothing more until a checkpoint
        // has folded everything into the db and truncated the file.
        this.failed = new RestoryError('storage_failed', `cannot write ${this.file}: ${(e as Error).message}`, { cause: e });
        for (const w of this.waiters.splice(0)) w.reject(this.failed);
        return;
      }
      this.markDurable(upTo);
    }
  }

  private markDurable(lsn: number): void {
    if (lsn > this.durableLsn) this.durableLsn = lsn;
    const ready = this.waiters.filter((w) => w.lsn <= this.durableLsn);
    this.waiters = this.waiters.filter((w) => w.lsn > this.durableLsn);
    for (const w of ready) w.resolve();
  }

  /**
   * Everything up to `lsn` is now durable in the database file: drop the buffered records, empty
   * the file and release their waiters. Synchronous, so no append can interleave.
   */
  truncateAfterCheckpoint(lsn: number): void {
    this.pending = [];
    ftruncateSync(this.fd, 0);
    this.bytes = 0;
    this.failed = null;
    this.markDurable(lsn);
  }

  /** Wait for a group in flight (e.g. before closing). */
  async drain(): Promise<void> {
    while (this.running) await this.running;
  }

  async close(): Promise<void> {
    await this.drain();
    closeSync(this.fd);
  }
}
