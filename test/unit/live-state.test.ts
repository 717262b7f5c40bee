import { describe, expect, it } from 'vitest';
import { LiveState } from '../../companion/session-state/live-state.js';
import { CaptureEventSchema, type CaptureEvent, type CaptureEventInput } from '../../shared/capture-events.js';
import type { Cookie } from '../../shared/state.js';

function feed(live: LiveState, ...events: CaptureEventInput[]): LiveState {
  events.forEach((e, i) => live.apply(CaptureEventSchema.parse(e) as CaptureEvent, 1000 + i));
  return live;
}

const local = (origin: string, extra: object) => ({ kind: 'storage.change' as const, tabId: 1, frameId: 0, origin, area: 'local' as const, ...extra });
const nav = (tabId: number, url: string, extra: object = {}) => ({ kind: 'navigation' as const, tabId, url, how: 'commit' as const, ...extra });
const tabs = (list: { tabId: number; url: string; title?: string; windowId?: number; active?: boolean; index?: number }[], windows = [{ windowId: 1 }]) => ({
  kind: 'tabs' as const,
  tabs: list.map((t, i) => ({ tabId: t.tabId, windowId: t.windowId ?? 1, index: t.index ?? i, active: t.active ?? i === 0, pinned: false, url: t.url, title: t.title ?? '' })),
  windows: windows.map((w) => ({ ...w, state: 'normal' as const, focused: true })),
});
const cookie = (name: string, value: string, extra: Partial<Cookie> = {}): Cookie => ({
  name, value, domain: 'a.test', path: '/', expires: -1, httpOnly: false, secure: false, sameSite: 'Lax', ...extra,
});
const items = (live: LiveState, origin = 'https://a.test') =>
  Object.fromEntries(live.toState().origins.find((o) => o.origin === origin)?.localStorage.map((i) => [i.name, i.value]) ?? []);

describe('LiveState storage', () => {
  it('storage.full replaces an origin; storage.change applies clear, then remove, then set', () => {
    const live = feed(new LiveState(0),
      local('https://a.test', { set: { a: '1', b: '2', c: '3' } }),
      { kind: 'storage.full', tabId: 1, frameId: 0, origin: 'https://a.test', area: 'local', items: { x: '1', y: '2' } },
    );
    expect(items(live)).toEqual({ x: '1', y: '2' });
    // remove then set of the same key: the set wins.
    feed(live, local('https://a.test', { remove: ['x', 'y'], set: { y: 'again' } }));
    expect(items(live)).toEqual({ y: 'again' });
    // clear first, so the set survives it.
    feed(live, local('https://a.test', { clear: true, set: { z: '9' } }));
    expect(items(live)).toEqual({ z: '9' });
    feed(live, local('https://a.test', { clear: true }));
    expect(live.toState().origins).toEqual([]);
  });

  it('keeps partitioned storage apart from the unpartitioned origin', () => {
    const live = feed(new LiveState(0),
      local('https://embed.test', { set: { k: 'top' } }),
      local('https://embed.test', { topOrigin: 'https://site.test', set: { k: 'partitioned' } }),
    );
    expect(live.toState().origins).toEqual([
      { origin: 'https://embed.test', localStorage: [{ name: 'k', value: 'top' }] },
      { origin: 'https://embed.test', topOrigin: 'https://site.test', localStorage: [{ name: 'k', value: 'partitioned' }] },
    ]);
  });

  it('sessionStorage belongs to its tab', () => {
    const live = feed(new LiveState(0),
      nav(1, 'https://a.test/'), nav(2, 'https://a.test/'),
      { kind: 'storage.change', tabId: 1, frameId: 0, origin: 'https://a.test', area: 'session', set: { t: 'one' } },
      { kind: 'storage.change', tabId: 2, frameId: 0, origin: 'https://a.test', area: 'session', set: { t: 'two' } },
      tabs([{ tabId: 1, url: 'https://a.test/' }, { tabId: 2, url: 'https://a.test/' }]),
    );
    expect(live.toState().tabs.map((t) => t.sessionStorage)).toEqual([
      [{ origin: 'https://a.test', items: [{ name: 't', value: 'one' }] }],
      [{ origin: 'https://a.test', items: [{ name: 't', value: 'two' }] }],
    ]);
  });
});

