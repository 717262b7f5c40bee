import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RestoryError } from '../../shared/errors.js';
import { emptySessionState } from '../../shared/state.js';
import { LiveState } from '../../companion/session-state/live-state.js';
import { SqlJsStore } from '../../companion/store/sqljs-store.js';
import { closeStores, openStore, localItems, navigate, setLocal, tabsEvent } from '../helpers/store-fixtures.js';
import { newDataDirPath, removeTempDirs } from '../helpers/temp-dirs.js';

afterEach(async () => {
  await closeStores();
  removeTempDirs();
});

function fakeClock(start = 1_000) {
  let now = start;
  const clock = () => now;
  return { clock, tick: (ms = 1) => (now += ms) };
}

describe('Store sessions', () => {
  it('createSession/getSession/requireSession/listSessions round-trip and survive reopen', async () => {
    const dir = newDataDirPath();
    const { clock, tick } = fakeClock();
    const store = await openStore(dir, { clock });
    const a = store.createSession({ name: 'first' });
    tick();
    const b = store.createSession({ name: 'second', id: 'fixed-id', state: 'recoverable' });
    expect(a.id).toMatch(/^[0-9a-f]{8}$/);
    expect(b).toMatchObject({ id: 'fixed-id', name: 'second', state: 'recoverable', createdAt: 1001, lastSnapshotAt: null, tabCount: 0 });
    expect(store.getSession('nope')).toBeUndefined();
    expect(() => store.requireSession('nope')).toThrow('no session with id "nope"; list them with: restory list');
    expect(() => store.createSession({ name: 'dup', id: 'fixed-id' })).toThrow(/already exists/);
    expect(store.listSessions().map((s) => s.id)).toEqual(['fixed-id', a.id]);
    expect(store.listSessions({ state: 'active' }).map((s) => s.id)).toEqual([a.id]);

    tick();
    store.applyEvents(a.id, 'instance-1', [setLocal(1, { k: 'v' })]);
    expect(store.listSessions().map((s) => s.id)).toEqual([a.id, 'fixed-id']);
    await store.close();

    const again = await openStore(dir);
    expect(again.listSessions().map((s) => s.name)).toEqual(['first', 'second']);
    expect(localItems(again.currentState(a.id))).toEqual({ k: 'v' });
  });

  it('setState keeps, sets and clears lastError; deleteSession removes the session and its snapshots', async () => {
    const store = await openStore(newDataDirPath());
    const s = store.createSession({ name: 'x' });
    store.setState(s.id, 'error', 'browser crashed');
    expect(store.requireSession(s.id)).toMatchObject({ state: 'error', lastError: 'browser crashed' });
    store.setState(s.id, 'recoverable');
    expect(store.requireSession(s.id)).toMatchObject({ state: 'recoverable', lastError: 'browser crashed' });
    store.setState(s.id, 'active', null);
    expect(store.requireSession(s.id).lastError).toBeNull();
    expect(() => store.setState(s.id, 'bogus' as never)).toThrow();
    store.applyEvents(s.id, 'instance-1', [setLocal(1, { a: '1' })]);
    expect(store.saveSnapshot(s.id, 'manual')).not.toBeNull();
    store.deleteSession(s.id);
    expect(store.getSession(s.id)).toBeUndefined();
    expect(store.listSnapshots(s.id)).toEqual([]);
    expect(() => store.currentState(s.id)).toThrow(RestoryError);
    expect(() => store.deleteSession(s.id)).toThrow(/no session/);
  });

  it('createSession starts from a given state', async () => {
    const store = await openStore(newDataDirPath());
    const state = { ...emptySessionState(5), origins: [{ origin: 'https://b.test', localStorage: [{ name: 'x', value: 'y' }] }] };
    const s = store.createSession({ name: 'imported', initial: state });
    expect(localItems(store.currentState(s.id), 'https://b.test')).toEqual({ x: 'y' });
  });
});

