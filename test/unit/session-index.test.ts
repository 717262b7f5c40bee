/**
 * The session index (store/session-index.ts) is a cache `restory list` reads instead of opening the
 * store: it must answer exactly what a read-only open lists, or refuse (null) — never lie.
 */
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SessionStatusSchema } from '../../shared/state.js';
import { dataPaths } from '../../companion/data-dir.js';
import { readSessionIndex, sessionIndexPath, STATES_SHOWN_AS_STORED } from '../../companion/store/session-index.js';
import { SqlJsStore } from '../../companion/store/sqljs-store.js';
import { closeStores, forgetStore, navigate, openStore, setLocal } from '../helpers/store-fixtures.js';
import { newDataDirPath, removeTempDirs } from '../helpers/temp-dirs.js';

const NO_TIMER = { checkpointIntervalMs: 3_600_000 };

afterEach(closeStores);
afterAll(removeTempDirs);

/** What the full way lists: the store opened read-only, journal replayed. */
async function listedByOpen(dataDir: string) {
  const store = await SqlJsStore.open({ dataDir, readOnly: true });
  try {
    return store.listSessions();
  } finally {
    await store.close();
  }
}

/** A data dir closed cleanly with two sessions that are not active (one with captured tabs). */
async function cleanStore(): Promise<string> {
  const dataDir = newDataDirPath();
  const store = await SqlJsStore.open({ dataDir, config: NO_TIMER });
  const a = store.createSession({ name: 'a', id: 'aaaa' });
  store.applyEvents(a.id, 'i', [navigate(1, 1, 'https://a.test/page'), setLocal(2, { k: 'v' })]);
  store.setState(a.id, 'recoverable');
  store.createSession({ name: 'b', id: 'bbbb', state: 'closed' });
  await store.close();
  return dataDir;
}

describe('session index', () => {
  it('lists(after a clean close, what a read-only open lists)', async () => {
    const dataDir = await cleanStore();
    const indexed = readSessionIndex(dataPaths(dataDir));
    expect(indexed).not.toBeNull();
    expect(indexed).toEqual(await listedByOpen(dataDir));
    expect(indexed!.map((s) => s.id).sort()).toEqual(['aaaa', 'bbbb']);
  });

  it('lists(an empty store, with no data dir at all, as empty)', () => {
    expect(readSessionIndex(dataPaths(newDataDirPath()))).toEqual([]);
  });

  it('refuses(while the journal holds records newer than the checkpoint)', async () => {
    const dataDir = await cleanStore();
    const store = await openStore(dataDir, { config: NO_TIMER });
    store.createSession({ name: 'journal only', id: 'cccc', state: 'recoverable' });
    await store.flush();
    forgetStore(store); // abandoned as a SIGKILL would: the session exists only in journal.log
    expect(readSessionIndex(dataPaths(dataDir))).toBeNull();
    expect((await listedByOpen(dataDir)).map((s) => s.id)).toContain('cccc');
  });

  it('refuses(an index that names an older restory.db)', async () => {
    const dataDir = await cleanStore();
    const index = sessionIndexPath(dataPaths(dataDir).db);
    const stale = `${index}.old`;
    copyFileSync(index, stale);
    const store = await openStore(dataDir, { config: NO_TIMER });
    store.setState('aaaa', 'stale');
    await store.close();
    // As if the checkpoint had died between renaming restory.db in and writing its index.
    copyFileSync(stale, index);
    expect(readSessionIndex(dataPaths(dataDir))).toBeNull();
    expect((await listedByOpen(dataDir)).find((s) => s.id === 'aaaa')?.state).toBe('stale');
  });

  it('refuses(a store with an active session: its orphan verdict needs the full open)', async () => {
    const dataDir = newDataDirPath();
    const store = await SqlJsStore.open({ dataDir, config: NO_TIMER });
    store.createSession({ name: 'a', id: 'aaaa' });
    await store.close();
    expect(readSessionIndex(dataPaths(dataDir))).toBeNull();
  });

  it('refuses(a malformed or garbled index)', async () => {
    const dataDir = await cleanStore();
    const index = sessionIndexPath(dataPaths(dataDir).db);
    const good = JSON.parse(readFileSync(index, 'utf8')) as { sessions: Record<string, unknown>[] };
    for (const bad of ['', '{"format":', JSON.stringify({ ...good, v: 2 }), JSON.stringify({ ...good, sessions: [{ ...good.sessions[0], tabCount: -1 }] })]) {
      writeFileSync(index, bad);
      expect(readSessionIndex(dataPaths(dataDir)), bad).toBeNull();
    }
  });

  it('is written(by a background checkpoint in the worker, for the file it renamed in)', async () => {
    const dataDir = await cleanStore();
    const store = await openStore(dataDir, { config: NO_TIMER });
    store.setState('aaaa', 'failed', 'boom');
    await store.flush();
    await store.checkpointInBackground();
    forgetStore(store); // abandoned: no closing checkpoint on the companion's thread
    const indexed = readSessionIndex(dataPaths(dataDir));
    expect(indexed?.find((s) => s.id === 'aaaa')).toMatchObject({ state: 'failed', lastError: 'boom' });
    expect(indexed).toEqual(await listedByOpen(dataDir));
  });

  it('is never written(for an encrypted store: it would be plaintext)', async () => {
    const dataDir = await cleanStore();
    expect(existsSync(sessionIndexPath(dataPaths(dataDir).db))).toBe(true);
    const env = { RESTORY_KEY: 'correct horse battery staple' };
    const store = await SqlJsStore.open({ dataDir, env, config: NO_TIMER });
    await store.close();
    expect(existsSync(sessionIndexPath(dataPaths(dataDir).db))).toBe(false);
  });

  it('shows as stored(every state but active)', () => {
    expect([...STATES_SHOWN_AS_STORED].sort()).toEqual(SessionStatusSchema.options.filter((s) => s !== 'active').sort());
  });
});
