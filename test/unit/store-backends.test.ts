/**
 * The `Store` contract, run against both backends: the embedded sql.js store and the shared
 * PostgreSQL store (a real server started by test/helpers/postgres.ts). Everything is awaited, as
 * callers must for a store over the network.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RestoryError } from '../../shared/errors.js';
import type { CaptureEvent, SequencedEvent } from '../../shared/capture-events.js';
import { emptySessionState } from '../../shared/state.js';
import { PgStore } from '../../companion/store/pg-store.js';
import { SqlJsStore } from '../../companion/store/sqljs-store.js';
import type { Store, StoreOptions } from '../../companion/store/store.js';
import type { Config } from '../../companion/config.js';
import { startPostgres, type PgServer } from '../helpers/postgres.js';
import { localItems, setLocal, tabsEvent } from '../helpers/store-fixtures.js';
import { newDataDirPath, removeTempDirs } from '../helpers/temp-dirs.js';

type Opts = Pick<StoreOptions, 'clock' | 'env'> & { config?: Partial<Config> };

interface Backend {
  name: string;
  /** A fresh place to keep a store (a data dir, a database). */
  place(): Promise<string>;
  open(place: string, opts?: Opts): Promise<Store>;
}

let server: PgServer;
const opened: Store[] = [];

async function track<T extends Store>(s: Promise<T>): Promise<T> {
  const store = await s;
  opened.push(store);
  return store;
}

const backends: Backend[] = [
  {
    name: 'sql.js',
    place: async () => newDataDirPath(),
    open: (dataDir, opts = {}) => track(SqlJsStore.open({ dataDir, env: {}, ...opts })),
  },
  {
    name: 'postgres',
    place: () => server.createDatabase(),
    open: (url, opts = {}) => track(PgStore.open({ url, env: {}, ...opts })),
  },
];

beforeAll(async () => {
  server = await startPostgres();
});
afterAll(() => server?.stop());
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close().catch(() => {});
  removeTempDirs();
});

/** The embedded store throws synchronously, the shared one rejects: make both a rejection. */
function later<T>(fn: () => T | Promise<T>): Promise<T> {
  return Promise.resolve().then(fn);
}

function fakeClock(start = 1_000) {
  let now = start;
  return { clock: () => now, tick: (ms = 1) => (now += ms) };
}