describe('Store.applyEvents', () => {
  it('drops seq ≤ lastSeq of the same instance and restarts the sequence for a new instance', async () => {
    const store = await openStore(newDataDirPath());
    const s = store.createSession({ name: 'x' });
    expect(store.applyEvents(s.id, 'inst-A', [setLocal(1, { a: '1' }), setLocal(2, { b: '2' })])).toEqual({ accepted: 2, lastSeq: 2, resync: false });
    expect(store.applyEvents(s.id, 'inst-A', [setLocal(2, { b: 'dup' }), setLocal(3, { c: '3' })])).toEqual({ accepted: 1, lastSeq: 3, resync: false });
    expect(store.applyEvents(s.id, 'inst-A', [setLocal(1, { a: 'old' })])).toEqual({ accepted: 0, lastSeq: 3, resync: false });
    expect(localItems(store.currentState(s.id))).toEqual({ a: '1', b: '2', c: '3' });
    // A restarted browser (new instance) starts at seq 1 again.
    expect(store.applyEvents(s.id, 'inst-B', [setLocal(1, { d: '4' })])).toEqual({ accepted: 1, lastSeq: 1, resync: false });
    expect(store.captureCursor(s.id)).toMatchObject({ instanceId: 'inst-B', lastSeq: 1 });
    expect(localItems(store.currentState(s.id))).toMatchObject({ d: '4' });
    expect(() => store.applyEvents('nope', 'inst-A', [setLocal(1, {})])).toThrow(/no session/);
  });

  it('updates lastActivityAt and, after a checkpoint, the row (url, title, tab count)', async () => {
    const { clock, tick } = fakeClock(50);
    const store = await openStore(newDataDirPath(), { clock });
    const s = store.createSession({ name: 'x' });
    tick(100);
    store.applyEvents(s.id, 'inst-A', [navigate(1, 7, 'https://a.test/'), tabsEvent(2, [{ tabId: 7, url: 'https://a.test/', title: 'A' }])]);
    expect(store.requireSession(s.id).lastActivityAt).toBe(150);
    // Before the live state is folded into the row, the record still shows it.
    expect(store.requireSession(s.id)).toMatchObject({ currentUrl: 'https://a.test/', currentTitle: 'A', tabCount: 1, state: 'active' });
    store.checkpoint();
    expect(store.requireSession(s.id)).toMatchObject({ currentUrl: 'https://a.test/', currentTitle: 'A', tabCount: 1 });
    const ro = await openStore(store.paths.dir, { readOnly: true });
    expect(ro.requireSession(s.id)).toMatchObject({ currentUrl: 'https://a.test/', tabCount: 1, lastSnapshotAt: null });
  });

  it('flush resolves once the journal holds the events, and many flushes share one group', async () => {
    const dir = newDataDirPath();
    const store = await openStore(dir);
    const s = store.createSession({ name: 'x' });
    const flushes: Promise<void>[] = [];
    for (let i = 1; i <= 50; i++) {
      store.applyEvents(s.id, 'inst-A', [setLocal(i, { [`k${i}`]: 'v' })]);
      flushes.push(store.flush());
    }
    await Promise.all(flushes);
    const journal = readFileSync(join(dir, 'journal.log'), 'latin1');
    expect(journal.trim().split('\n')).toHaveLength(51);
    expect(journal).toContain('"k50"');
  });
});

