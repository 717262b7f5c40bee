/**
 * Start-up does not parse the live state of sessions it only has to classify: an orphan whose state
 * is unchanged since its newest snapshot is judged from its row (live-states.ts, RowFacts), so the
 * resume of one session in a store that also holds big ones does not load them. Every session whose
 * state may differ from its newest snapshot is still loaded and gets its recovery snapshot.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Companion } from '../../companion/companion.js';
import { classifyOrphans } from '../../companion/session/orphans.js';
import { liveStateLoads } from '../../companion/store/live-states.js';
import { contentHash } from '../../companion/store/records.js';
import type { SqlJsStore } from '../../companion/store/sqljs-store.js';
import { closeStores, forgetStore, localItems, openStore, setLocal, tabsEvent } from '../helpers/store-fixtures.js';
import { newDataDirPath, removeTempDirs } from '../helpers/temp-dirs.js';

const NO_TIMER = { checkpointIntervalMs: 3_600_000, snapshotIntervalMs: 3_600_000 };
const DAY = 86_400_000;
/** The stores' clock; the fixtures' events happen at T0 + seq. */
const T0 = 1_700_000_000_000;
const NOW = T0 + 1000;

afterEach(async () => {
  await closeStores();
  removeTempDirs();
});

/** A session with a tab and `kb` of localStorage, snapshotted; left `active` (its companion died). */
function bigSession(store: SqlJsStore, id: string, kb: number): void {
  store.createSession({ id, name: id });
  store.applyEvents(id, `inst-${id}`, [tabsEvent(1, [{ tabId: 1, url: `https://${id}.test/` }]), setLocal(2, { big: 'x'.repeat(kb * 1024) })]);
  store.saveSnapshot(id, 'interval');
}

/** A data dir with a small `recoverable` session and three big orphans unchanged since their snapshots. */
async function dataDirWithIdleOrphans(): Promise<string> {
  const dir = newDataDirPath();
  const store = await openStore(dir, { config: NO_TIMER, clock: () => T0 });
  store.createSession({ id: 'small', name: 'small' });
  store.applyEvents('small', 'inst-small', [tabsEvent(1, [{ tabId: 1, url: 'https://small.test/' }]), setLocal(2, { a: 'b' })]);
  store.saveSnapshot('small', 'interval');
  store.setState('small', 'recoverable');
  for (const id of ['big-1', 'big-2', 'big-3']) bigSession(store, id, 256);
  await closeStores();
  return dir;
}

function snapshotCounts(store: SqlJsStore): Record<string, number> {
  return Object.fromEntries(store.listSessions().map((s) => [s.id, store.listSnapshots(s.id).length]));
}

function loadsDuring(f: () => Promise<unknown>): Promise<number> {
  const before = liveStateLoads.count;
  return f().then(() => liveStateLoads.count - before);
}

