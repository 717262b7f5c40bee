/**
 * Put a captured SessionState back into a freshly launched browser: cookies, localStorage (plain and
 * partitioned), per-tab sessionStorage, windows with their bounds and state (windows.ts), tabs in
 * order with their back and forward history, viewport, scroll and each window's active tab. Partial failure is normal (a site is down, Chromium refuses a cookie): every piece
 * that fails is reported in the outcome and the rest goes on. Nothing here throws for partial failure.
 *
 * How storage gets in before page scripts run, without overwriting what pages write later:
 *  - localStorage, all of it, is written before any tab loads, in one "setup" page (the start-up tab,
 *    which then goes on as the first tab) whose requests are all answered by page.route with a blank
 *    document (no network, no site scripts).
 *    Unpartitioned origins: navigate the setup page to the origin, setItem. Partitioned entries
 *    (topOrigin set): navigate to a blank top document at topOrigin that embeds blank iframes of each
 *    origin, setItem inside the frame — Chromium then files the data under that top-level site, exactly
 *    where the page's iframe will look. Once in the profile the data is just *there*, like after a
 *    normal restart: no init script writes localStorage, so nothing can overwrite a page's own later
 *    writes, and tabs sharing an origin cannot race each other.
 *  - sessionStorage belongs to one tab, so it must be written through that tab. An init script (data
 *    passed as its JSON argument, not spliced into code) writes the entries of the frame's own origin
 *    into that frame — top or iframe — only while the frame's sessionStorage is still empty, and is
 *    disposed as soon as the tab's first load finishes (DESIGN.md: init scripts re-run on every
 *    navigation). The empty-check also protects a page that writes and then navigates before `load`.
 *
 * How back history is restored: Chromium offers no API to write a tab's history, and loading each past
 * page for real would be slow and run their scripts (and side effects). Instead the tab is navigated
 * through its previous entries with route-fulfilled stub documents (a title and nothing else; no
 * network), then the route is removed and the current URL is loaded for real. Back then leaves the
 * real page for a stub entry whose document is gone, so Chromium loads that URL from the network —
 * a real page, as expected (Playwright launches with --disable-back-forward-cache, and the stubs are
 * no-store, so no stub can come back from a cache). Measured on 2 cores: ~100 ms per stub entry, plus
 * ~100 ms for enabling/removing the route; the first stub also starts the renderer process that the real
 * page reuses. Whole restore: 1 tab ~0.7 s, 10 tabs ~4 s (after a ~1 s launch).
 * Entries after currentIndex (Forward) are stubs too: the current entry is built as a stub, then the
 * forward ones, and a CDP history jump (Page.navigateToHistoryEntry) back to the current entry loads
 * the real page there once, keeping the forward entries (history.ts). Non-http(s) entries are skipped.
 *
 * Files: this one runs the steps in order; cookies.ts, local-storage.ts and indexeddb.ts (both
 * written through setup-page.ts), windows.ts (a window per
 * captured window, the tabs' pages in order), then per tab tab.ts, which uses history.ts,
 * session-storage.ts and scroll.ts. types.ts holds the options and the outcome.
 */
import type { BrowserContext, Page } from 'playwright-core';
import type { SessionState } from '../../../shared/state.js';
import { debug } from '../../debug.js';
import { restoreCookies } from './cookies.js';
import { hasIndexedDB, restoreIndexedDB, tellExtensionIndexedDBHeld } from './indexeddb.js';
import { restoreLocalStorage, type SetupPage } from './local-storage.js';
import { firstLine } from './strings.js';
import { restoreTab } from './tab.js';
import { activateTabs, openTabPages } from './windows.js';
import type { RestoreOptions, RestoreOutcome, TabOutcome } from './types.js';

export type { RestoreOptions, RestoreOutcome, TabOutcome } from './types.js';

const debugLog = debug('restore');

/** The origin of an http(s) URL, else undefined. */
function webOrigin(url: string): string | undefined {
  return /^https?:/.test(url) ? new URL(url).origin : undefined;
}

