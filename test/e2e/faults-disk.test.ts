/**
 * Damaged files and a full disk, with real processes (the CLI, a companion process, a writer speaking
 * the socket protocol). The store-level cases (torn tail, damage mid-journal, damaged db pages) are in
 * test/unit/store-durability.test.ts; here is what a user sees through the CLI and the companion:
 *
 * - a database file that is garbage or truncated, a journal damaged in the middle or full of garbage:
 *   `restory list` / `restory start` exit non-zero with an error naming the file and the fix, and the
 *   file's bytes are unchanged;
 * - a journal cut mid-record by a crash: `restory list` works and every complete record is kept;
 * - no space left on the device (a 2 MiB tmpfs mounted as the data dir's file system): capture fails
 *   with a clear storage error and no ack, the previous database stays intact and openable, and once
 *   space returns capture continues, events are acknowledged again and survive a SIGKILL.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqlJsStore } from '../../companion/store/sqljs-store.js';
import { localItems } from '../helpers/store-fixtures.js';
import { RawConnection, sleep, spawnCompanion, StormWriter } from '../helpers/fault-harness.js';
import { runCli } from '../helpers/restory-cli.js';

const parents: string[] = [];
function tempParent(): string {
  const p = mkdtempSync(join(tmpdir(), 'restory-disk-'));
  parents.push(p);
  return p;
}
afterAll(() => {
  for (const p of parents) rmSync(p, { recursive: true, force: true });
});

const NO_CHECKPOINT = { RESTORY_CHECKPOINT_INTERVAL_MS: '3600000' };

/** A data dir with one session: `folded` events in restory.db, then `journaled` more only in journal.log. */
async function recordedDataDir(journaled: number): Promise<{ dataDir: string; sessionId: string; writer: StormWriter }> {
  const dataDir = join(tempParent(), 'data');
  let companion = await spawnCompanion(dataDir);
  const writer = new StormWriter(dataDir, 'disk-writer-instance');
  await writer.start();
  await sleep(50);
  await writer.stop();
  await writer.settle();
  writer.close();
  expect(await companion.kill('SIGTERM')).toBe(0); // folds everything into restory.db
  companion = await spawnCompanion(dataDir, NO_CHECKPOINT);
  const journalWriter = new StormWriter(dataDir, 'disk-writer-instance');
  journalWriter.nextSeq = journalWriter.acked = writer.nextSeq - 1;
  journalWriter.nextSeq++;
  await journalWriter.start();
  while (journalWriter.nextSeq <= writer.nextSeq + journaled) await sleep(5);
  await journalWriter.stop();
  await journalWriter.settle();
  journalWriter.close();
  expect(await companion.kill('SIGKILL')).toBe('SIGKILL'); // the journal is not folded
  expect(statSync(join(dataDir, 'journal.log')).size).toBeGreaterThan(0);
  return { dataDir, sessionId: journalWriter.sessionId!, writer: journalWriter };
}

async function expectCliRefuses(dataDir: string, file: string, message: RegExp): Promise<void> {
  const before = readFileSync(file);
  const commands = [['list'], ['list', '--json'], ['start', '--url', 'about:blank']];
  const results = await Promise.all(commands.map((args) => runCli([...args, '--data-dir', dataDir])));
  for (const [i, args] of commands.entries()) {
    const r = results[i];
    expect(r.code, `restory ${args.join(' ')}: ${r.stderr}`).not.toBe(0);
    expect(r.stderr).toMatch(new RegExp(`^restory ${args[0]}: `));
    expect(r.stderr).toContain(file);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/left untouched/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toBe('');
  }
  expect(readFileSync(file).equals(before), `${file} was modified`).toBe(true);
}