describe('LiveState cookies', () => {
  it('cookies.all replaces; cookie.change is keyed by name + domain + path', () => {
    const live = feed(new LiveState(0), { kind: 'cookies.all', cookies: [cookie('a', '1'), cookie('b', '1')] });
    feed(live,
      { kind: 'cookie.change', cookie: cookie('a', '2'), removed: false },
      { kind: 'cookie.change', cookie: cookie('a', 'sub', { path: '/sub' }), removed: false },
      { kind: 'cookie.change', cookie: cookie('a', 'other', { domain: 'b.test' }), removed: false },
      { kind: 'cookie.change', cookie: cookie('b', 'whatever'), removed: true },
    );
    expect(live.toState().cookies.map((c) => [c.name, c.domain, c.path, c.value])).toEqual([
      ['a', 'a.test', '/', '2'],
      ['a', 'a.test', '/sub', 'sub'],
      ['a', 'b.test', '/', 'other'],
    ]);
    feed(live, { kind: 'cookies.all', cookies: [cookie('c', '3')] });
    expect(live.toState().cookies.map((c) => c.name)).toEqual(['c']);
  });
});

describe('LiveState navigation history', () => {
  const history = (live: LiveState, i = 0) => {
    const h = live.toState().tabs[i].history;
    return { urls: h.entries.map((e) => e.url), index: h.currentIndex };
  };

  it('new entries truncate the forward list; forward_back moves the index; reload replaces', () => {
    const live = feed(new LiveState(0), nav(1, 'https://a.test/1'), nav(1, 'https://a.test/2'), nav(1, 'https://a.test/3'));
    expect(history(live)).toEqual({ urls: ['https://a.test/1', 'https://a.test/2', 'https://a.test/3'], index: 2 });
    feed(live, nav(1, 'https://a.test/2', { qualifiers: ['forward_back'] }));
    expect(history(live)).toEqual({ urls: ['https://a.test/1', 'https://a.test/2', 'https://a.test/3'], index: 1 });
    feed(live, nav(1, 'https://a.test/3', { qualifiers: ['forward_back'] }));
    expect(history(live).index).toBe(2);
    feed(live, nav(1, 'https://a.test/1', { qualifiers: ['forward_back'] }));
    expect(history(live).index).toBe(0);
    // A new entry from the middle drops what was forward of it.
    feed(live, nav(1, 'https://a.test/new'));
    expect(history(live)).toEqual({ urls: ['https://a.test/1', 'https://a.test/new'], index: 1 });
    // Reload and client redirects replace the current entry.
    feed(live, nav(1, 'https://a.test/reloaded', { transition: 'reload' }));
    feed(live, nav(1, 'https://a.test/redirected', { qualifiers: ['client_redirect'] }));
    expect(history(live)).toEqual({ urls: ['https://a.test/1', 'https://a.test/redirected'], index: 1 });
    // A History API update or fragment change adds an entry too; the same URL again does not.
    feed(live, nav(1, 'https://a.test/redirected#x', { how: 'fragment' }), nav(1, 'https://a.test/redirected#x'));
    expect(history(live).urls).toHaveLength(3);
    expect(live.toState().tabs[0].url).toBe('https://a.test/redirected#x');
  });

  it('the page’s report of how Chromium filed an entry corrects the rules, in either order', () => {
    const entry = (url: string, type: string, how = 'commit', tabId = 1) => nav(tabId, url, { how, entry: type });
    // A meta refresh of 2 s: webNavigation says client_redirect (a replacement by the rules), Chromium added an entry.
    const live = feed(new LiveState(0), nav(1, 'https://a.test/1'), entry('https://a.test/1', 'push'), nav(1, 'https://a.test/meta'));
    feed(live, tabs([{ tabId: 1, url: 'https://a.test/meta', title: 'Meta' }]));
    feed(live, entry('https://a.test/meta', 'push'));
    expect(live.toState().tabs[0].history.entries[1]).toEqual({ url: 'https://a.test/meta', title: 'Meta' }); // title kept
    feed(live, nav(1, 'https://a.test/after', { qualifiers: ['client_redirect'] }));
    expect(history(live)).toEqual({ urls: ['https://a.test/1', 'https://a.test/after'], index: 1 }); // the rules: replaced
    feed(live, entry('https://a.test/after', 'push'));
    expect(history(live)).toEqual({ urls: ['https://a.test/1', 'https://a.test/meta', 'https://a.test/after'], index: 2 });
    // replaceState, reported by the page first this time: webNavigation's report of it changes nothing.
    feed(live, entry('https://a.test/replaced', 'replace', 'history'), nav(1, 'https://a.test/replaced', { how: 'history' }));
    expect(history(live)).toEqual({ urls: ['https://a.test/1', 'https://a.test/meta', 'https://a.test/replaced'], index: 2 });
    // A page report of a URL webNavigation has already left behind is stale: ignored.
    feed(live, nav(1, 'https://a.test/x'), nav(1, 'https://a.test/y'), entry('https://a.test/x', 'replace'));
    expect(history(live).urls.slice(-2)).toEqual(['https://a.test/x', 'https://a.test/y']);
    // Traverse moves to the entry; reload keeps it.
    feed(live, nav(1, 'https://a.test/x', { qualifiers: ['forward_back'] }), entry('https://a.test/x', 'traverse'));
    expect(history(live).index).toBe(3);
    feed(live, nav(1, 'https://a.test/x', { transition: 'reload' }), entry('https://a.test/x', 'reload'));
    expect(history(live)).toEqual({ urls: ['https://a.test/1', 'https://a.test/meta', 'https://a.test/replaced', 'https://a.test/x', 'https://a.test/y'], index: 3 });
    // Both reports paired by the extension into one event: Chromium's decision, nothing left pending.
    feed(live, nav(1, 'https://a.test/z', { transition: 'link', qualifiers: ['client_redirect'], entry: 'push' }));
    expect(history(live)).toEqual({ urls: ['https://a.test/1', 'https://a.test/meta', 'https://a.test/replaced', 'https://a.test/x', 'https://a.test/z'], index: 4 });
    // A tab first seen in a tabs event already showing the URL the reports are about: one entry, not two.
    const fresh = feed(new LiveState(0), tabs([{ tabId: 2, url: 'https://b.test/' }]), nav(2, 'https://b.test/'), entry('https://b.test/', 'push', 'commit', 2));
    expect(history(fresh)).toEqual({ urls: ['https://b.test/'], index: 0 });
    // about:blank gets no page report: it must not hold back the next page's.
    feed(fresh, nav(2, 'about:blank'), entry('https://b.test/meta', 'push', 'commit', 2), nav(2, 'https://b.test/meta'));
    feed(fresh, nav(2, 'https://b.test/next', { qualifiers: ['client_redirect'] }), entry('https://b.test/next', 'push', 'commit', 2));
    expect(history(fresh).urls.filter((u) => u.startsWith('https:'))).toEqual(['https://b.test/', 'https://b.test/meta', 'https://b.test/next']);
  });

  it('a tab first seen in a tabs event keeps its URL as the entry before the next navigation', () => {
    const live = feed(new LiveState(0), tabs([{ tabId: 5, url: 'https://a.test/start', title: 'Start' }]), nav(5, 'https://a.test/next'));
    expect(history(live)).toEqual({ urls: ['https://a.test/start', 'https://a.test/next'], index: 1 });
  });
});

