/**
 * Who may rename a new restory.db into place, and which LSN the file on disk holds: shared between
 * the companion's thread (synchronous checkpoints: at open, close, `store.checkpoint()`, and the
 * fallback when the journal failed) and the checkpoint worker (checkpoint-worker.ts), which persists
 * off the event loop. Without it a worker that exported LSN 100 could rename its file over one the
 * main thread had just written at LSN 120, after the journal records 101–120 were truncated.
 *
 * Plain memory shared through a SharedArrayBuffer: a spin-free mutex (Atomics.wait) and the disk
 * LSN, read and written only under the mutex. The main thread holds it for a whole synchronous
 * persist; the worker only for its rename + directory fsync, so the main thread never waits long.
 */
const UNLOCKED = 0;
const LOCKED = 1;

export class PersistLock {
  private readonly state: Int32Array;
  private readonly lsn: Float64Array;

  /** `shared` from another PersistLock's `buffer` (the worker's side), or new. */
  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(16)) {
    this.state = new Int32Array(buffer, 0, 1);
    this.lsn = new Float64Array(buffer, 8, 1);
  }

  /** Run `fn` holding the lock; `fn` gets the disk LSN and returns the new one. */
  withLock(fn: (diskLsn: number) => number): void {
    while (Atomics.compareExchange(this.state, 0, UNLOCKED, LOCKED) !== UNLOCKED) Atomics.wait(this.state, 0, LOCKED, 1000);
    try {
      this.lsn[0] = fn(this.lsn[0]!);
    } finally {
      Atomics.store(this.state, 0, UNLOCKED);
      Atomics.notify(this.state, 0);
    }
  }

  /** The LSN restory.db holds (a hint outside the lock: it only grows). */
  get diskLsn(): number {
    return this.lsn[0]!;
  }

  /** Before any other thread sees the lock. */
  init(lsn: number): void {
    this.lsn[0] = lsn;
  }
}