describe('start-up without loading every session', () => {
  it('a companion opened for the resume of one session classifies idle orphans and resumes without loading any other state', async () => {
    const dir = await dataDirWithIdleOrphans();
    let companion!: Companion;
    const loads = await loadsDuring(async () => {
      companion = await Companion.open({ dataDir: dir, env: {}, config: NO_TIMER, clock: () => NOW });
      // What a resume does with the store before its browser starts (session-browsers.ts).
      const store = companion.store;
      const snapshot = await store.requireSnapshot('small');
      await store.resetLive('small', snapshot.state);
      await store.setState('small', 'active');
      await store.flush();
    });
    try {
      expect(loads).toBe(0);
      const states = Object.fromEntries((await companion.list()).map((s) => [s.id, s.state]));
      expect(states).toEqual({ small: 'active', 'big-1': 'recoverable', 'big-2': 'recoverable', 'big-3': 'recoverable' });
    } finally {
      await companion.shutdown();
    }
  });

  it('an idle orphan gets the verdict and snapshots it would get from its loaded state', async () => {
    const dir = await dataDirWithIdleOrphans();
    const store = await openStore(dir, { config: NO_TIMER, clock: () => T0 });
    const before = snapshotCounts(store);
    // Its state was captured at NOW - 998: recoverable within a day, stale past a 500 ms age.
    expect(await loadsDuring(() => classifyOrphans(store, { now: NOW, maxSessionAgeMs: 500 }, new Set(['big-2', 'big-3'])))).toBe(0);
    expect(await loadsDuring(() => classifyOrphans(store, { now: NOW, maxSessionAgeMs: DAY }, new Set(['big-1'])))).toBe(0);
    expect(store.listSessions().map((s) => [s.id, s.state]).sort()).toEqual([
      ['big-1', 'stale'],
      ['big-2', 'recoverable'],
      ['big-3', 'recoverable'],
      ['small', 'recoverable'],
    ]);
    // No recovery snapshot: the newest one already holds the state, which is what loading it shows.
    expect(snapshotCounts(store)).toEqual(before);
    for (const id of ['big-1', 'big-2', 'big-3']) expect(contentHash(store.currentState(id))).toBe(store.listSnapshots(id)[0].hash);
  });

  it('a tab-less idle orphan is dated from its row as from its snapshot', async () => {
    const dir = newDataDirPath();
    let store = await openStore(dir, { config: NO_TIMER, clock: () => T0 });
    store.createSession({ id: 'bare', name: 'bare' });
    store.applyEvents('bare', 'i', [setLocal(5, { k: 'v' })]);
    store.saveSnapshot('bare', 'interval');
    await closeStores();
    store = await openStore(dir, { config: NO_TIMER, clock: () => T0 });
    let at: number | undefined;
    expect(await loadsDuring(async () => (at = store.capturedAt('bare')))).toBe(0);
    expect(at).toBe(store.latestSnapshot('bare')!.state.capturedAt);
    expect(at).toBe(T0 + 5);
  });

  describe('an orphan whose state may differ from its newest snapshot is loaded and snapshotted', () => {
    /** Reopen `dir`, classify, and return the big session's newest snapshot's localStorage and how many states were loaded. */
    async function recover(dir: string): Promise<{ loads: number; items: Record<string, string>; snapshots: number }> {
      const store = await openStore(dir, { config: NO_TIMER, clock: () => T0 });
      const loads = await loadsDuring(() => classifyOrphans(store, { now: NOW, maxSessionAgeMs: DAY }));
      expect(store.requireSession('big').state).toBe('recoverable');
      return { loads, items: localItems(store.latestSnapshot('big')!.state, 'https://a.test'), snapshots: store.listSnapshots('big').length };
    }

    it('events after the snapshot, folded into its row by a checkpoint', async () => {
      const dir = newDataDirPath();
      const store = await openStore(dir, { config: NO_TIMER, clock: () => T0 });
      bigSession(store, 'big', 4);
      store.applyEvents('big', 'inst-big', [setLocal(3, { later: 'yes' })]);
      store.checkpoint();
      await closeStores();
      const r = await recover(dir);
      expect(r.loads).toBe(1);
      expect(r.items.later).toBe('yes');
      expect(r.snapshots).toBe(2);
    });

    it('events after the snapshot, in the journal only (a companion killed before its checkpoint)', async () => {
      const dir = newDataDirPath();
      const store = await openStore(dir, { config: NO_TIMER, clock: () => T0 });
      bigSession(store, 'big', 4);
      store.checkpoint();
      store.applyEvents('big', 'inst-big', [setLocal(3, { later: 'yes' })]);
      await store.flush();
      // A crash: dropped without its final checkpoint (store-durability.test.ts does the same).
      forgetStore(store);
      (store as unknown as { closed: boolean }).closed = true;
      (store as unknown as { lock: { release(): void } }).lock.release();
      const r = await recover(dir);
      expect(r.items.later).toBe('yes');
      expect(r.snapshots).toBe(2);
    });

    it('a newer snapshot of a state the caller gave (an import over it)', async () => {
      const dir = newDataDirPath();
      const store = await openStore(dir, { config: NO_TIMER, clock: () => T0 });
      bigSession(store, 'big', 4);
      const given = store.currentState('big');
      store.saveSnapshot('big', 'manual', { state: { ...given, origins: [] } });
      await closeStores();
      const r = await recover(dir);
      expect(r.loads).toBe(1);
      // The recovery snapshot is the live state again, not the given one.
      expect(r.items.big).toHaveLength(4 * 1024);
      expect(r.snapshots).toBe(3);
    });

    it('a reset to another state after the snapshot', async () => {
      const dir = newDataDirPath();
      const store = await openStore(dir, { config: NO_TIMER, clock: () => T0 });
      bigSession(store, 'big', 4);
      const reset = store.currentState('big');
      store.resetLive('big', { ...reset, origins: [{ origin: 'https://a.test', localStorage: [{ name: 'reset', value: '1' }] }] });
      await closeStores();
      const r = await recover(dir);
      expect(r.loads).toBe(1);
      expect(r.items).toEqual({ reset: '1' });
      expect(r.snapshots).toBe(2);
    });

    it('a row written before the facts were kept beside the state', async () => {
      const dir = newDataDirPath();
      const store = await openStore(dir, { config: NO_TIMER, clock: () => T0 });
      bigSession(store, 'big', 4);
      const db = (store as unknown as { db: { run(sql: string): void } }).db;
      db.run('UPDATE sessions SET live_captured_at = NULL, live_tab_count = NULL, live_snapshot_id = NULL');
      store.checkpoint();
      await closeStores();
      const r = await recover(dir);
      expect(r.loads).toBe(1);
      expect(r.items.big).toHaveLength(4 * 1024);
      expect(r.snapshots).toBe(1); // loaded, hashed, found unchanged: as before
    });
  });
});

describe("finding a session by extension instance (the user's own browser connecting)", () => {
  it('answers from the rows, loading no state; a loaded state ahead of its row answers for itself', async () => {
    const dir = await dataDirWithIdleOrphans();
    const store = await openStore(dir, { config: NO_TIMER, clock: () => NOW });
    const loads = liveStateLoads.count;
    expect(store.findSessionByInstance('inst-big-2')).toBe('big-2');
    expect(store.findSessionByInstance('inst-small')).toBe('small');
    expect(store.findSessionByInstance('inst-nobody')).toBeUndefined();
    expect(liveStateLoads.count - loads).toBe(0);

    // Captured from a new instance, not folded yet: the row still names the old one.
    store.applyEvents('big-3', 'inst-new', [setLocal(10, { k: 'v' })]);
    expect(store.findSessionByInstance('inst-new')).toBe('big-3');
    expect(store.findSessionByInstance('inst-big-3')).toBeUndefined();
  });

  it('a row from before the column is parsed, as before', async () => {
    const dir = await dataDirWithIdleOrphans();
    const store = await openStore(dir, { config: NO_TIMER, clock: () => NOW });
    (store as unknown as { db: { run(sql: string): void } }).db.run('UPDATE sessions SET live_instance_id = NULL');
    const loads = liveStateLoads.count;
    expect(store.findSessionByInstance('inst-big-1')).toBe('big-1');
    expect(liveStateLoads.count - loads).toBeGreaterThan(0);
  });
});
