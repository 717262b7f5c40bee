/** Small fs helpers for durable writes: everything written is 0600 and fsync'd before it counts. */
import { chmodSync, closeSync, existsSync, fdatasyncSync, fsyncSync, openSync, readdirSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { FILE_MODE } from '../data-dir.js';

/** fsync a directory so that a rename or create inside it survives a power loss. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function tempPathFor(file: string): string {
  return join(dirname(file), `.${basename(file)}.tmp-${process.pid}`);
}

/**
 * Replace `file` with `bytes` atomically: temp file in the same directory (0600) → fsync → rename
 * over `file` → fsync the directory. A crash at any point leaves either the old or the new file.
 */
export function writeFileAtomic(file: string, bytes: Uint8Array, tmp = tempPathFor(file)): void {
  writeFileDurable(tmp, bytes);
  renameDurable(tmp, file);
}

/**
 * First half of writeFileAtomic: `tmp` (0600) written and fsync'd; removed again if that fails.
 * `syncEvery`: also fdatasync after each that many bytes. The checkpoint worker uses it: one fsync
 * of 50 MB of dirty pages makes the file system flush them all at once, and the journal's small
 * fdatasyncs (what acknowledgements wait for) queue behind that flush; smaller flushes let them in.
 */
export function writeFileDurable(tmp: string, bytes: Uint8Array, syncEvery = Infinity): void {
  const fd = openSync(tmp, 'w', FILE_MODE);
  try {
    let off = 0;
    let synced = 0;
    while (off < bytes.length) {
      off += writeSync(fd, bytes, off, Math.min(bytes.length - off, 1024 * 1024));
      if (off - synced >= syncEvery) {
        fdatasyncSync(fd);
        synced = off;
      }
    }
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // best effort: the temp file is removed at the next open anyway
    }
    throw e;
  }
  closeSync(fd);
}

/** Second half of writeFileAtomic: rename the durable `tmp` over `file` and make the rename durable. */
export function renameDurable(tmp: string, file: string): void {
  renameSync(tmp, file);
  fsyncDir(dirname(file));
}

/** Make an existing file owner-only (0600) if it is looser, e.g. copied in from elsewhere. */
export function tightenFileMode(file: string): void {
  try {
    if ((statSync(file).mode & 0o777) !== FILE_MODE) chmodSync(file, FILE_MODE);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

/** Temp files of a `writeFileAtomic(file)` that a crash interrupted; call only while no write can be in progress (under the lock). */
export function removeStaleTemps(file: string): void {
  const dir = dirname(file);
  if (!existsSync(dir)) return;
  const prefix = `.${basename(file)}.tmp-`;
  for (const name of readdirSync(dir)) {
    if (name.startsWith(prefix)) {
      try {
        unlinkSync(join(dir, name));
      } catch {
        // harmless leftover
      }
    }
  }
}

/** Changes whenever a new file is renamed into place at `path` (as a checkpoint does with restory.db). */
export function fileIdentity(path: string): string {
  try {
    const st = statSync(path);
    return `${st.ino}:${st.size}:${st.mtimeMs}`;
  } catch {
    return 'missing';
  }
}
