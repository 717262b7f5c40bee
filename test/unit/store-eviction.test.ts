import { afterEach, describe, expect, it, vi } from 'vitest';
import { emptySessionState, type SessionState } from '../../shared/state.js';
import { LiveState } from '../../companion/session-state/live-state.js';
import type { SqlJsStore } from '../../companion/store/sqljs-store.js';
import { closeStores, navigate, openStore, setLocal, tabsEvent } from '../helpers/store-fixtures.js';
import { newDataDirPath, removeTempDirs } from '../helpers/temp-dirs.js';

const NO_TIMER = { checkpointIntervalMs: 3_600_000 };

afterEach(async () => {
  vi.restoreAllMocks();
  await closeStores();
  removeTempDirs();
});

/** Whether the store holds the session's LiveState in memory (private: eviction is not part of the API). */
function loaded(store: SqlJsStore, id: string): boolean {
  return (store as unknown as { lives: { peek(id: string): LiveState | undefined } }).lives.peek(id) !== undefined;
}

/** A session that captured storage, two tabs and a navigation, then stopped in `state`. */
function captured(store: SqlJsStore, id: string, state: 'closed' | 'active' | 'error' | 'recoverable'): void {
  store.createSession({ name: id, id });
  store.applyEvents(id, `inst-${id}`, [
    setLocal(1, { big: 'x'.repeat(10_000) }),
    navigate(2, 1, `https://${id}.test/one`),
    navigate(3, 1, `https://${id}.test/two`),
    tabsEvent(4, [{ tabId: 1, url: `https://${id}.test/two`, title: id }, { tabId: 2, url: 'https://other.test/' }]),
  ]);
  if (state !== 'active') store.setState(id, state);
}

describe('Store live-state eviction', () => {
  it('drops the live state of a session nothing captures into once a checkpoint found it idle, and reloads it identically', async () => {
    const store = await openStore(newDataDirPath(), { config: NO_TIMER });
    captured(store, 'closed', 'closed');
    captured(store, 'active', 'active');
    captured(store, 'error', 'error');
    const listed = store.listSessions();
    const state = store.currentState('closed');
    const cursor = store.captureCursor('closed');

    // It had events since the previous checkpoint: this one folds it but keeps it.
    store.checkpoint();
    expect(loaded(store, 'closed')).toBe(true);
    // Idle through a whole checkpoint interval: evicted. Capturing sessions stay.
    store.checkpoint();
    expect(['closed', 'active', 'error'].map((id) => loaded(store, id))).toEqual([false, true, true]);

    // Listings read its row now, and show exactly what they showed from the live state.
    expect(store.listSessions()).toEqual(listed);
    expect(loaded(store, 'closed')).toBe(false);
    // Anything that needs the state loads it back from its row, unchanged.
    expect(store.currentState('closed')).toEqual(state);
    expect(store.captureCursor('closed')).toEqual(cursor);
    expect(loaded(store, 'closed')).toBe(true);
    expect(store.listSessions()).toEqual(listed);
  });

  it('a session that is touched again stays loaded for another checkpoint', async () => {
    const store = await openStore(newDataDirPath(), { config: NO_TIMER });
    captured(store, 's', 'recoverable');
    store.checkpoint();
    store.applyEvents('s', 'inst-s', [setLocal(5, { more: '1' })]);
    store.checkpoint();
    expect(loaded(store, 's')).toBe(true);
    store.checkpoint();
    expect(loaded(store, 's')).toBe(false);
    expect(store.currentState('s').origins[0].localStorage.map((i) => i.name)).toEqual(['big', 'more']);
  });

  it('summaries are unchanged by eviction even when the newest snapshot was of a state the caller gave', async () => {
    const store = await openStore(newDataDirPath(), { config: NO_TIMER });
    // A file:// tab is no web page: the live state leaves it out, the given snapshot state has it.
    const given: SessionState = {
      ...emptySessionState(5),
      windows: [{ state: 'normal', focused: true }],
      tabs: ['file:///x.html', 'https://a.test/'].map((url, index) => ({
        windowIndex: 0,
        index,
        active: index === 0,
        pinned: false,
        url,
        title: url,
        history: { entries: [{ url, title: url }], currentIndex: 0 },
        sessionStorage: [],
      })),
    };
    store.createSession({ name: 'imported', id: 'imp', state: 'recoverable', initial: given });
    store.saveSnapshot('imp', 'import', { state: given });
    const listed = store.listSessions();
    store.checkpoint();
    store.checkpoint();
    expect(loaded(store, 'imp')).toBe(false);
    expect(store.listSessions()).toEqual(listed);
  });

  it('an interval snapshot of an evicted, unchanged state is skipped without serialising it; a changed one is taken', async () => {
    const store = await openStore(newDataDirPath(), { config: NO_TIMER });
    captured(store, 'same', 'closed');
    captured(store, 'changed', 'closed');
    expect(store.saveSnapshot('same', 'interval')).not.toBeNull();
    expect(store.saveSnapshot('changed', 'interval')).not.toBeNull();
    // Changed after its snapshot: the newest snapshot is not of the state that gets evicted.
    store.applyEvents('changed', 'inst-changed', [setLocal(5, { after: 'snapshot' })]);
    store.checkpoint();
    store.checkpoint();
    expect([loaded(store, 'same'), loaded(store, 'changed')]).toEqual([false, false]);

    const toState = vi.spyOn(LiveState.prototype, 'toState');
    expect(store.saveSnapshot('same', 'interval')).toBeNull();
    expect(toState).not.toHaveBeenCalled();
    const taken = store.saveSnapshot('changed', 'interval');
    expect(taken?.state.origins[0].localStorage.map((i) => i.name)).toEqual(['big', 'after']);

    // Reloaded and then changed: never skipped.
    store.applyEvents('same', 'inst-same', [setLocal(5, { later: '1' })]);
    expect(store.saveSnapshot('same', 'interval')).not.toBeNull();
    expect(store.saveSnapshot('same', 'interval')).toBeNull();
  });

  it('a reset while evicted is not mistaken for the snapshotted state', async () => {
    const store = await openStore(newDataDirPath(), { config: NO_TIMER });
    captured(store, 's', 'closed');
    expect(store.saveSnapshot('s', 'interval')).not.toBeNull();
    store.checkpoint();
    store.checkpoint();
    expect(loaded(store, 's')).toBe(false);
    store.resetLive('s', emptySessionState(9));
    expect(store.saveSnapshot('s', 'interval')?.state.origins).toEqual([]);
  });
});
