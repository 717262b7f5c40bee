import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeRecord, parseJournal } from '../../companion/store/journal-format.js';
import { SqlJsStore } from '../../companion/store/sqljs-store.js';
import { localItems, setLocal } from '../helpers/store-fixtures.js';
import { newDataDirPath, removeTempDirs } from '../helpers/temp-dirs.js';

afterEach(() => removeTempDirs());

const NO_TIMER = { checkpointIntervalMs: 3_600_000 };

/** A data dir holding a folded db plus `n` journaled-but-unfolded events (k1..kn) for session "s". */
async function dirWithJournal(n: number): Promise<string> {
  const dir = newDataDirPath();
  const store = await SqlJsStore.open({ dataDir: dir, config: NO_TIMER });
  store.createSession({ name: 's', id: 's' });
  store.checkpoint();
  for (let i = 1; i <= n; i++) {
    store.applyEvents('s', 'inst', [setLocal(i, { [`k${i}`]: String(i) })]);
    await store.flush();
  }
  // Simulate a crash: drop the store without its final checkpoint (the lock is taken over later).
  (store as unknown as { closed: boolean }).closed = true;
  (store as unknown as { lock: { release(): void } }).lock.release();
  return dir;
}

/** A closed data dir whose database holds 20 snapshots (well over 16 KiB, several pages). */
async function dirWithSnapshots(): Promise<{ dir: string; db: string }> {
  const dir = newDataDirPath();
  const store = await SqlJsStore.open({ dataDir: dir });
  const s = store.createSession({ name: 'big', id: 's' });
  for (let i = 1; i <= 20; i++) {
    store.applyEvents(s.id, 'i', [setLocal(i, { [`k${i}`]: 'x'.repeat(2000) })]);
    store.saveSnapshot(s.id, 'interval');
  }
  await store.close();
  return { dir, db: join(dir, 'restory.db') };
}

async function expectRefusedIntact(dir: string, file: string, message: RegExp): Promise<void> {
  const before = readFileSync(file);
  await expect(SqlJsStore.open({ dataDir: dir })).rejects.toMatchObject({ code: 'storage_failed', message: expect.stringMatching(message) });
  await expect(SqlJsStore.open({ dataDir: dir, readOnly: true })).rejects.toMatchObject({ code: 'storage_failed' });
  expect(readFileSync(file).equals(before)).toBe(true);
  // The refused open released its lock: another attempt is refused for the same reason, not the lock.
  await expect(SqlJsStore.open({ dataDir: dir })).rejects.toMatchObject({ code: 'storage_failed' });
}