describe('LiveState tabs', () => {
  it('a tabs event replaces the set but keeps per-tab sessionStorage, history and scroll', () => {
    const live = feed(new LiveState(0),
      nav(1, 'https://a.test/1'), nav(1, 'https://a.test/2'),
      { kind: 'storage.change', tabId: 1, frameId: 0, origin: 'https://a.test', area: 'session', set: { s: '1' } },
      nav(2, 'https://b.test/'),
      { kind: 'scroll', tabId: 1, x: 0, y: 300 },
      tabs([{ tabId: 1, url: 'https://a.test/2', title: 'Two' }, { tabId: 2, url: 'https://b.test/', title: 'B' }]),
    );
    feed(live, tabs([{ tabId: 1, url: 'https://a.test/2', title: 'Two!', active: true }, { tabId: 3, url: 'https://c.test/', active: false }]));
    const state = live.toState();
    expect(state.tabs.map((t) => t.url)).toEqual(['https://a.test/2', 'https://c.test/']);
    expect(state.tabs[0]).toMatchObject({
      title: 'Two!',
      active: true,
      scroll: { x: 0, y: 300 },
      sessionStorage: [{ origin: 'https://a.test', items: [{ name: 's', value: '1' }] }],
      history: { entries: [{ url: 'https://a.test/1', title: '' }, { url: 'https://a.test/2', title: 'Two!' }], currentIndex: 1 },
    });
  });

  it('orders tabs by window then index, with windows and viewport', () => {
    const live = feed(new LiveState(0),
      tabs(
        [{ tabId: 1, url: 'https://w2.test/', windowId: 2, index: 0 }, { tabId: 2, url: 'https://w1b.test/', windowId: 1, index: 1, active: true }, { tabId: 3, url: 'https://w1a.test/', windowId: 1, index: 0 }],
        [{ windowId: 1 }, { windowId: 2 }],
      ),
      { kind: 'viewport', tabId: 2, width: 800, height: 600 },
    );
    const state = live.toState();
    expect(state.tabs.map((t) => [t.url, t.windowIndex, t.index])).toEqual([['https://w1a.test/', 0, 0], ['https://w1b.test/', 0, 1], ['https://w2.test/', 1, 0]]);
    expect(state.windows).toHaveLength(2);
    expect(state.viewport).toEqual({ width: 800, height: 600 });
    // Window 2 had no active tab: one is made active.
    expect(state.tabs[2].active).toBe(true);
  });
});