/** Restore `state` into `context`, a freshly launched browser; resolves with what went in and what did not. */
export async function restoreState(
  context: BrowserContext,
  state: SessionState,
  opts: RestoreOptions = {},
): Promise<RestoreOutcome> {
  const started = Date.now();
  const log = (line: string) => {
    debugLog(line);
    opts.onProgress?.(line);
  };
  const outcome: RestoreOutcome = { cookies: 0, origins: 0, tabs: [], failures: [], warnings: [], pages: [], durationMs: 0, followUps: [] };

  // 1. Cookies before any tab loads, so the very first request of every tab carries them. They go in
  //    while localStorage is written: the setup page's requests never reach the network.
  const cookiesDone = restoreCookies(context, state.cookies, outcome).then((n) => {
    outcome.cookies = n;
    log(`cookies: ${n}/${state.cookies.length} in ${Date.now() - started} ms`);
  });

  // 2. localStorage into the profile before any real page loads. Meanwhile create the tab pages
  //    (~150 ms each on 2 cores), one after the other so they stand in tab order (a new page is
  //    appended as the last tab), and start loading each as soon as it exists and storage is in.
  //    The browser's start-up tab, when there is one, is the setup page: it exists already. It then
  //    goes on as the first tab's page (the first tab of the start-up window), ending on that tab's
  //    origin so that its first page of that site reuses the renderer running there; its setup
  //    history is dropped at the tab's first navigation (tab.ts).
  const blank = context.pages().filter((p) => p.url() === 'about:blank');
  const tabs = [...state.tabs].sort((a, b) => a.windowIndex - b.windowIndex || a.index - b.index);
  const needsSetup = tabs.length > 0 && state.origins.some((o) => o.localStorage.length > 0 || hasIndexedDB(o));
  const setupPage = needsSetup ? blank[0] : undefined;
  const setup: SetupPage | undefined = setupPage && { page: setupPage, continuesAt: webOrigin(tabs[0].url) };
  const storageWritten = restoreLocalStorage(context, state.origins, outcome, setup)
    .then((n) => {
      outcome.origins = n;
      log(`localStorage: ${n}/${state.origins.length} origins at ${Date.now() - started} ms`);
      // IndexedDB (indexeddb.ts) through the same setup page, also before any tab loads.
      return restoreIndexedDB(context, state.origins, outcome, setup);
    })
    .then((written) => {
      if (written.length > 0) log(`IndexedDB: ${written.length}/${state.origins.filter(hasIndexedDB).length} origins at ${Date.now() - started} ms`);
      return tellExtensionIndexedDBHeld(context, written);
    });
  const storageDone = Promise.all([storageWritten, cookiesDone]);
  const { pages: pageReady, done: windowsDone } = openTabPages(context, tabs, state.windows, blank, outcome);

  // 3. Tabs, at most `concurrency` loading at once.
  const results: TabOutcome[] = new Array(tabs.length);
  const pages: Array<Page | undefined> = new Array(tabs.length);
  let next = 0;
  const worker = async () => {
    while (next < tabs.length) {
      const i = next++;
      try {
        pages[i] = await pageReady[i];
      } catch (e) {
        results[i] = { url: tabs[i].url, ok: false, error: `could not open a tab: ${firstLine(e)}` };
        continue;
      }
      await storageDone;
      results[i] = await restoreTab(pages[i]!, tabs[i], state, opts, outcome, pages[i] === setupPage);
    }
  };
  await Promise.all([storageDone, windowsDone, ...Array.from({ length: Math.max(1, Math.min(opts.concurrency ?? 4, tabs.length)) }, worker)]);
  outcome.tabs = results;
  outcome.pages = pages.filter((p): p is Page => p !== undefined);
  log(`tabs: ${results.filter((t) => t.ok).length}/${tabs.length} loaded at ${Date.now() - started} ms`);

  // 4. Each window's active tab last, the focused window's at the very end, so nothing steals its place.
  const activePage = await activateTabs(tabs, state.windows, pages, outcome);
  if (activePage) outcome.activePage = activePage;
  outcome.durationMs = Date.now() - started;
  return outcome;
}