describe('journal replay', () => {
  it('replays journaled events that were never folded', async () => {
    const dir = await dirWithJournal(5);
    const store = await SqlJsStore.open({ dataDir: dir });
    expect(localItems(store.currentState('s'))).toEqual({ k1: '1', k2: '2', k3: '3', k4: '4', k5: '5' });
    expect(store.captureCursor('s').lastSeq).toBe(5);
    // The open folded the journal.
    expect(readFileSync(join(dir, 'journal.log')).length).toBe(0);
    await store.close();
  });

  it('drops a torn tail and keeps every complete record before it', async () => {
    const dir = await dirWithJournal(4);
    const journal = join(dir, 'journal.log');
    const full = readFileSync(journal);
    const lastStart = full.lastIndexOf('J1 ', full.length - 2);
    for (const cut of [lastStart + 1, lastStart + 10, full.length - 1]) {
      const d = newDataDirPath();
      mkdirSync(d, { recursive: true });
      copyFileSync(join(dir, 'restory.db'), join(d, 'restory.db'));
      writeFileSync(join(d, 'journal.log'), full.subarray(0, cut), { mode: 0o600 });
      const store = await SqlJsStore.open({ dataDir: d });
      expect(localItems(store.currentState('s'))).toEqual({ k1: '1', k2: '2', k3: '3' });
      store.applyEvents('s', 'inst', [setLocal(5, { k5: '5' })]);
      await store.flush();
      await store.close();
      const again = await SqlJsStore.open({ dataDir: d });
      expect(localItems(again.currentState('s'))).toEqual({ k1: '1', k2: '2', k3: '3', k5: '5' });
      await again.close();
    }
  });

  it('treats zero-filled or garbage bytes after the last record as a torn tail', async () => {
    const dir = await dirWithJournal(2);
    const journal = join(dir, 'journal.log');
    writeFileSync(journal, Buffer.concat([readFileSync(journal), Buffer.alloc(4096)]));
    const store = await SqlJsStore.open({ dataDir: dir });
    expect(localItems(store.currentState('s'))).toEqual({ k1: '1', k2: '2' });
    await store.close();
  });

  it('refuses a journal damaged in the middle and leaves it byte-for-byte intact', async () => {
    const dir = await dirWithJournal(4);
    const journal = join(dir, 'journal.log');
    const bytes = readFileSync(journal);
    const second = bytes.indexOf('\nJ1 ') + 1;
    bytes[second + 40] ^= 0xff; // flip a byte inside the second record's JSON
    writeFileSync(journal, bytes);
    await expectRefusedIntact(dir, journal, /journal\.log is damaged at byte \d+ \(checksum mismatch\) with valid records after it.*Move it aside/);
  });

  it('skips records already folded (crash between the db rename and the journal truncate)', async () => {
    const dir = await dirWithJournal(3);
    const journal = join(dir, 'journal.log');
    const stale = readFileSync(journal);
    const store = await SqlJsStore.open({ dataDir: dir }); // folds k1..k3, truncates
    store.applyEvents('s', 'inst', [setLocal(4, { k4: '4' })]);
    await store.flush();
    const fresh = readFileSync(journal);
    (store as unknown as { closed: boolean }).closed = true;
    (store as unknown as { lock: { release(): void } }).lock.release();
    // As if the truncate after the fold had not happened: old records precede the new one.
    writeFileSync(journal, Buffer.concat([stale, fresh]));
    const again = await SqlJsStore.open({ dataDir: dir });
    expect(localItems(again.currentState('s'))).toEqual({ k1: '1', k2: '2', k3: '3', k4: '4' });
    expect(again.captureCursor('s').lastSeq).toBe(4);
    await again.close();
  });

  it('refuses a journal that does not continue where the db ends', async () => {
    const dir = await dirWithJournal(0);
    const journal = join(dir, 'journal.log');
    writeFileSync(journal, encodeRecord({ t: 'status', sid: 's', status: 'closed', lsn: 99 }));
    await expectRefusedIntact(dir, journal, /continues at LSN 99 but .*restory\.db ends at LSN 1/);
  });

  it('parseJournal: record format', () => {
    const a = encodeRecord({ t: 'delete', sid: 'x', lsn: 1 });
    expect(a.toString()).toMatch(/^J1 [0-9a-f]{8} \d+ \{"t":"delete","sid":"x","lsn":1\}\n$/);
    const b = encodeRecord({ t: 'delete', sid: 'é😀', lsn: 2 });
    const parsed = parseJournal(Buffer.concat([a, b]), 'j');
    expect(parsed.records.map((r) => r.lsn)).toEqual([1, 2]);
    expect(parsed.tornBytes).toBe(0);
    expect(parseJournal(Buffer.concat([a, b.subarray(0, 5)]), 'j')).toMatchObject({ validBytes: a.length, tornBytes: 5 });
    expect(() => parseJournal(Buffer.concat([b, a]), 'j')).toThrow(/LSN 1 after 2/);
  });
});

describe('damaged database file', () => {
  it('refuses a file that is not SQLite and leaves it intact', async () => {
    const dir = newDataDirPath();
    mkdirSync(dir, { recursive: true });
    const db = join(dir, 'restory.db');
    writeFileSync(db, 'this is not a database, just some text that is long enough to have a header '.repeat(4));
    await expectRefusedIntact(dir, db, /restory\.db cannot be used: it is not a SQLite database\. It was left untouched\. Move it aside/);
  });

  it('refuses an empty file', async () => {
    const dir = newDataDirPath();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'restory.db'), '');
    await expectRefusedIntact(dir, join(dir, 'restory.db'), /not a SQLite database/);
  });

  it('refuses a truncated database and leaves it intact', async () => {
    const { dir, db } = await dirWithSnapshots();
    const full = readFileSync(db);
    expect(full.length).toBeGreaterThan(16 * 1024);
    writeFileSync(db, full.subarray(0, Math.floor(full.length / 2)));
    await expectRefusedIntact(dir, db, /restory\.db cannot be used: it is truncated/);
  });

  it('refuses a database whose pages are damaged', async () => {
    const { dir, db } = await dirWithSnapshots();
    const bytes = readFileSync(db);
    // Overwrite the b-tree page headers of pages 2.. with garbage.
    for (let page = 1; page * 4096 < bytes.length; page++) bytes.fill(0xa5, page * 4096, page * 4096 + 64);
    writeFileSync(db, bytes);
    await expectRefusedIntact(dir, db, /restory\.db cannot be used: SQLite reports it damaged/);
  });
});

