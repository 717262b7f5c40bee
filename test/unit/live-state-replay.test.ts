/**
 * After a crash the journal is replayed onto the live state its row held at the last checkpoint
 * (`LiveState.fromData(toData())`), while the companion that crashed had kept the object itself.
 * Whatever `toData` leaves out makes the replayed state differ from the one that was snapshotted
 * live ("replayed state differs from the original (hash mismatch)"). So: fold at any point, replay
 * the rest, and the content hash must be the live one — for every capture event kind.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { LiveState } from '../../companion/session-state/live-state.js';
import { contentHash } from '../../companion/store/records.js';
import { CaptureEventSchema, type CaptureEvent, type CaptureEventInput, type SequencedEvent } from '../../shared/capture-events.js';
import type { Cookie } from '../../shared/state.js';
import { closeStores, forgetStore, openStore } from '../helpers/store-fixtures.js';
import { newDataDirPath, removeTempDirs } from '../helpers/temp-dirs.js';

const cookie = (name: string, value: string): Cookie => ({
  name, value, domain: 'a.test', path: '/', expires: -1, httpOnly: false, secure: false, sameSite: 'Lax',
});
const store = (area: 'local' | 'session', tabId: number, origin: string, set: Record<string, string>, remove: string[] = []) =>
  ({ kind: 'storage.change', tabId, frameId: 0, origin, area, set, remove }) as const;
const nav = (tabId: number, url: string, extra: object = {}) => ({ kind: 'navigation', tabId, url, how: 'commit', ...extra }) as const;
type TabInput = { tabId: number; windowId: number; index: number; active: boolean; url: string; title?: string };
const tabs = (list: TabInput[], windows: { windowId: number; state?: 'normal' | 'maximized'; focused?: boolean; left?: number; top?: number; width?: number; height?: number }[]) =>
  ({ kind: 'tabs', tabs: list.map((t) => ({ pinned: false, title: '', ...t })), windows }) as const;

/**
 * A session that meets what the state projection hides: a new-tab page and an about:blank tab
 * (not web pages, so not in the state) that later navigate to web pages, a window with no web tab
 * yet, storage written before the tab was announced, an origin whose storage was emptied and then
 * written again, a tab that left for chrome:// and came Back, and a window with no active tab.
 */
const SCRIPT: CaptureEventInput[] = [
  { kind: 'cookies.all', cookies: [cookie('a', '1'), cookie('b', '2')] },
  store('local', 1, 'https://a.test', { k: 'v' }),
  store('local', 1, 'https://b.test', { x: '1' }),
  store('session', 3, 'https://c.test', { early: '1' }),
  tabs(
    [
      { tabId: 1, windowId: 10, index: 0, active: true, url: 'https://a.test/' },
      { tabId: 2, windowId: 10, index: 1, active: false, url: 'chrome://newtab/' },
      { tabId: 3, windowId: 20, index: 0, active: true, url: 'about:blank' },
    ],
    [
      { windowId: 10, state: 'normal', focused: true, left: 0, top: 0, width: 800, height: 600 },
      { windowId: 20, state: 'maximized', focused: false, left: 5, top: 5, width: 1000, height: 700 },
    ],
  ),
  store('local', 1, 'https://a.test', {}, ['k']),
  { kind: 'cookie.change', cookie: cookie('a', 'changed'), removed: false },
  { kind: 'cookie.change', cookie: cookie('b', '2'), removed: true },
  nav(1, 'https://a.test/2'),
  nav(1, 'chrome://settings/'),
  { kind: 'scroll', tabId: 1, x: 0, y: 120 },
  // Form fields of two pages, one of them typed into again, then a new document at the other's URL.
  { kind: 'form', tabId: 1, url: 'https://a.test/2', fields: [{ key: '#q', value: 'typed' }, { key: '@0:input:checkbox:ok=on', value: true }] },
  { kind: 'form', tabId: 3, url: 'https://c.test/', fields: [{ key: '/>body:0>div:0', value: 'notes' }, { key: '#s', value: ['a', 'b'] }] },
  { kind: 'form', tabId: 1, url: 'https://a.test/2#frag', fields: [{ key: '#q', value: 'typed more' }, { key: '@0:input:checkbox:ok=on', value: null }] },
  { kind: 'viewport', tabId: 1, width: 1280, height: 720 },
  // IndexedDB of an origin with localStorage, of one without, then one emptied.
  { kind: 'indexeddb', tabId: 1, origin: 'https://a.test', databases: [{ name: 'db', version: 2, stores: [{ name: 's', autoIncrement: true, keyPath: 'id', indexes: [], records: [{ value: { id: 1 } }] }] }], hash: '1.2.3' },
  { kind: 'indexeddb', tabId: 1, origin: 'https://g.test', databases: [{ name: 'g', version: 1, stores: [] }], warnings: ['IndexedDB g/s: 1 value(s) could not be saved (CryptoKey)'] },
  { kind: 'indexeddb', tabId: 1, origin: 'https://h.test', databases: [{ name: 'h', version: 1, stores: [] }] },
  { kind: 'indexeddb', tabId: 1, origin: 'https://h.test', databases: [] },
  // The same origin's partitioned IndexedDB (in a cross-site iframe under a.test) is kept apart.
  { kind: 'indexeddb', tabId: 1, origin: 'https://g.test', topOrigin: 'https://a.test', databases: [{ name: 'w', version: 1, stores: [{ name: 'kv', autoIncrement: false, indexes: [], records: [{ key: 'k', value: 1 }] }] }], hash: 'p1' },
  {
    kind: 'indexeddb.delta',
    tabId: 1,
    origin: 'https://g.test',
    topOrigin: 'https://a.test',
    base: 'p1',
    hash: 'p2',
    stores: [{ database: 'w', store: 'kv', before: 1, after: 1, splices: [{ at: 0, remove: 1, insert: [{ key: 'k', value: 2 }] }] }],
  },
  // A record added and the first one changed, as a delta on top of what is held.
  {
    kind: 'indexeddb.delta',
    tabId: 1,
    origin: 'https://a.test',
    base: '1.2.3',
    hash: '2.3.4',
    stores: [{ database: 'db', store: 's', before: 1, after: 2, splices: [{ at: 0, remove: 1, insert: [{ value: { id: 1, changed: true } }, { value: { id: 2 } }] }] }],
  },
  nav(3, 'https://c.test/'),
  { kind: 'storage.full', tabId: 3, frameId: 0, origin: 'https://c.test', area: 'session', items: { full: 'yes' } },
  nav(2, 'https://d.test/'),
  store('local', 2, 'https://a.test', { k: 'again' }),
  nav(1, 'https://a.test/2', { qualifiers: ['forward_back'] }),
  tabs(
    [
      { tabId: 1, windowId: 10, index: 0, active: false, url: 'https://a.test/2', title: 'A2' },
      { tabId: 2, windowId: 10, index: 1, active: false, url: 'https://d.test/', title: 'D' },
      { tabId: 3, windowId: 20, index: 0, active: true, url: 'https://c.test/', title: 'C' },
      { tabId: 4, windowId: 30, index: 0, active: true, url: 'about:blank' },
    ],
    [{ windowId: 10 }, { windowId: 20 }, { windowId: 30, state: 'maximized', focused: true, left: 1, top: 2, width: 640, height: 480 }],
  ),
  nav(4, 'https://e.test/'),
  nav(5, 'https://f.test/'),
  { kind: 'scroll', tabId: 4, x: 3, y: 4 },
  nav(1, 'https://a.test/3', { how: 'history' }),
  { kind: 'form', tabId: 1, url: 'https://a.test/3', fields: [{ key: '#later', value: 'x' }] },
  nav(3, 'https://c.test/', { transition: 'link' }),
  nav(1, 'https://a.test/3#x', { how: 'fragment' }),
];

