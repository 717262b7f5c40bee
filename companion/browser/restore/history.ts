/**
 * A tab's back/forward list, recreated by walking the tab through route-fulfilled stub documents (a
 * title and nothing else, no network) before its real page loads, so that Back and Forward work. Why
 * stubs, what Back then loads, and what it costs (~100 ms per entry): restore-state.ts's header.
 *
 * Forward entries: the current entry is built as a stub too, then the forward stubs after it, and the
 * tab jumps back to the current entry with CDP `Page.navigateToHistoryEntry`. A history jump keeps the
 * entries after it, and since the stub's document is gone (no back/forward cache, no-store), Chromium
 * loads the current URL from the network: the real page, loaded once, its scripts run once (measured,
 * Chromium 156: one request for it, one run of its scripts; `page.goBack()` per entry instead would
 * load every forward page for real on the way).
 */
import type { CDPSession, Page, Route } from 'playwright-core';
import type { TabState } from '../../../shared/state.js';
import { escapeHtml, firstLine, stripHash } from './strings.js';
import type { RestoreOutcome } from './types.js';

export interface HistoryLimits {
  back: number;
  forward: number;
}

/** Where restoreHistory left the tab: on the last back stub (load the real page over it), or on a forward stub. */
export type BuiltHistory = { forward: false } | { forward: true; current: { id: number; url: string } };

interface NavigationHistory {
  currentIndex: number;
  entries: { id: number; url: string }[];
}

const isWeb = (url: string) => /^https?:/.test(url);

/** Create the stub entries around the current one: those before it, and (if any) it and those after it. */
export async function restoreHistory(
  page: Page,
  tab: TabState,
  limits: HistoryLimits,
  timeout: number,
  outcome: RestoreOutcome,
  label: string,
  /** Called once, right after the first entry commits (before the next navigation). */
  afterFirstCommit: () => Promise<void> = async () => {},
): Promise<BuiltHistory> {
  const { entries } = tab.history;
  const current = Math.min(tab.history.currentIndex, Math.max(0, entries.length - 1));
  const back = entries.slice(Math.max(0, current - limits.back), current).filter((e) => isWeb(e.url));
  let forward = entries.slice(current + 1, current + 1 + limits.forward).filter((e) => isWeb(e.url));
  const skipped = entries.length - current - 1 - forward.length;
  if (skipped > 0) outcome.warnings.push(`${label}: ${skipped} forward history entr${skipped === 1 ? 'y' : 'ies'} not restored`);
  if (forward.length > 0 && !isWeb(tab.url)) {
    outcome.warnings.push(`${label}: ${forward.length} forward history entries not restored (the current page is not a web page)`);
    forward = [];
  }
  if (!back.length && !forward.length) return { forward: false };

  const titles = new Map([...back, entries[current], ...forward].map((e) => [stripHash(e.url), e.title]));
  const handler = async (route: Route) => {
    const request = route.request();
    if (!request.isNavigationRequest() || request.frame() !== page.mainFrame()) return route.abort();
    const title = titles.get(stripHash(request.url())) ?? '';
    await route.fulfill({
      status: 200,
      contentType: 'text/html',
      headers: { 'cache-control': 'no-store' },
      body: `<!doctype html><html data-restory-stub="1"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body></body></html>`,
    });
  };
  let first = true;
  const stub = async (url: string) => {
    try {
      await page.goto(url, { timeout, waitUntil: 'commit' });
      if (first) await afterFirstCommit();
      first = false;
      return true;
    } catch (e) {
      outcome.warnings.push(`${label}: history entry ${url} not restored: ${firstLine(e)}`);
      return false;
    }
  };
  await page.route('**/*', handler);
  try {
    for (const entry of back) await stub(entry.url);
    if (!forward.length) return { forward: false };
    if (!(await stub(tab.url))) return { forward: false }; // the real page then loads over the last back stub
    let current: { id: number; url: string };
    try {
      current = await committedEntry(page, page.url());
    } catch (e) {
      // The real page then loads over the current stub (a navigation to the same URL replaces it).
      outcome.warnings.push(`${label}: forward history not restored: ${firstLine(e)}`);
      return { forward: false };
    }
    for (const entry of forward) await stub(entry.url);
    return { forward: true, current };
  } finally {
    await page.unroute('**/*', handler);
  }
}

/**
 * The entry the tab is on, once Chromium's list shows the navigation to `url` committed (2 s at
 * most). A session opened while the tab swaps documents can answer "Not attached to an active page"
 * (measured, Chromium 156, under load): each attempt opens its own.
 */
async function committedEntry(page: Page, url: string): Promise<{ id: number; url: string }> {
  const deadline = Date.now() + 2000;
  for (;;) {
    let cdp: CDPSession | undefined;
    try {
      cdp = await page.context().newCDPSession(page);
      const history = (await cdp.send('Page.getNavigationHistory')) as NavigationHistory;
      const entry = history.entries[history.currentIndex];
      if (entry.url === url || Date.now() > deadline) return { id: entry.id, url: entry.url };
    } catch (e) {
      if (Date.now() > deadline) throw e;
    } finally {
      await cdp?.detach().catch(() => {});
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * From the last forward stub, go back to the current entry (a history jump, so the forward entries
 * stay) and let the real page load there. Should the jump fail, the real page loads over the last
 * stub instead (the tab is restored, its forward entries are not) and `warn` says so.
 */
export async function returnToCurrentEntry(
  page: Page,
  current: { id: number; url: string },
  timeout: number,
  warn: (message: string) => void,
): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  try {
    // By URL (Chromium's spelling of it): the last forward stub's own commit may still be announced.
    const navigated = page.waitForEvent('framenavigated', { predicate: (f) => f === page.mainFrame() && f.url() === current.url, timeout });
    navigated.catch(() => {}); // awaited below unless the jump itself fails
    await cdp.send('Page.navigateToHistoryEntry', { entryId: current.id });
    await navigated;
    await page.waitForLoadState('load', { timeout });
  } catch (e) {
    warn(`forward history not restored: ${firstLine(e)}`);
    await page.goto(current.url, { timeout, waitUntil: 'load' });
    return;
  } finally {
    await cdp.detach().catch(() => {});
  }
  // The current entry shares its stub document with the entry after it (they differ by #fragment only):
  // the jump stayed inside the stub. Reloading replaces it by the real page and keeps the forward entries.
  if (await isHistoryStub(page)) await page.reload({ timeout, waitUntil: 'load' });
}

/** Whether the page still shows one of the stubs above (marked on <html>) rather than a real document. */
export async function isHistoryStub(page: Page): Promise<boolean> {
  return page.evaluate(() => document.documentElement.dataset.restoryStub === '1');
}
