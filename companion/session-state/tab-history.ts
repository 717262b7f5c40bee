/**
 * A tab's back/forward list, kept as far as chrome.webNavigation lets us see it. Chromium does not
 * expose the list, so these rules replay its behaviour from the navigations it reports:
 *
 * - a new entry (link, typed URL, pushState, fragment change) truncates the forward list;
 * - a commit qualified `forward_back` moves to the nearest matching entry, back or forward;
 * - reload and client redirects (`client_redirect`: a meta refresh or a script navigating before the
 *   page finished loading, location.replace) replace the current entry;
 * - a server redirect (`server_redirect`, e.g. a form POST answered by 302) is a new entry holding the
 *   final URL, like any navigation: the page the form was on stays in the back list.
 * - the same URL again changes nothing; the list keeps the newest HISTORY_LIMIT entries.
 *
 * Measured against Chromium's own list (CDP Page.getNavigationHistory, Chromium 156): these rules
 * give its entries for link and typed navigations, Back/Forward, reload, form POST → 302, meta refresh
 * 0 s, scripts redirecting during load, location.replace, pushState and fragments. They differ where
 * webNavigation does not tell Chromium's choice: a meta refresh with a delay of 2 s or more adds an
 * entry (reported as client_redirect, taken by the rules as a replacement), and replaceState is
 * reported like pushState. For those the page's own report decides (`entry`, from the Navigation API
 * in the content script, extension/content/history-entry.ts): LiveState re-derives the navigation
 * from the list as it was before it, with Chromium's decision instead of the rules.
 *
 * Pure functions over plain values: the caller (LiveState) stores the result.
 */

export interface HistoryEntry {
  url: string;
  title: string;
}

export interface TabHistory {
  entries: HistoryEntry[];
  currentIndex: number;
}

/** A top-frame navigation as webNavigation reports it (see the `navigation` capture event). */
export interface Navigation {
  url: string;
  /** 'commit': a new document; 'history': pushState/replaceState; 'fragment': a fragment change. */
  how: string;
  transition?: string;
  qualifiers?: string[];
  /** Chromium's own decision, when the page reported it (Navigation API): overrides the rules above. */
  entry?: 'push' | 'replace' | 'reload' | 'traverse';
}

export const HISTORY_LIMIT = 50;

/** Only web pages have entries worth restoring. */
export function isWebUrl(url: string): boolean {
  return /^https?:/.test(url);
}

/**
 * The history after `nav` in a tab that shows `shown` (its URL and title before the navigation).
 * Returns a new value; `history` is not modified.
 */
export function afterNavigation(history: TabHistory, shown: HistoryEntry, nav: Navigation): TabHistory {
  const qualifiers = nav.qualifiers ?? [];
  // A tab known only from a `tabs` event has a URL but no entries yet: that URL is the entry
  // being navigated away from (LiveState already shows it as the tab's history), unless the tabs
  // event already showed this navigation's URL.
  const h: TabHistory =
    history.entries.length === 0 && isWebUrl(shown.url) && shown.url !== nav.url
      ? { entries: [{ url: shown.url, title: shown.title }], currentIndex: 0 }
      : { entries: history.entries.map((e) => ({ ...e })), currentIndex: history.currentIndex };
  const current = h.entries[h.currentIndex];
  if (nav.entry) return withEntryType(h, nav.url, nav.entry);
  if (current?.url === nav.url) return h;
  if (qualifiers.includes('forward_back')) {
    const index = nearestEntry(h, nav.url);
    if (index >= 0) return { entries: h.entries, currentIndex: index };
  }
  const replaces = nav.transition === 'reload' || qualifiers.includes('client_redirect');
  if (replaces && current) {
    h.entries[h.currentIndex] = { url: nav.url, title: '' };
    return h;
  }
  if (nav.how !== 'commit' && !current) return { entries: [{ url: nav.url, title: '' }], currentIndex: 0 };
  const entries = [...h.entries.slice(0, h.currentIndex + 1), { url: nav.url, title: '' }].slice(-HISTORY_LIMIT);
  return { entries, currentIndex: entries.length - 1 };
}

/** `h` (a copy) after a navigation to `url` that Chromium filed as `type`. */
function withEntryType(h: TabHistory, url: string, type: NonNullable<Navigation['entry']>): TabHistory {
  const current = h.entries[h.currentIndex];
  if (type === 'traverse') {
    if (current?.url === url) return h;
    const index = nearestEntry(h, url);
    // An entry capture never saw (beyond HISTORY_LIMIT, or from before capture started): start from it.
    return index >= 0 ? { entries: h.entries, currentIndex: index } : { entries: [{ url, title: '' }], currentIndex: 0 };
  }
  if ((type === 'replace' || type === 'reload') && current) {
    h.entries[h.currentIndex] = { url, title: current.url === url ? current.title : '' };
    return h;
  }
  const entries = [...h.entries.slice(0, h.currentIndex + 1), { url, title: '' }].slice(-HISTORY_LIMIT);
  return { entries, currentIndex: entries.length - 1 };
}

/** Back/Forward went to `url`: the matching entry nearest the current one (back on a tie), or -1. */
function nearestEntry(h: TabHistory, url: string): number {
  const back = h.entries
    .slice(0, h.currentIndex)
    .map((e) => e.url)
    .lastIndexOf(url);
  const fwd = h.entries.findIndex((e, i) => i > h.currentIndex && e.url === url);
  if (back >= 0 && (fwd < 0 || h.currentIndex - back <= fwd - h.currentIndex)) return back;
  return fwd;
}