/**
 * The file states a SIGKILL can leave during a background checkpoint (checkpoint.ts), built
 * deterministically: the kill tests in store-crash.test.ts hit them at random.
 */
describe('crash states of an off-loop checkpoint', () => {
  /** The store's journal writer, to rotate it as a background checkpoint does, without the worker. */
  function journalOf(store: SqlJsStore): { rotate(): Promise<number> } {
    return (store as unknown as { checkpointer: { journal: { rotate(): Promise<number> } } }).checkpointer.journal;
  }
  function crash(store: SqlJsStore): void {
    (store as unknown as { closed: boolean }).closed = true;
    (store as unknown as { lock: { release(): void } }).lock.release();
  }
  async function write(store: SqlJsStore, from: number, to: number): Promise<void> {
    for (let i = from; i <= to; i++) {
      store.applyEvents('s', 'inst', [setLocal(i, { [`k${i}`]: String(i) })]);
      await store.flush();
    }
  }
  async function expectAll(dir: string, n: number): Promise<void> {
    const store = await SqlJsStore.open({ dataDir: dir, config: NO_TIMER });
    try {
      const have = localItems(store.currentState('s'));
      for (let i = 1; i <= n; i++) expect(have[`k${i}`]).toBe(String(i));
      expect(store.captureCursor('s').lastSeq).toBe(n);
    } finally {
      await store.close();
    }
    expect(existsSync(join(dir, 'journal.log.rotated'))).toBe(false);
  }

  it('killed after the rotation, before the new db is renamed in: both journal files are replayed', async () => {
    const dir = newDataDirPath();
    const store = await SqlJsStore.open({ dataDir: dir, config: NO_TIMER });
    store.createSession({ name: 's', id: 's' });
    await write(store, 1, 10);
    await journalOf(store).rotate();
    await write(store, 11, 20);
    crash(store);
    expect(existsSync(join(dir, 'journal.log.rotated'))).toBe(true);
    await expectAll(dir, 20);
  });

  it('killed after the rename, before the rotated segment is deleted: its records are skipped, not applied twice', async () => {
    const dir = newDataDirPath();
    const store = await SqlJsStore.open({ dataDir: dir, config: NO_TIMER });
    store.createSession({ name: 's', id: 's' });
    await write(store, 1, 10);
    await journalOf(store).rotate();
    const rotated = join(dir, 'journal.log.rotated');
    const kept = readFileSync(rotated);
    await write(store, 11, 20);
    store.checkpoint(); // restory.db now holds 1..20 and the rotated segment is deleted…
    writeFileSync(rotated, kept); // …which the kill prevented
    await write(store, 21, 25);
    crash(store);
    await expectAll(dir, 25);
  });

  it('killed while the worker wrote its temp file: the file is removed at open, nothing is lost', async () => {
    const dir = await dirWithJournal(5);
    writeFileSync(join(dir, `.restory.db.tmp-${process.pid}-worker`), 'half a database');
    await expectAll(dir, 5);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('a background checkpoint folds the journal into restory.db and leaves no rotated segment', async () => {
    const dir = newDataDirPath();
    const store = await SqlJsStore.open({ dataDir: dir, config: NO_TIMER });
    store.createSession({ name: 's', id: 's' });
    await write(store, 1, 10);
    await store.checkpointInBackground();
    crash(store);
    expect(existsSync(join(dir, 'journal.log.rotated'))).toBe(false);
    // Whether the worker ran (dist/ built) or the synchronous fallback did, restory.db holds all 10 now.
    writeFileSync(join(dir, 'journal.log'), '');
    await expectAll(dir, 10);
  });
});
