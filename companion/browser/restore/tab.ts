/**
 * One tab, in its own page: viewport, back and forward history, the real page with its sessionStorage, form fields, scroll.
 * A failure anywhere fails this tab only (its TabOutcome says why); the other tabs go on.
 */
import type { Page } from 'playwright-core';
import type { SessionState, TabState } from '../../../shared/state.js';
import { debug } from '../../debug.js';
import { restoreForms } from './forms.js';
import { isHistoryStub, restoreHistory, returnToCurrentEntry } from './history.js';
import { restoreScroll } from './scroll.js';
import { withSessionStorage } from './session-storage.js';
import { RESTORE_SETUP_PATH } from '../../../shared/constants.js';
import { firstLine, stripHash } from './strings.js';
import type { RestoreOptions, RestoreOutcome, TabOutcome } from './types.js';

const log = debug('restore');

const BLANK_URLS = new Set(['about:blank', 'chrome://newtab/', 'chrome://new-tab-page/']);

/**
 * Every tab's page is new, but not empty-handed: a page from newPage() or a new window holds a
 * committed about:blank entry, and the setup page (restore-state.ts; `setupHistory`) its setup
 * documents. Whatever it holds is dropped (CDP Page.resetNavigationHistory keeps the current entry
 * only) as soon as the tab's own first entry has committed, before any other, so that Back from the
 * tab's oldest entry goes nowhere, as before the restart.
 */
export async function restoreTab(
  page: Page,
  tab: TabState,
  state: SessionState,
  opts: RestoreOptions,
  outcome: RestoreOutcome,
  setupHistory = false,
): Promise<TabOutcome> {
  const timeout = opts.tabTimeoutMs ?? 15_000;
  const label = `tab ${tab.index} (${tab.url})`;
  const t0 = Date.now();
  let dropEarlierHistory = () => resetHistory(page);
  const firstCommitted = async () => {
    const drop = dropEarlierHistory;
    dropEarlierHistory = async () => {};
    await drop();
  };
  try {
    if (!/^(https?|data|file|chrome|chrome-extension|about):/.test(tab.url)) {
      throw new Error(`cannot open ${tab.url.split(':')[0]}: URLs`);
    }
    // One viewport is captured per session: a tab in one of several windows with their own bounds
    // takes its size from its window instead.
    const ownWindowSize = state.windows.length > 1 && state.windows[tab.windowIndex]?.bounds !== undefined;
    if (state.viewport && !ownWindowSize) await page.setViewportSize(state.viewport);
    // An empty tab stays as it is (no history either): new-tab pages may not load in headless Chromium.
    if (BLANK_URLS.has(tab.url)) {
      if (setupHistory) await blankAgain(page, firstCommitted);
      return { url: tab.url, ok: true };
    }

    const limits = { back: opts.maxBackEntries ?? 49, forward: opts.maxForwardEntries ?? 49 };
    const built = await restoreHistory(page, tab, limits, timeout, outcome, label, firstCommitted);
    log(`tab ${tab.index}: history in ${Date.now() - t0} ms`);

    await withSessionStorage(page, tab, () =>
      built.forward ? returnToCurrentEntry(page, built.current, timeout, (w) => outcome.warnings.push(`${label}: ${w}`)) : loadRealPage(page, tab.url, timeout),
    );
    await firstCommitted();
    log(`tab ${tab.index}: loaded at ${Date.now() - t0} ms`);

    // The documents the tab shows now (a redirect may have taken it elsewhere): only their own fields.
    if ((tab.forms?.length ?? 0) > 0) {
      try {
        const forms = await restoreForms(page, tab);
        outcome.followUps.push(forms.following);
        log(`tab ${tab.index}: form fields: ${forms.filled} filled, ${forms.kept} left as the page set them, ${forms.missing} not there at load`);
        if (forms.failed > 0) outcome.warnings.push(`${label}: form fields of ${forms.failed} frame(s) not restored`);
      } catch (e) {
        outcome.warnings.push(`${label}: form fields not restored: ${firstLine(e)}`);
      }
    }

    if (tab.scroll && (tab.scroll.x !== 0 || tab.scroll.y !== 0)) {
      const reached = await restoreScroll(page, tab.scroll, opts.scrollTimeoutMs ?? 3_000);
      if (!reached) outcome.warnings.push(`${label}: scroll position ${tab.scroll.x},${tab.scroll.y} not reached`);
    }
    return { url: tab.url, ok: true };
  } catch (e) {
    // Not left showing a setup document.
    if (setupHistory && new URL(page.url()).pathname === RESTORE_SETUP_PATH) await blankAgain(page, firstCommitted).catch(() => {});
    return { url: tab.url, ok: false, error: firstLine(e) };
  }
}

/**
 * Keep only the current history entry (CDP). Playwright reports a commit when the renderer does,
 * which can be before the browser's history holds the entry (measured: 1 tab in 10 kept its
 * about:blank), and a CDP session opened right after a commit that changed processes may be told
 * "Not attached to an active page" (measured, Chromium 156): so wait until the history holds the
 * entry, and try again on an error, for 2 s.
 */
async function resetHistory(page: Page): Promise<void> {
  const deadline = Date.now() + 2000;
  for (;;) {
    const cdp = await page.context().newCDPSession(page);
    const history = async () => (await cdp.send('Page.getNavigationHistory')) as { currentIndex: number; entries: { url: string }[] };
    try {
      const h = await history();
      if (h.entries[h.currentIndex]?.url === page.url() || Date.now() > deadline) {
        await cdp.send('Page.resetNavigationHistory');
        const left = (await history()).entries.length;
        if (left === 1) return;
        throw new Error(`history still holds ${left} entries after a reset`);
      }
    } catch (e) {
      if (Date.now() > deadline) throw e;
    } finally {
      await cdp.detach().catch(() => {});
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A setup page that goes on as an empty tab: about:blank, and no setup history behind it. */
async function blankAgain(page: Page, firstCommitted: () => Promise<void>): Promise<void> {
  await page.goto('about:blank');
  await firstCommitted();
}

/** Load the tab's current URL for real, over whatever history stub the page is on. */
async function loadRealPage(page: Page, url: string, timeout: number): Promise<void> {
  const response = await page.goto(url, { timeout, waitUntil: 'load' });
  // A stub that differs only by #fragment turns goto into a same-document navigation inside the
  // stub (no response): load the real document in place. The init script applies to the reload.
  if (response === null && /^https?:/.test(url) && stripHash(page.url()) === stripHash(url)) {
    if (await isHistoryStub(page)) await page.reload({ timeout, waitUntil: 'load' });
  }
}
