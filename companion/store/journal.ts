/**
 * Append-only journal writer with group commit: records are buffered, and one write + one
 * fdatasync covers every record appended since the last group. `flush()` resolves once all that
 * was appended before it is on disk, however many callers wait on the same group.
 *
 * Rotation (for checkpoints that run off the event loop, checkpoint.ts): `rotate()` renames the
 * file to `rotatedJournalPath(file)` between two groups and carries on in a fresh file, so the
 * rotated segment is immutable and holds a contiguous LSN range that a checkpoint worker can fold
 * while appends continue.
 */
import { closeSync, fchmodSync, fdatasync, fstatSync, ftruncateSync, openSync, renameSync, write } from 'node:fs';
import { open as openAsync } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { RestoryError } from '../../shared/errors.js';
import { FILE_MODE } from '../data-dir.js';

const writeAsync = promisify(write);
const fdatasyncAsync = promisify(fdatasync);

/** Where `rotate()` moves the journal: at most one such segment exists at a time. */
export function rotatedJournalPath(journal: string): string {
  return `${journal}.rotated`;
}

interface Rotation {
  resolve: (lastLsn: number) => void;
  reject: (e: Error) => void;
}

interface Waiter {
  lsn: number;
  resolve: () => void;
  reject: (e: Error) => void;
}

export class JournalWriter {
  private fd: number;
  private rotation: Rotation | null = null;
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
    fd: number,
    readonly file: string,
    startLsn: number,
  ) {
    this.fd = fd;
    this.bytes = fstatSync(fd).size;
    this.appendedLsn = this.durableLsn = startLsn;
  }

  static open(file: string, startLsn: number): JournalWriter {
    return new JournalWriter(openJournalFd(file), file, startLsn);
  }

  /** Whether a write failed: nothing is appended until a checkpoint has folded everything (truncateAfterCheckpoint). */
  get hasFailed(): boolean {
    return this.failed !== null;
  }

  /**
   * Move every record written so far into `rotatedJournalPath(file)` and continue in a new, empty
   * file. Runs between two group writes (never splitting one), so the rotated segment ends at a
   * durable record boundary; resolves with the last LSN it holds. The caller makes sure no rotated
   * segment exists yet. Records still buffered go to the new file.
   */
  rotate(): Promise<number> {
    if (this.failed) return Promise.reject(this.failed);
    if (this.rotation) return Promise.reject(new RestoryError('internal', 'a journal rotation is already pending'));
    return new Promise<number>((resolve, reject) => {
      this.rotation = { resolve, reject };
      this.kick();
    });
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
    if (!this.running && (this.pending.length > 0 || this.rotation)) {
      this.running = this.writeGroups().finally(() => {
        this.running = null;
        // Records appended while the last group was being synced form the next group.
        if ((this.pending.length > 0 || this.rotation) && !this.failed) this.kick();
      });
    }
  }

  private async writeGroups(): Promise<void> {
    for (;;) {
      if (this.failed) {
        this.rotation?.reject(this.failed);
        this.rotation = null;
        return;
      }
      // Rotation first: the groups written so far are all durable, so the rotated file ends exactly at the last of them.
      if (this.rotation) {
        await this.rotateNow(this.rotation);
        continue;
      }
      if (this.pending.length === 0) return;
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

  private async rotateNow(rotation: Rotation): Promise<void> {
    this.rotation = null;
    const lastLsn = this.durableLsn;
    let fd: number;
    try {
      renameSync(this.file, rotatedJournalPath(this.file));
      fd = openJournalFd(this.file);
    } catch (e) {
      rotation.reject(new RestoryError('storage_failed', `cannot rotate ${this.file}: ${(e as Error).message}`, { cause: e }));
      return;
    }
    const old = this.fd;
    this.fd = fd;
    this.bytes = 0;
    closeSync(old);
    try {
      // The new file's directory entry must be durable before a record in it is acknowledged
      // (fdatasync of the file does not cover it). Async: this runs on the companion's event loop.
      const dir = await openAsync(dirname(this.file), 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
    } catch (e) {
      this.failed = new RestoryError('storage_failed', `cannot sync the directory of ${this.file}: ${(e as Error).message}`, { cause: e });
      for (const w of this.waiters.splice(0)) w.reject(this.failed);
      rotation.reject(this.failed);
      return;
    }
    rotation.resolve(lastLsn);
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

/**
 * O_APPEND, so a group still in flight when a checkpoint truncates lands at the new end.
 * 0600 even when the file existed with a looser mode (the mode of open() applies only on create).
 */
function openJournalFd(file: string): number {
  const fd = openSync(file, 'a', FILE_MODE);
  try {
    fchmodSync(fd, FILE_MODE);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  return fd;
}
