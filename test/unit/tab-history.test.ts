import { describe, expect, it } from 'vitest';
import { afterNavigation, HISTORY_LIMIT, type Navigation, type TabHistory } from '../../companion/session-state/tab-history.js';

const EMPTY: TabHistory = { entries: [], currentIndex: 0 };
const NOTHING_SHOWN = { url: '', title: '' };

/** Feed navigations to a tab that starts empty; each one commits a new document unless said otherwise. */
function navigate(start: TabHistory, ...navs: (string | Navigation)[]): TabHistory {
  let h = start;
  let shown = NOTHING_SHOWN;
  for (const n of navs) {
    const nav = typeof n === 'string' ? { url: n, how: 'commit' } : n;
    h = afterNavigation(h, shown, nav);
    shown = { url: nav.url, title: '' };
  }
  return h;
}

const urls = (h: TabHistory) => ({ urls: h.entries.map((e) => e.url), index: h.currentIndex });
const page = (n: number | string) => `https://a.test/${n}`;
const back = (url: string): Navigation => ({ url, how: 'commit', transition: 'link', qualifiers: ['forward_back'] });

describe('tab history', () => {
  it('link navigation appends an entry and truncates the forward list', () => {
    const three = navigate(EMPTY, page(1), page(2), page(3));
    expect(urls(three)).toEqual({ urls: [page(1), page(2), page(3)], index: 2 });
    const fromMiddle = navigate(three, back(page(2)), page('new'));
    expect(urls(fromMiddle)).toEqual({ urls: [page(1), page(2), page('new')], index: 2 });
  });

  it('back/forward (forward_back qualifier) moves to the nearest matching entry without changing the list', () => {
    const h = navigate(EMPTY, page('a'), page('b'), page('a'), page('c'));
    // "a" is both one back (index 2) and three back (index 0): the nearest wins.
    expect(urls(navigate(h, back(page('a'))))).toEqual({ urls: [page('a'), page('b'), page('a'), page('c')], index: 2 });
    const atStart = afterNavigation({ ...h, currentIndex: 0 }, { url: page('a'), title: '' }, back(page('c')));
    expect(atStart.currentIndex).toBe(3);
    // Equally far back and forward: back wins.
    const middle = afterNavigation({ entries: h.entries, currentIndex: 1 }, { url: page('b'), title: '' }, back(page('a')));
    expect(middle.currentIndex).toBe(0);
    // No matching entry (it fell off the list): a new entry after all.
    expect(urls(navigate(h, back(page('gone'))))).toEqual({ urls: [page('a'), page('b'), page('a'), page('c'), page('gone')], index: 4 });
  });

  it('reload replaces the current entry, and reloading the same URL changes nothing', () => {
    const h = navigate(EMPTY, page(1), page(2));
    const titled: TabHistory = { entries: [h.entries[0], { url: page(2), title: 'Two' }], currentIndex: 1 };
    expect(afterNavigation(titled, { url: page(2), title: 'Two' }, { url: page(2), how: 'commit', transition: 'reload' })).toEqual(titled);
    const moved = afterNavigation(titled, { url: page(2), title: 'Two' }, { url: page('2?v=2'), how: 'commit', transition: 'reload' });
    expect(moved).toEqual({ entries: [{ url: page(1), title: '' }, { url: page('2?v=2'), title: '' }], currentIndex: 1 });
  });

  it('same-document fragment changes and pushState add entries', () => {
    const h = navigate(EMPTY, page(1), { url: `${page(1)}#x`, how: 'fragment' }, { url: page('pushed'), how: 'history' });
    expect(urls(h)).toEqual({ urls: [page(1), `${page(1)}#x`, page('pushed')], index: 2 });
    // Back over a pushState entry is a forward_back history update.
    expect(urls(navigate(h, { url: `${page(1)}#x`, how: 'history', qualifiers: ['forward_back'] })).index).toBe(1);
    // A same-document update in a tab with no entry yet starts the list.
    expect(urls(afterNavigation(EMPTY, { url: 'chrome://newtab/', title: '' }, { url: page('spa'), how: 'history' }))).toEqual({
      urls: [page('spa')],
      index: 0,
    });
  });

  it('a client redirect replaces the current entry; a server redirect adds the final URL as a new one (as Chromium does)', () => {
    const h = navigate(EMPTY, page(1), page('login'));
    expect(urls(navigate(h, { url: page('home'), how: 'commit', qualifiers: ['client_redirect'] }))).toEqual({ urls: [page(1), page('home')], index: 1 });
    expect(urls(navigate(h, { url: page('final'), how: 'commit', qualifiers: ['server_redirect'] }))).toEqual({ urls: [page(1), page('login'), page('final')], index: 2 });
    // With no entry to replace, a redirect adds the first one.
    expect(urls(navigate(EMPTY, { url: page('r'), how: 'commit', qualifiers: ['server_redirect'] }))).toEqual({ urls: [page('r')], index: 0 });
  });

  it(`keeps the newest ${HISTORY_LIMIT} entries`, () => {
    const many = Array.from({ length: HISTORY_LIMIT + 5 }, (_, i) => page(i));
    const h = navigate(EMPTY, ...many);
    expect(h.entries).toHaveLength(HISTORY_LIMIT);
    expect(h.entries[0].url).toBe(page(5));
    expect(h.currentIndex).toBe(HISTORY_LIMIT - 1);
    expect(h.entries.at(-1)?.url).toBe(page(HISTORY_LIMIT + 4));
  });

  it("a tab's shown web URL becomes the first entry when it has none yet; other URLs do not", () => {
    expect(urls(afterNavigation(EMPTY, { url: page('start'), title: 'Start' }, { url: page('next'), how: 'commit' }))).toEqual({
      urls: [page('start'), page('next')],
      index: 1,
    });
    expect(afterNavigation(EMPTY, { url: page('start'), title: 'Start' }, { url: page('next'), how: 'commit' }).entries[0].title).toBe('Start');
    expect(urls(afterNavigation(EMPTY, { url: 'about:blank', title: '' }, { url: page('next'), how: 'commit' }))).toEqual({ urls: [page('next')], index: 0 });
  });

  it('returns a new value and leaves the given history alone', () => {
    const h = navigate(EMPTY, page(1), page(2));
    const copy = structuredClone(h);
    afterNavigation(h, { url: page(2), title: '' }, { url: page(3), how: 'commit' });
    afterNavigation(h, { url: page(2), title: '' }, { url: page(3), how: 'commit', transition: 'reload' });
    expect(h).toEqual(copy);
  });
});