describe('LiveState toData/fromData', () => {
  it('round-trips everything it restores, the browser ids, instance and seq', () => {
    const live = feed(new LiveState(0),
      { kind: 'cookies.all', cookies: [cookie('a', '1')] },
      local('https://a.test', { set: { k: 'v' } }),
      nav(7, 'https://a.test/1'), nav(7, 'https://a.test/2'),
      { kind: 'storage.change', tabId: 7, frameId: 0, origin: 'https://a.test', area: 'session', set: { s: '1' } },
      { kind: 'scroll', tabId: 7, x: 1, y: 2 },
      tabs([{ tabId: 7, url: 'https://a.test/2', title: 'T', windowId: 42 }], [{ windowId: 42 }]),
      { kind: 'viewport', tabId: 7, width: 1024, height: 700 },
    );
    live.instanceId = 'inst';
    live.lastSeq = 12;
    const data = live.toData();
    expect(data).toMatchObject({ instanceId: 'inst', lastSeq: 12 });
    expect(data.tabs.map((t) => t.tabId)).toEqual([7]);
    expect(data.windows.map((w) => w.windowId)).toEqual([42]);
    // The cheap layout listings use is exactly the state's tabs and windows.
    const state = live.toState();
    expect(live.layout()).toEqual({ tabs: state.tabs, windows: state.windows });
    const copy = LiveState.fromData(JSON.parse(JSON.stringify(data)));
    expect(copy.toData()).toEqual(data);
    // The copy keeps folding events addressed by the browser's ids.
    feed(copy, nav(7, 'https://a.test/3'));
    feed(live, nav(7, 'https://a.test/3'));
    expect(copy.toState()).toEqual(live.toState());
  });

  it('fromState gives snapshot tabs synthetic negative ids', () => {
    const state = feed(new LiveState(0), nav(1, 'https://a.test/'), tabs([{ tabId: 1, url: 'https://a.test/' }])).toState();
    const restored = LiveState.fromState(state);
    const data = restored.toData();
    expect(data.tabs.map((t) => t.tabId)).toEqual([-1]);
    expect(data.windows.map((w) => w.windowId)).toEqual([-1]);
    expect(restored.toState().tabs).toEqual(state.tabs);
  });

  it('reads the rows and journal records written before format 2 (the state and its browser ids)', () => {
    const live = feed(new LiveState(0), nav(7, 'https://a.test/1'), tabs([{ tabId: 7, url: 'https://a.test/1', windowId: 42 }], [{ windowId: 42 }]));
    const state = live.toState();
    const old = LiveState.fromData({ state, tabIds: [7], windowIds: [42], instanceId: 'inst', lastSeq: 3 });
    expect(old.toState()).toEqual(state);
    expect([old.instanceId, old.lastSeq]).toEqual(['inst', 3]);
    feed(old, nav(7, 'https://a.test/2'));
    feed(live, nav(7, 'https://a.test/2'));
    expect(old.toState()).toEqual(live.toState());
  });
});
