/**
 * A tab's back history, recreated by walking the tab through route-fulfilled stub documents (a title
 * and nothing else, no network) before its real page loads, so that Back works. Why stubs, what Back
 * then loads, and what it costs (~100 ms per entry): restore-state.ts's header.
 */
import type { Page, Route } from 'playwright-core';
import type { TabState } from '../../../shared/state.js';
import { escapeHtml, firstLine, stripHash } from './strings.js';
import type { RestoreOutcome } from './types.js';

/** Create the entries before currentIndex as stub documents. Forward entries are only reported. */
export async function restoreBackHistory(
  page: Page,
  tab: TabState,
  maxEntries: number,
  timeout: number,
  outcome: RestoreOutcome,
  label: string,
): Promise<void> {
  const { entries } = tab.history;
  const current = Math.min(tab.history.currentIndex, Math.max(0, entries.length - 1));
  const forward = entries.length - current - 1;
  if (forward > 0) outcome.warnings.push(`${label}: ${forward} forward history entr${forward === 1 ? 'y' : 'ies'} not restored`);
  const back = entries.slice(Math.max(0, current - maxEntries), current).filter((e) => /^https?:/.test(e.url));
  if (!back.length) return;

  const titles = new Map(back.map((e) => [stripHash(e.url), e.title]));
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
  await page.route('**/*', handler);
  try {
    for (const entry of back) {
      try {
        await page.goto(entry.url, { timeout, waitUntil: 'commit' });
      } catch (e) {
        outcome.warnings.push(`${label}: history entry ${entry.url} not restored: ${firstLine(e)}`);
      }
    }
  } finally {
    await page.unroute('**/*', handler);
  }
}

/** Whether the page still shows one of the stubs above (marked on <html>) rather than a real document. */
export async function isHistoryStub(page: Page): Promise<boolean> {
  return page.evaluate(() => document.documentElement.dataset.restoryStub === '1');
}
