/** Temp folders for tests; `removeTempDirs()` (in an afterAll) deletes every one made so far. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];

/** A fresh, empty folder (mkdtemp: created 0700). */
export function tempDir(prefix = 'restory-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** A data dir that does not exist yet, inside a fresh parent: the store or the CLI creates it. */
export function newDataDirPath(prefix = 'restory-store-'): string {
  return join(tempDir(prefix), 'data');
}

export function removeTempDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}