describe('Store snapshots', () => {
  it('saves, lists newest first with sizes, loads, dedupes identical content and updates the row', async () => {
    const { clock, tick } = fakeClock(10);
    const store = await openStore(newDataDirPath(), { clock });
    const s = store.createSession({ name: 'x' });
    store.applyEvents(s.id, 'i1', [navigate(1, 1, 'https://a.test/'), setLocal(2, { a: '1' })]);
    const first = store.saveSnapshot(s.id, 'manual');
    expect(first).toMatchObject({ sessionId: s.id, reason: 'manual', takenAt: 10 });
    expect(first!.state.tabs[0].url).toBe('https://a.test/');
    tick();
    // Same content (only capturedAt moves): nothing stored.
    store.applyEvents(s.id, 'i1', [setLocal(3, { a: '1' })]);
    expect(store.saveSnapshot(s.id, 'interval')).toBeNull();
    store.applyEvents(s.id, 'i1', [setLocal(4, { b: '2' })]);
    tick();
    const second = store.saveSnapshot(s.id, 'interval')!;
    expect(second.id).toBeGreaterThan(first!.id);
    const list = store.listSnapshots(s.id);
    expect(list.map((x) => x.id)).toEqual([second.id, first!.id]);
    expect(list[0]).toEqual({ id: second.id, sessionId: s.id, takenAt: 12, reason: 'interval', hash: second.hash, bytes: JSON.stringify(second.state).length });
    expect(list[0]).not.toHaveProperty('state');
    expect(store.getSnapshot(s.id, first!.id)?.state).toEqual(first!.state);
    expect(store.getSnapshot('other', first!.id)).toBeUndefined();
    expect(store.latestSnapshot(s.id)?.id).toBe(second.id);
    expect(store.requireSession(s.id)).toMatchObject({ lastSnapshotAt: 12, currentUrl: 'https://a.test/', tabCount: 1 });
    expect(() => store.requireSnapshot(s.id, 999)).toThrow(`session "${s.id}" has no snapshot 999; list them with: restory snapshots ${s.id}`);
    expect(store.requireSnapshot(s.id).id).toBe(second.id);
  });

  it('an unchanged live state is not even serialised again, and an explicit snapshot resets that', async () => {
    const store = await openStore(newDataDirPath());
    const s = store.createSession({ name: 'x' });
    store.applyEvents(s.id, 'i1', [navigate(1, 1, 'https://a.test/'), setLocal(2, { a: '1' })]);
    expect(store.saveSnapshot(s.id, 'manual')).not.toBeNull();
    const toState = vi.spyOn(LiveState.prototype, 'toState');
    expect(store.saveSnapshot(s.id, 'interval')).toBeNull();
    expect(toState).not.toHaveBeenCalled();
    // An explicit state becomes the newest snapshot: the live state must be compared again.
    store.saveSnapshot(s.id, 'import', { state: emptySessionState(1) });
    expect(store.saveSnapshot(s.id, 'interval')).not.toBeNull();
    expect(toState).toHaveBeenCalledTimes(1);
    // A new event: serialised and compared again.
    store.applyEvents(s.id, 'i1', [setLocal(3, { b: '2' })]);
    expect(store.saveSnapshot(s.id, 'interval')?.state.origins[0].localStorage).toContainEqual({ name: 'b', value: '2' });
    toState.mockRestore();
  });

  it('an explicit state is stored as given and survives reopen without touching the live state', async () => {
    const dir = newDataDirPath();
    const store = await openStore(dir);
    const s = store.createSession({ name: 'x' });
    const state = { ...emptySessionState(1), cookies: [{ name: 'c', value: '1', domain: 'a.test', path: '/', expires: -1, httpOnly: false, secure: false, sameSite: 'Lax' as const }] };
    const snap = store.saveSnapshot(s.id, 'import', { state })!;
    expect(store.currentState(s.id).cookies).toEqual([]);
    await store.flush();
    // Reopen read-only: the journal (not yet folded) must carry the explicit state.
    const ro = await openStore(dir, { readOnly: true });
    expect(ro.getSnapshot(s.id, snap.id)?.state).toEqual(state);
  });

  it('retention keeps exactly the newest N, and pruneSnapshots prunes on demand', async () => {
    const { clock, tick } = fakeClock();
    const dir = newDataDirPath();
    const store = await openStore(dir, { clock, config: { snapshotsKept: 3 } });
    const s = store.createSession({ name: 'x' });
    const ids: number[] = [];
    for (let i = 1; i <= 7; i++) {
      store.applyEvents(s.id, 'i1', [setLocal(i, { n: String(i) })]);
      tick();
      ids.push(store.saveSnapshot(s.id, 'interval')!.id);
    }
    expect(store.listSnapshots(s.id).map((x) => x.id)).toEqual(ids.slice(-3).reverse());
    expect(store.pruneSnapshots(s.id, 1)).toBe(2);
    expect(store.pruneSnapshots(s.id, 1)).toBe(0);
    expect(store.listSnapshots(s.id).map((x) => x.id)).toEqual([ids[6]]);
    await store.close();
    const again = await openStore(dir);
    expect(again.listSnapshots(s.id).map((x) => x.id)).toEqual([ids[6]]);
    // Ids are never reused, even after deletions.
    again.applyEvents(s.id, 'i1', [setLocal(8, { n: '8' })]);
    expect(again.saveSnapshot(s.id, 'manual')!.id).toBe(ids[6] + 1);
  });
});

