/**
 * One read-write store per data dir. The lock file holds the owner's pid, start time and boot id;
 * it is created complete and atomically (written to a private temp file, then hard-linked into
 * place, which fails if the lock exists). A lock whose owner is gone — dead pid, or a pid from
 * before the last reboot — is taken over; see `takeOver` for how racers are kept apart.
 */
import { randomUUID } from 'node:crypto';
import { linkSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { RestoryError } from '../../shared/errors.js';
import { FILE_MODE } from '../data-dir.js';

interface LockInfo {
  pid: number;
  startedAt: number;
  bootId: string | null;
  token: string;
}

function bootId(): string | null {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return null;
  }
}

function readText(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

function parse(text: string): LockInfo | null {
  try {
    const v = JSON.parse(text) as Partial<LockInfo>;
    return Number.isInteger(v.pid) && (v.pid as number) > 0 ? (v as LockInfo) : null;
  } catch {
    return null;
  }
}

function isAlive(holder: LockInfo, myBoot: string | null): boolean {
  // After a reboot every old pid is dead, whatever process now has that number.
  if (holder.bootId && myBoot && holder.bootId !== myBoot) return false;
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const held = new Set<DataDirLock>();
let exitHookInstalled = false;

function ignoreMissing(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

export class DataDirLock {
  private constructor(
    readonly file: string,
    private readonly text: string,
  ) {}

  static acquire(file: string, dataDir: string): DataDirLock {
    const myBoot = bootId();
    const info: LockInfo = { pid: process.pid, startedAt: Date.now(), bootId: myBoot, token: randomUUID() };
    const text = JSON.stringify(info);
    const tmp = `${file}.${process.pid}.${info.token}`;
    writeFileSync(tmp, text, { mode: FILE_MODE });
    try {
      for (let attempt = 0; attempt < 200; attempt++) {
        try {
          linkSync(tmp, file);
          const lock = new DataDirLock(file, text);
          lock.hold();
          return lock;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        }
        const current = readText(file);
        if (current === null) continue; // released meanwhile
        const holder = parse(current);
        if (holder && isAlive(holder, myBoot)) {
          throw new RestoryError(
            'invalid_state',
            `another restory companion (pid ${holder.pid}) is using ${dataDir}; stop it or use another --data-dir`,
          );
        }
        if (!takeOver(file, current, tmp)) sleepSync(2 + Math.random() * 5);
      }
      throw new RestoryError('invalid_state', `could not take the lock ${file}: it keeps changing; is another restory starting?`);
    } finally {
      ignoreMissing(() => unlinkSync(tmp));
    }
  }

  private hold(): void {
    held.add(this);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.on('exit', () => {
        for (const lock of held) lock.release();
      });
    }
  }

  /** Remove the lock file if it is still ours. Idempotent. */
  release(): void {
    if (!held.delete(this)) return;
    try {
      if (readText(this.file) === this.text) unlinkSync(this.file);
    } catch {
      // at exit there is nobody left to tell; a leftover lock with a dead pid is taken over later
    }
  }
}

/**
 * Remove a stale lock whose content we read as `stale`. Racers serialise on a short-lived
 * `.takeover` file (created atomically like the lock): its holder removes the lock only if it still
 * holds exactly the stale content, so a fresh lock that another racer linked meanwhile is never
 * removed; then everybody retries the atomic link and exactly one wins. Returns false if another
 * racer is taking over right now.
 */
function takeOver(file: string, stale: string, tmp: string): boolean {
  const mutex = `${file}.takeover`;
  try {
    linkSync(tmp, mutex);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    // Held for microseconds; one older than that was left by a process killed while holding it.
    try {
      if (Date.now() - statSync(mutex).mtimeMs > 10_000) unlinkSync(mutex);
    } catch {
      // gone already
    }
    return false;
  }
  try {
    if (readText(file) === stale) unlinkSync(file);
  } finally {
    ignoreMissing(() => unlinkSync(mutex));
  }
  return true;
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export type LockState =
  | { state: 'free' }
  | { state: 'held'; pid: number; startedAt: number }
  /** Left by a process that is gone (or unreadable); the next read-write open takes it over. */
  | { state: 'stale'; pid: number | null; why: string };

/** Who holds the lock file, without touching it (for `restory doctor`). */
export function inspectLock(file: string): LockState {
  const text = readText(file);
  if (text === null) return { state: 'free' };
  const holder = parse(text);
  if (!holder) return { state: 'stale', pid: null, why: 'its content is not a lock record' };
  const myBoot = bootId();
  if (isAlive(holder, myBoot)) return { state: 'held', pid: holder.pid, startedAt: holder.startedAt };
  const why = holder.bootId && myBoot && holder.bootId !== myBoot ? 'it was taken before the last reboot' : `pid ${holder.pid} is not running`;
  return { state: 'stale', pid: holder.pid, why };
}
