/**
 * Top frame only: how Chromium filed this document's history entry and every same-document one after
 * it, as the Navigation API tells it (push, replace, reload, traverse). chrome.webNavigation does not
 * say: a meta refresh of 2 s reports `client_redirect` yet adds an entry, a script redirect during load
 * reports the same qualifier and replaces; replaceState is reported exactly like pushState (measured,
 * Chromium 156, against CDP Page.getNavigationHistory). The companion corrects the entry it derived
 * from webNavigation with this report (companion/session-state/live-state.ts, `navigate`).
 *
 * The document's own entry rides on its `restory.start` message (`documentEntryType`), so a page load
 * costs no extra message; a same-document navigation (pushState, replaceState, fragment, Back within
 * the document) and a return from the back/forward cache send one `restory.entry` each.
 *
 * Invisible to the page: `navigation` is read and listened to from the isolated world (no main-world
 * code, nothing added to the page's objects). Without the API (Chromium < 123 has no `activation`)
 * nothing is reported and the webNavigation rules stand alone.
 */
import type { HistoryEntryType } from '../../shared/capture-events.js';
import { send } from './send.js';

const isEntryType = (t: unknown): t is HistoryEntryType => t === 'push' || t === 'replace' || t === 'reload' || t === 'traverse';

function navigationOf(win: Window): Navigation | undefined {
  const nav = (win as Window & { navigation?: Navigation }).navigation;
  return nav && 'activation' in nav ? nav : undefined;
}

/** How this document's entry was filed, for the start message. */
export function documentEntryType(win: Window = window): HistoryEntryType | undefined {
  const type = navigationOf(win)?.activation?.navigationType;
  return isEntryType(type) ? type : undefined;
}

export function startHistoryEntryCapture(win: Window = window): () => void {
  const nav = navigationOf(win);
  if (!nav) return () => {};
  const abort = new AbortController();
  const report = (how: 'commit' | 'history', entry: unknown) => {
    if (isEntryType(entry)) send({ type: 'restory.entry', url: win.location.href, how, entry });
  };
  nav.addEventListener('currententrychange', (e) => report('history', e.navigationType), { signal: abort.signal });
  // A page restored from the back/forward cache runs no document_start again.
  win.addEventListener('pageshow', (e) => e.persisted && report('commit', 'traverse'), { signal: abort.signal });
  return () => abort.abort();
}