describe('Store files', () => {
  it('creates the data dir 0700 and its files 0600', async () => {
    const dir = newDataDirPath();
    const store = await openStore(dir);
    store.createSession({ name: 'x' });
    await store.flush();
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    for (const name of readdirSync(dir)) {
      expect([name, statSync(join(dir, name)).mode & 0o777]).toEqual([name, 0o600]);
    }
    expect(readdirSync(dir).sort()).toEqual(['companion.lock', 'journal.log', 'restory.db', 'restory.db.sessions']);
    await store.close();
    expect(readdirSync(dir).sort()).toEqual(['journal.log', 'restory.db', 'restory.db.sessions']);
    expect(statSync(join(dir, 'restory.db.sessions')).mode & 0o777).toBe(0o600);
  });

  it('readOnly writes nothing, sees journaled-but-unfolded events and refuses mutations', async () => {
    const dir = newDataDirPath();
    const writer = await openStore(dir, { config: { checkpointIntervalMs: 3_600_000 } });
    const s = writer.createSession({ name: 'x' });
    writer.applyEvents(s.id, 'i1', [setLocal(1, { journaled: 'yes' })]);
    await writer.flush();
    const before = new Map(readdirSync(dir).map((n) => [n, { bytes: readFileSync(join(dir, n)), mtime: statSync(join(dir, n)).mtimeMs }]));

    const ro = await openStore(dir, { readOnly: true });
    expect(ro.listSessions().map((x) => x.id)).toEqual([s.id]);
    expect(localItems(ro.currentState(s.id))).toEqual({ journaled: 'yes' });
    expect(() => ro.createSession({ name: 'y' })).toThrow(/read-only/);
    expect(() => ro.applyEvents(s.id, 'i1', [setLocal(2, {})])).toThrow(/read-only/);
    expect(() => ro.checkpoint()).toThrow(/read-only/);
    await ro.flush();
    await ro.close();

    const after = new Map(readdirSync(dir).map((n) => [n, { bytes: readFileSync(join(dir, n)), mtime: statSync(join(dir, n)).mtimeMs }]));
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    for (const [name, b] of before) {
      expect(after.get(name)!.bytes.equals(b.bytes), name).toBe(true);
      expect(after.get(name)!.mtime, name).toBe(b.mtime);
    }
  });

  it('readOnly on a data dir that does not exist sees nothing and creates nothing', async () => {
    const dir = newDataDirPath();
    const ro = await openStore(dir, { readOnly: true });
    expect(ro.listSessions()).toEqual([]);
    await ro.close();
    expect(() => statSync(dir)).toThrow();
  });
});

describe('Store replay of snapshots', () => {
  it('a snapshot journaled without its state is rebuilt identically from the events before it', async () => {
    const dir = newDataDirPath();
    const store = await openStore(dir, { config: { checkpointIntervalMs: 3_600_000 } });
    const s = store.createSession({ name: 'x' });
    store.checkpoint();
    store.applyEvents(s.id, 'i1', [
      tabsEvent(1, [{ tabId: 3, url: 'https://a.test/', title: 'A' }]),
      navigate(2, 3, 'https://a.test/2'),
      setLocal(3, { a: '1' }),
    ]);
    const first = store.saveSnapshot(s.id, 'navigation')!;
    store.applyEvents(s.id, 'i1', [setLocal(4, { b: '2' })]);
    const second = store.saveSnapshot(s.id, 'interval')!;
    await store.flush();
    const ro = await openStore(dir, { readOnly: true });
    expect(ro.listSnapshots(s.id).map((x) => x.hash)).toEqual([second.hash, first.hash]);
    expect(ro.getSnapshot(s.id, first.id)?.state).toEqual(first.state);
    expect(ro.getSnapshot(s.id, second.id)?.state).toEqual(second.state);
    expect(ro.currentState(s.id)).toEqual(store.currentState(s.id));
  });
});

describe('Store.resetLive', () => {
  it('replaces the live state durably (resume from a snapshot)', async () => {
    const dir = newDataDirPath();
    const store = await openStore(dir, { config: { checkpointIntervalMs: 3_600_000 } });
    const s = store.createSession({ name: 'x' });
    store.applyEvents(s.id, 'old-instance', [setLocal(1, { before: '1' })]);
    const snap = store.saveSnapshot(s.id, 'manual')!;
    store.applyEvents(s.id, 'old-instance', [setLocal(2, { after: '2' })]);
    store.resetLive(s.id, snap.state);
    expect(localItems(store.currentState(s.id))).toEqual({ before: '1' });
    expect(store.captureCursor(s.id)).toMatchObject({ instanceId: null, lastSeq: 0 });
    await store.flush();
    const ro = await openStore(dir, { readOnly: true });
    expect(localItems(ro.currentState(s.id))).toEqual({ before: '1' });
    expect(() => store.resetLive('nope', snap.state)).toThrow(/no session/);
  });
});