const EVENTS = SCRIPT.map((e) => CaptureEventSchema.parse(e) as CaptureEvent);

function feed(live: LiveState, events: CaptureEvent[], from: number): LiveState {
  events.forEach((e, i) => live.apply(e, 1000 + from + i));
  return live;
}

/** The row a checkpoint writes, read back as the next companion reads it. */
function fromRow(live: LiveState): LiveState {
  return LiveState.fromData(JSON.parse(JSON.stringify(live.toData())));
}

afterEach(async () => {
  await closeStores();
  removeTempDirs();
});

describe('replay = live', () => {
  it('the script covers every capture event kind', () => {
    const kinds = CaptureEventSchema.options.map((o) => o.shape.kind.value);
    expect(new Set(EVENTS.map((e) => e.kind))).toEqual(new Set(kinds));
  });

  it.each(EVENTS.map((e, i) => [i, e.kind] as const))('folded after event %i (%s), the rest replayed: the hash is the live one', (i) => {
    const live = feed(new LiveState(0), EVENTS, 0);
    const replayed = feed(fromRow(feed(new LiveState(0), EVENTS.slice(0, i + 1), 0)), EVENTS.slice(i + 1), i + 1);
    expect(replayed.toState()).toEqual(live.toState());
    expect(contentHash(replayed.toState())).toBe(contentHash(live.toState()));
  });

  it('folded after every event: the hash is the live one', () => {
    const live = feed(new LiveState(0), EVENTS, 0);
    let replayed = new LiveState(0);
    EVENTS.forEach((e, i) => (replayed = fromRow(feed(replayed, [e], i))));
    expect(contentHash(replayed.toState())).toBe(contentHash(live.toState()));
  });

  it('store: a snapshot taken live has the same hash after a SIGKILL and a replay from the last checkpoint', async () => {
    const dataDir = newDataDirPath();
    const s = await openStore(dataDir, { config: { checkpointIntervalMs: 3_600_000 } });
    s.createSession({ id: 's', name: 's' });
    const seq = (from: number, events: CaptureEvent[]): SequencedEvent[] => events.map((event, i) => ({ seq: from + i + 1, at: 1000 + from + i, event }));
    const half = Math.floor(EVENTS.length / 2);
    s.applyEvents('s', 'inst', seq(0, EVENTS.slice(0, half)));
    s.checkpoint(); // the row now holds the first half; the journal the rest
    s.applyEvents('s', 'inst', seq(half, EVENTS.slice(half)));
    const taken = s.saveSnapshot('s', 'manual')!;
    await s.flush();
    forgetStore(s); // SIGKILL: no final checkpoint
    const copy = newDataDirPath();
    const { cpSync } = await import('node:fs');
    cpSync(dataDir, copy, { recursive: true, filter: (src) => !src.endsWith('.lock') });
    const reopened = await openStore(copy);
    expect(reopened.latestSnapshot('s')!.hash).toBe(taken.hash);
  });
});