describe.each(backends)('Store contract: $name', (backend) => {
  it('sessions round-trip, list newest activity first, and survive reopen', async () => {
    const place = await backend.place();
    const { clock, tick } = fakeClock();
    const store = await backend.open(place, { clock });
    const a = await store.createSession({ name: 'first' });
    tick();
    const b = await store.createSession({ name: 'second', id: 'fixed-id', state: 'recoverable' });
    expect(a.id).toMatch(/^[0-9a-f]{8}$/);
    expect(b).toMatchObject({ id: 'fixed-id', name: 'second', state: 'recoverable', createdAt: 1001, lastSnapshotAt: null, tabCount: 0 });
    expect(await store.getSession('nope')).toBeUndefined();
    await expect(later(() => store.requireSession('nope'))).rejects.toThrow('no session with id "nope"; list them with: restory list');
    await expect(later(() => store.createSession({ name: 'dup', id: 'fixed-id' }))).rejects.toThrow(/already exists/);
    expect((await store.listSessions()).map((s) => s.id)).toEqual(['fixed-id', a.id]);
    expect((await store.listSessions({ state: 'active' })).map((s) => s.id)).toEqual([a.id]);
    tick();
    await store.applyEvents(a.id, 'instance-1', [setLocal(1, { k: 'v' })]);
    await store.flush();
    expect((await store.listSessions()).map((s) => s.id)).toEqual([a.id, 'fixed-id']);
    await store.close();

    const again = await backend.open(place);
    expect((await again.listSessions()).map((s) => s.name)).toEqual(['first', 'second']);
    expect(localItems(await again.currentState(a.id))).toEqual({ k: 'v' });
  });

  it('setState keeps, sets and clears lastError; deleteSession removes the session and its snapshots', async () => {
    const store = await backend.open(await backend.place());
    const s = await store.createSession({ name: 'x' });
    await store.setState(s.id, 'error', 'browser crashed');
    expect(await store.requireSession(s.id)).toMatchObject({ state: 'error', lastError: 'browser crashed' });
    await store.setState(s.id, 'recoverable');
    expect(await store.requireSession(s.id)).toMatchObject({ state: 'recoverable', lastError: 'browser crashed' });
    await store.setState(s.id, 'active', null);
    expect((await store.requireSession(s.id)).lastError).toBeNull();
    await store.applyEvents(s.id, 'instance-1', [setLocal(1, { a: '1' })]);
    expect(await store.saveSnapshot(s.id, 'manual')).not.toBeNull();
    await store.deleteSession(s.id);
    expect(await store.getSession(s.id)).toBeUndefined();
    expect(await store.listSnapshots(s.id)).toEqual([]);
    await expect(later(() => store.currentState(s.id))).rejects.toThrow(RestoryError);
  });

  it('IndexedDB deltas fold into what is held and survive a reopen; one on top of other data asks for a resync and changes nothing', async () => {
    const place = await backend.place();
    const store = await backend.open(place);
    const s = await store.createSession({ name: 'x' });
    const origin = 'https://a.test';
    const ev = (seq: number, event: CaptureEvent): SequencedEvent => ({ seq, at: seq, event });
    const records = (store: { records: unknown[] }[] | undefined) => store?.[0]?.records;
    const held = async (st: Store) => records((await st.currentState(s.id)).origins.find((o) => o.origin === origin)?.indexedDB?.[0]?.stores);
    const full: CaptureEvent = { kind: 'indexeddb', tabId: 1, origin, hash: 'h0', warnings: [], databases: [{ name: 'db', version: 1, stores: [{ name: 's', autoIncrement: false, indexes: [], records: [{ key: 'a', value: 1 }, { key: 'b', value: 2 }] }] }] };
    const delta = (base: string, before: number): CaptureEvent =>
      ({ kind: 'indexeddb.delta', tabId: 1, origin, base, hash: `${base}+`, warnings: [], stores: [{ database: 'db', store: 's', before, after: 2, splices: [{ at: 1, remove: 1, insert: [{ key: 'b', value: 3 }] }] }] });
    expect((await store.applyEvents(s.id, 'i', [ev(1, full), ev(2, delta('h0', 2))])).resync).toBe(false);
    expect(await held(store)).toEqual([{ key: 'a', value: 1 }, { key: 'b', value: 3 }]);
    expect((await store.applyEvents(s.id, 'i', [ev(3, delta('elsewhere', 2))])).resync).toBe(true);
    expect((await store.applyEvents(s.id, 'i', [ev(4, delta('h0+', 5))])).resync).toBe(true);
    expect(await held(store)).toEqual([{ key: 'a', value: 1 }, { key: 'b', value: 3 }]);
    await store.flush();
    await store.close();
    const again = await backend.open(place);
    expect(await held(again)).toEqual([{ key: 'a', value: 1 }, { key: 'b', value: 3 }]);
    await again.close();
  });

  it('applyEvents drops seq ≤ lastSeq of the same instance, restarts for a new one, and is durable after flush', async () => {
    const place = await backend.place();
    const store = await backend.open(place);
    const s = await store.createSession({ name: 'x' });
    expect(await store.applyEvents(s.id, 'inst-A', [setLocal(1, { a: '1' }), setLocal(2, { b: '2' })])).toEqual({ accepted: 2, lastSeq: 2, resync: false });
    expect(await store.applyEvents(s.id, 'inst-A', [setLocal(2, { b: 'dup' }), setLocal(3, { c: '3' })])).toEqual({ accepted: 1, lastSeq: 3, resync: false });
    expect(await store.applyEvents(s.id, 'inst-A', [setLocal(1, { a: 'old' })])).toEqual({ accepted: 0, lastSeq: 3, resync: false });
    expect(await store.applyEvents(s.id, 'inst-B', [setLocal(1, { d: '4' })])).toEqual({ accepted: 1, lastSeq: 1, resync: false });
    await store.flush();
    expect(await store.captureCursor(s.id)).toEqual({ instanceId: 'inst-B', lastSeq: 1 });
    expect(await store.findSessionByInstance('inst-B')).toBe(s.id);
    await store.close();
    const again = await backend.open(place);
    expect(localItems(await again.currentState(s.id))).toEqual({ a: '1', b: '2', c: '3', d: '4' });
    expect(await again.captureCursor(s.id)).toEqual({ instanceId: 'inst-B', lastSeq: 1 });
    expect(await again.findSessionByInstance('inst-B')).toBe(s.id);
  });

  it('snapshots dedupe by content, keep the configured count, and restore what was captured', async () => {
    const { clock, tick } = fakeClock();
    const store = await backend.open(await backend.place(), { clock, config: { snapshotsKept: 2 } });
    const s = await store.createSession({ name: 'x' });
    await store.applyEvents(s.id, 'i', [tabsEvent(1, [{ tabId: 1, url: 'https://a.test/', title: 'A' }]), setLocal(2, { k: '1', big: 'x'.repeat(20_000) })]);
    tick();
    const first = await store.saveSnapshot(s.id, 'manual');
    expect(first).not.toBeNull();
    expect(await store.saveSnapshot(s.id, 'interval')).toBeNull(); // nothing changed
    for (let i = 2; i <= 4; i++) {
      await store.applyEvents(s.id, 'i', [setLocal(i + 1, { k: String(i) })]);
      tick();
      expect(await store.saveSnapshot(s.id, 'interval')).not.toBeNull();
    }
    const infos = await store.listSnapshots(s.id);
    expect(infos).toHaveLength(2);
    expect(infos[0].id).toBeGreaterThan(infos[1].id);
    const latest = await store.requireSnapshot(s.id);
    expect(localItems(latest.state)).toMatchObject({ k: '4', big: 'x'.repeat(20_000) });
    expect(latest.state.tabs.map((t) => t.url)).toEqual(['https://a.test/']);
    expect(await store.getSnapshot(s.id, first!.id)).toBeUndefined(); // pruned
    await expect(later(() => store.requireSnapshot(s.id, 999_999))).rejects.toThrow(/no snapshot 999999/);
    expect(await store.requireSession(s.id)).toMatchObject({ tabCount: 1, currentUrl: 'https://a.test/', currentTitle: 'A' });
  });

  it('resetLive restarts capture from a state; createSession starts from a given one', async () => {
    const store = await backend.open(await backend.place());
    const state = { ...emptySessionState(5), origins: [{ origin: 'https://b.test', localStorage: [{ name: 'x', value: 'y' }] }] };
    const s = await store.createSession({ name: 'imported', initial: state });
    expect(localItems(await store.currentState(s.id), 'https://b.test')).toEqual({ x: 'y' });
    await store.applyEvents(s.id, 'i', [setLocal(7, { z: '1' })]);
    await store.resetLive(s.id, emptySessionState(9));
    expect((await store.currentState(s.id)).origins).toEqual([]);
    expect(await store.captureCursor(s.id)).toEqual({ instanceId: null, lastSeq: 0 });
  });
});
