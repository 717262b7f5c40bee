/**
 * The per-session storage limit's arithmetic (companion/session-state/storage-limit.ts): LiveState's
 * running total agrees with a recount after every kind of change, and `fitToLimit` leaves out what
 * would grow a session past the limit while deletes and shrinking writes still apply.
 */
import { describe, expect, it } from 'vitest';
import { LiveState } from '../../companion/session-state/live-state.js';
import { fitToLimit, itemBytes } from '../../companion/session-state/storage-limit.js';
import type { CaptureEvent } from '../../shared/capture-events.js';
import type { IndexedDBDatabase } from '../../shared/indexeddb.js';

const change = (origin: string, set: Record<string, string>, remove: string[] = [], extra: Partial<{ clear: boolean; area: 'local' | 'session'; tabId: number; topOrigin: string }> = {}): CaptureEvent => ({
  kind: 'storage.change',
  tabId: extra.tabId ?? 1,
  frameId: 0,
  origin,
  ...(extra.topOrigin ? { topOrigin: extra.topOrigin } : {}),
  area: extra.area ?? 'local',
  clear: extra.clear ?? false,
  set,
  remove,
});
const full = (origin: string, items: Record<string, string>, area: 'local' | 'session' = 'local', tabId = 1): CaptureEvent => ({
  kind: 'storage.full',
  tabId,
  frameId: 0,
  origin,
  area,
  items,
});
const idb = (origin: string, records: number): CaptureEvent => ({
  kind: 'indexeddb',
  tabId: 1,
  origin,
  databases: [
    {
      name: 'db',
      version: 1,
      stores: [{ name: 's', autoIncrement: true, records: Array.from({ length: records }, (_, i) => ({ key: i, value: 'v'.repeat(100) })), indexes: [] }],
    },
  ] as unknown as IndexedDBDatabase[],
  warnings: [],
});
const tabs = (ids: number[]): CaptureEvent => ({
  kind: 'tabs',
  tabs: ids.map((tabId, index) => ({ tabId, windowId: 1, index, active: index === 0, pinned: false, url: `https://a.test/${tabId}`, title: '' })),
  windows: [{ windowId: 1, state: 'normal', focused: true }],
});

describe('LiveState storage total', () => {
  it('follows sets, overwrites, removes, clears, full dumps, closed tabs and IndexedDB, and equals a recount', () => {
    const live = new LiveState(0);
    const script: CaptureEvent[] = [
      tabs([1, 2]),
      change('https://a.test', { k: 'vvvv', k2: 'x' }),
      change('https://a.test', { k: 'v' }), // shrinks in place
      change('https://b.test', { big: 'y'.repeat(1000) }, [], { topOrigin: 'https://a.test' }),
      change('https://a.test', {}, ['k2', 'missing']),
      change('https://a.test', { s: 'session value' }, [], { area: 'session', tabId: 2 }),
      full('https://c.test', { a: '1', b: '22' }),
      full('https://c.test', { a: '333' }),
      change('https://b.test', { again: 'z' }, [], { clear: true, topOrigin: 'https://a.test' }),
      idb('https://a.test', 5),
      idb('https://a.test', 2),
      tabs([1]), // tab 2 and its sessionStorage are gone
    ];
    for (const e of script) {
      live.apply(e, 1);
      expect(live.storageBytes).toBe(live.countStorageBytes());
    }
    expect(live.storageBytes).toBeGreaterThan(itemBytes('k', 'v'));
    expect(LiveState.fromData(live.toData()).storageBytes).toBe(live.storageBytes);
    expect(LiveState.fromState(live.toState()).storageBytes).toBe(live.storageBytes);
  });
});

describe('fitToLimit', () => {
  const limit = 1000;
  const filled = () => {
    const live = new LiveState(0);
    live.apply(change('https://a.test', { old: 'o'.repeat(200) }), 1); // 2 * 203 = 406 bytes
    return live;
  };

  it('passes an event that fits unchanged (the same object)', () => {
    const live = filled();
    const e = change('https://a.test', { small: 'x' });
    expect(fitToLimit(live, e, limit)).toEqual({ event: e, cut: false });
    expect(fitToLimit(live, e, limit).event).toBe(e);
  });

  it('leaves out writes past the limit, keeps the ones that fit and the deletes, and drops the outdated value of a key it cannot update', () => {
    const live = filled();
    const e = change('https://a.test', { fits: 'f'.repeat(100), old: 'o'.repeat(400), next: 'n'.repeat(400) }, ['gone']);
    const fitted = fitToLimit(live, e, limit);
    expect(fitted.cut).toBe(true);
    expect(fitted.event).toMatchObject({ set: { fits: 'f'.repeat(100) }, remove: ['gone', 'old'] });
    live.apply(fitted.event!, 2);
    expect(live.storageBytes).toBeLessThanOrEqual(limit);
    expect(live.toState().origins[0].localStorage.map((i) => i.name)).toEqual(['fits']);
  });

  it('applies deletes and shrinking writes once the session is over the limit', () => {
    const live = filled();
    const shrink = change('https://a.test', { old: 'o' }, []);
    expect(fitToLimit(live, shrink, 100)).toEqual({ event: shrink, cut: false });
    const grow = change('https://a.test', { other: 'x' });
    expect(fitToLimit(live, grow, 100)).toEqual({ event: null, cut: true });
  });

  it('cuts a full dump to the items that fit, in order', () => {
    const live = filled();
    const e = full('https://b.test', { a: 'a'.repeat(100), b: 'b'.repeat(300), c: 'c'.repeat(50) });
    const fitted = fitToLimit(live, e, limit);
    expect(fitted.cut).toBe(true);
    expect(Object.keys((fitted.event as Extract<CaptureEvent, { kind: 'storage.full' }>).items)).toEqual(['a', 'c']);
  });

  it('keeps no IndexedDB of an origin that would pass the limit, with a warning for resume', () => {
    const live = filled();
    const fitted = fitToLimit(live, idb('https://a.test', 50), limit);
    expect(fitted.cut).toBe(true);
    expect(fitted.event).toMatchObject({ kind: 'indexeddb', databases: [], warnings: [expect.stringContaining('storage limit of 1000 bytes')] });
  });

  it('keeps a `__proto__` key an own key when it rewrites an event', () => {
    const live = filled();
    const set = Object.create(null) as Record<string, string>;
    set['__proto__'] = 'p';
    set.huge = 'h'.repeat(1000);
    const fitted = fitToLimit(live, change('https://a.test', set), limit);
    expect(Object.keys((fitted.event as Extract<CaptureEvent, { kind: 'storage.change' }>).set)).toEqual(['__proto__']);
  });
});