describe('damaged files, through the CLI', () => {
  let recorded: Awaited<ReturnType<typeof recordedDataDir>>;
  beforeAll(async () => {
    recorded = await recordedDataDir(200);
  });

  /** A copy of the recorded data dir to damage. */
  function copyOf(): string {
    const dir = join(tempParent(), 'data');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (const f of ['restory.db', 'journal.log', 'token']) copyFileSync(join(recorded.dataDir, f), join(dir, f));
    return dir;
  }

  it('a journal cut mid-record: list works, every complete record is kept, nothing is written', async () => {
    const dir = copyOf();
    const journal = join(dir, 'journal.log');
    const full = readFileSync(journal);
    const lastStart = full.lastIndexOf('J1 ', full.length - 2);
    const cut = full.subarray(0, lastStart + Math.floor((full.length - lastStart) / 2));
    writeFileSync(journal, cut);
    const r = await runCli(['list', '--json', '--data-dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([expect.objectContaining({ id: recorded.sessionId })]);
    expect(readFileSync(journal).equals(cut)).toBe(true);
    const store = await SqlJsStore.open({ dataDir: dir, readOnly: true });
    const items = localItems(store.currentState(recorded.sessionId), 'https://storm.test');
    const kept = store.captureCursor(recorded.sessionId).lastSeq;
    await store.close();
    // Only the last record (one batch) is lost, and it was the one cut.
    expect(kept).toBeLessThan(recorded.writer.acked);
    expect(kept).toBeGreaterThan(recorded.writer.acked - 10);
    for (let s = 1; s <= kept; s++) expect(items[`k${s}`]).toBe(`v${s}`);
  });

  it('a journal damaged in the middle is refused by list and start, byte for byte intact', async () => {
    const dir = copyOf();
    const journal = join(dir, 'journal.log');
    const bytes = readFileSync(journal);
    const middle = bytes.indexOf('\nJ1 ', Math.floor(bytes.length / 2)) + 1;
    bytes.fill(0x3f, middle + 20, middle + 60);
    writeFileSync(journal, bytes);
    await expectCliRefuses(dir, journal, /journal\.log is damaged at byte \d+ \((checksum mismatch|record length does not match|bad record header)\) with valid records after it/);
  });

  it('a journal full of garbage is refused, not silently dropped', async () => {
    const dir = copyOf();
    const journal = join(dir, 'journal.log');
    const garbage = Buffer.alloc(256 * 1024);
    for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 7919 + (i >> 3) + 1) & 0xff;
    writeFileSync(journal, garbage);
    await expectCliRefuses(dir, journal, /journal\.log holds 262144 bytes at byte 0 that are not journal records/);
    // Valid records followed by garbage: refused the same way, naming where the garbage starts.
    const mixed = copyOf();
    const mixedJournal = join(mixed, 'journal.log');
    const valid = readFileSync(mixedJournal);
    writeFileSync(mixedJournal, Buffer.concat([valid, garbage.subarray(0, 1000)]));
    await expectCliRefuses(mixed, mixedJournal, new RegExp(`holds 1000 bytes at byte ${valid.length} that are not journal records`));
  });

  it('a database that is garbage or truncated is refused by list and start, byte for byte intact', async () => {
    const garbage = copyOf();
    writeFileSync(join(garbage, 'restory.db'), Buffer.alloc(8192, 0x5a));
    await expectCliRefuses(garbage, join(garbage, 'restory.db'), /restory\.db cannot be used: it is not a SQLite database/);

    const truncated = copyOf();
    const db = join(truncated, 'restory.db');
    const full = readFileSync(db);
    expect(full.length).toBeGreaterThan(8192);
    writeFileSync(db, full.subarray(0, Math.floor(full.length / 2) + 100)); // mid-page
    await expectCliRefuses(truncated, db, /restory\.db cannot be used: it is truncated/);
  });
});

describe('no space left on the device (a 2 MiB tmpfs)', () => {
  let mountPoint: string | null = null;
  let why = '';

  beforeAll(() => {
    const dir = join(tempParent(), 'small-fs');
    mkdirSync(dir);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m,mode=0700', 'tmpfs', dir], { stdio: 'pipe' });
      mountPoint = dir;
    } catch (e) {
      why = `cannot mount a tmpfs here (${(e as Error).message.split('\n')[0]}); the ENOSPC test needs root or CAP_SYS_ADMIN`;
    }
  });

  afterAll(() => {
    if (mountPoint) execFileSync('umount', ['-l', mountPoint]);
  });

  it('a full disk: clear error, nothing acknowledged that is not on disk, the previous db intact, capture acknowledged again once space returns', async (ctx) => {
    // Shown as skipped, with the reason, rather than passing without having run.
    if (!mountPoint) return ctx.skip(`ENOSPC test not run: ${why}`);
    const dataDir = join(mountPoint, 'data');
    const companion = await spawnCompanion(dataDir, { RESTORY_CHECKPOINT_INTERVAL_MS: '200', RESTORY_SNAPSHOT_INTERVAL_MS: '1000' });
    try {
      const writer = new StormWriter(dataDir, 'enospc-writer-instance');
      await writer.start();
      await sleep(100);
      await writer.stop();
      await writer.settle();
      const ackedBefore = writer.acked;
      await sleep(400); // a checkpoint folds it into restory.db

      // Fill the file system to the last byte.
      const filler = join(mountPoint, 'filler');
      const fd = openSync(filler, 'w');
      const block = Buffer.alloc(64 * 1024, 1);
      try {
        for (;;) writeSync(fd, block);
      } catch (e) {
        expect((e as NodeJS.ErrnoException).code).toBe('ENOSPC');
      }
      try {
        for (;;) writeSync(fd, block.subarray(0, 512));
      } catch {
        // full
      }
      closeSync(fd);
      const dbBefore = readFileSync(join(dataDir, 'restory.db'));

      // Capture now fails: an error that says why, and nothing acknowledged.
      // From here on the writer is the host of a browser the companion launched (auth with the
      // session id), whose capture must be allowed to resume after failing.
      const full = new StormWriter(dataDir, 'enospc-writer-instance', Math.random, writer.sessionId!);
      Object.assign(full, { acked: writer.acked, nextSeq: writer.nextSeq });
      await full.start();
      await sleep(600);
      await full.stop();
      // A stream ending while nothing can be journaled must not take the companion down.
      writer.close();
      await sleep(200);
      expect(companion.child.exitCode, companion.stderr()).toBeNull();
      // An append that still fits in the page tmpfs already gave the journal can succeed on a full
      // disk (seen in CI once the journal rotates at checkpoints): a few acks are possible, and each
      // must be durable (checked below); the rest fail with a clear error.
      expect(full.acked - ackedBefore, 'acknowledged on a full disk').toBeLessThan(full.nextSeq - 1 - ackedBefore);
      expect(full.errors.join('\n')).toMatch(/storage_failed.*ENOSPC|ENOSPC.*storage_failed/);
      expect(full.errors.join('\n')).toMatch(/journal\.log/);
      // Checkpoints fail too, and leave the previous database as it was (and openable).
      await sleep(500);
      expect(readFileSync(join(dataDir, 'restory.db')).equals(dbBefore), 'restory.db changed on a full disk').toBe(true);
      const ro = await SqlJsStore.open({ dataDir, readOnly: true });
      const seen = localItems(ro.currentState(full.sessionId!), 'https://storm.test');
      for (let s = 1; s <= full.acked; s++) expect(seen[`k${s}`]).toBe(`v${s}`);
      await ro.close();
      expect(companion.child.exitCode).toBeNull();

      // Space returns: the companion catches up by itself, new events are acknowledged again.
      rmSync(filler);
      const failedUpTo = full.nextSeq - 1;
      full.close();
      await full.start(10_000);
      const deadline = Date.now() + 10_000;
      while (full.acked <= failedUpTo && Date.now() < deadline) await sleep(50);
      await full.stop();
      await full.settle();
      expect(full.acked).toBeGreaterThan(failedUpTo);

      // The session is capturing again, not stuck in `error`.
      const client = await RawConnection.authed(dataDir, 'client');
      client.send({ type: 'request', id: 'l', method: 'list', params: {} });
      const listed = (await client.next((m) => m.id === 'l', 5000)) as { result: { sessions: { id: string; state: string }[] } };
      client.destroy();
      expect(listed.result.sessions.find((s) => s.id === full.sessionId)?.state).toBe('active');
      full.close();

      // And what was acknowledged survives a SIGKILL.
      expect(await companion.kill('SIGKILL')).toBe('SIGKILL');
      const store = await SqlJsStore.open({ dataDir, readOnly: true });
      const items = localItems(store.currentState(full.sessionId!), 'https://storm.test');
      await store.close();
      const lost = Array.from({ length: full.acked }, (_, i) => i + 1).filter((s) => items[`k${s}`] !== `v${s}`);
      expect(lost).toEqual([]);
      expect(existsSync(join(dataDir, 'restory.db'))).toBe(true);
    } finally {
      await companion.kill('SIGKILL');
    }
  });
});
