/**
 * Writing a file that holds credentials (`restory export -o`, the MCP tool `session_export`).
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { RestoryError } from '../shared/errors.js';

/**
 * Owner-only from its first byte (it holds credentials). Without `force` an existing file is never
 * touched (O_EXCL); with it, a fresh 0600 file replaces the old one by rename, so a file that was
 * readable by others does not keep its mode and a failed write leaves the old one whole.
 */
export function writePrivateFile(path: string, text: string, force: boolean): void {
  const target = force ? join(dirname(path), `.${basename(path)}.${process.pid}.tmp`) : path;
  let fd: number;
  try {
    fd = openSync(target, 'wx', 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST' && !force) throw exists(path);
    throw new RestoryError('storage_failed', `cannot write ${path}: ${(e as Error).message}`);
  }
  try {
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (force) renameSync(target, path);
  } catch (e) {
    // Ours to remove: created above with O_EXCL.
    rmSync(target, { force: true });
    throw new RestoryError('storage_failed', `cannot write ${path}: ${(e as Error).message}`);
  }
}

export function exists(path: string): RestoryError {
  return new RestoryError('storage_failed', `${path} exists; pass --force to overwrite it`);
}
