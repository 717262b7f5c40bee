/**
 * Which browser runs for which session, kept in the data dir (browsers/<session id>.json, 0600) for
 * as long as the browser may run: a companion that dies leaves its browsers running, and the next
 * companion reads these records to adopt them (reconnect, keep the session `active`) or, when the
 * browser is gone too, to remove the profile it left behind.
 *
 * A record is trusted only if its pid is alive and that process is the Chromium of that profile
 * (its command line carries the --user-data-dir): pids are reused after a reboot.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { isAlive, waitForProcessExit } from '../browser/exit-status.js';
import { killGroup, removeProfile } from '../browser/spawn-browser.js';
import { DIR_MODE, FILE_MODE } from '../data-dir.js';
import { debug } from '../debug.js';
import { recordFile } from './browser-record-file.js';

const log = debug('browsers');

const BrowserRecordSchema = z.object({
  sessionId: z.string().min(1),
  pid: z.number().int().positive(),
  userDataDir: z.string().min(1),
  cdpEndpoint: z.string().startsWith('http://127.0.0.1:'),
  startedAt: z.number(),
});
export type BrowserRecord = z.infer<typeof BrowserRecordSchema>;

export class BrowserRecords {
  constructor(private readonly dir: string) {}

  write(record: BrowserRecord): void {
    mkdirSync(this.dir, { recursive: true, mode: DIR_MODE });
    const file = this.file(record.sessionId);
    const temp = `${file}.tmp-${process.pid}`;
    writeFileSync(temp, JSON.stringify(record), { mode: FILE_MODE });
    renameSync(temp, file);
  }

  remove(sessionId: string): void {
    rmSync(this.file(sessionId), { force: true });
  }

  /** Every readable record; an unreadable one is reported and left alone. */
  all(): BrowserRecord[] {
    let names: string[];
    try {
      names = readdirSync(this.dir).filter((n) => n.endsWith('.json'));
    } catch {
      return [];
    }
    const records: BrowserRecord[] = [];
    for (const name of names) {
      try {
        records.push(BrowserRecordSchema.parse(JSON.parse(readFileSync(join(this.dir, name), 'utf8'))));
      } catch (e) {
        log(`ignoring ${join(this.dir, name)}: ${(e as Error).message}`);
      }
    }
    return records;
  }

  get(sessionId: string): BrowserRecord | undefined {
    return this.all().find((r) => r.sessionId === sessionId);
  }

  private file(sessionId: string): string {
    return recordFile(this.dir, sessionId);
  }
}

/**
 * End a browser no companion is attached to (its session was closed meanwhile): SIGTERM to its
 * process group, SIGKILL after 5 s; then its profile and record go.
 */
export async function endLeftover(records: BrowserRecords, record: BrowserRecord): Promise<void> {
  if (browserRuns(record)) {
    killGroup(record.pid, 'SIGTERM');
    await waitForProcessExit(record.pid, 5000);
    killGroup(record.pid, 'SIGKILL');
  }
  await removeProfile(record.userDataDir);
  records.remove(record.sessionId);
}

/** The record's browser still runs: its pid is alive and is the Chromium of that profile. */
export function browserRuns(record: BrowserRecord): boolean {
  if (!isAlive(record.pid)) return false;
  try {
    return readFileSync(`/proc/${record.pid}/cmdline`, 'utf8').includes(`--user-data-dir=${record.userDataDir}`);
  } catch {
    return false;
  }
}
