/**
 * Windows: each captured window comes back as its own window, with its bounds and show state
 * (normal, maximized, minimized, fullscreen), its tabs in their order and its active tab; the
 * focused window's active tab is brought to front last.
 *
 * What Chromium 156 does (measured headless, as the companion and the tests run it; this machine has
 * no X server for headed):
 *  - CDP `Target.createTarget {newWindow: true, left, top, width, height}` opens a window with exactly
 *    those bounds, headless too (chrome.windows reports them). It works through any page's CDP
 *    session, so also in a Playwright-launched persistent context, which has no Browser object.
 *  - A tab created without newWindow (Playwright's newPage) opens in the window created last. So each
 *    window's tabs are created right after that window, before the next window exists, one at a time.
 *  - `Browser.setWindowBounds {windowState}` applies maximized, minimized and fullscreen. A minimized
 *    window no longer receives new tabs, so show states are applied once every tab exists; a minimized
 *    window's active tab is brought to front just before (bringing it to front later could restore
 *    the window), and is left out of the final activation.
 *  - Headed, under a bare X server (Xvfb, no window manager): new windows, bounds, focus and
 *    fullscreen work; maximized and minimized are ignored (they need a window manager).
 *  - Headless has no focus: every window reports focused: true, the window created last is the
 *    "last focused" one, and Page.bringToFront changes neither. Capture records the last-focused
 *    window (extension/background/tabs.ts); restore brings each window's active tab to front, the
 *    focused window's last, which in a headed browser also focuses that window.
 *  - A Playwright client that connects later (connectOverCDP) lists pages in Chromium's auto-attach
 *    order, which is neither tab nor creation order and differs between runs for the same tabs (three
 *    runs of one browser state gave three orders): only chrome.tabs (per window) and the context that
 *    restored the tabs (the library's resume()) hold tab order.
 */
import type { BrowserContext, CDPSession, Page } from 'playwright-core';
import type { TabState, WindowState } from '../../../shared/state.js';
import { firstLine } from './strings.js';
import type { RestoreOutcome } from './types.js';

/** How long a new window's page may take to show up in the Playwright context. */
const NEW_WINDOW_PAGE_MS = 10_000;

export interface TabPages {
  /** pages[i] is tabs[i]'s page; created one after the other, window by window. */
  pages: Promise<Page>[];
  /** Settles once every page exists: applies each window's show state (see above). */
  done: Promise<void>;
}

/**
 * Open a page for every tab (`tabs` sorted by window, then index). The first window is the browser's
 * start-up window (its start-up tab is reused when `startup` holds it); every further window is
 * created with its bounds. Failures are reported in `outcome`; a tab whose page cannot be created
 * rejects its own promise only.
 */
export function openTabPages(
  context: BrowserContext,
  tabs: TabState[],
  windows: WindowState[],
  startup: Page[],
  outcome: RestoreOutcome,
): TabPages {
  /** The first page of each window (by windowIndex), to find its window id later. */
  const firstPages = new Map<number, Page>();
  let chain: Promise<unknown> = Promise.resolve();
  const pages = tabs.map((tab, i) => {
    const opensWindow = i > 0 && tab.windowIndex !== tabs[i - 1].windowIndex;
    const page = chain.then(async () => {
      const p = opensWindow
        ? await openWindow(context, windows[tab.windowIndex]?.bounds)
        : (startup.shift() ?? (await context.newPage()));
      if (!firstPages.has(tab.windowIndex)) firstPages.set(tab.windowIndex, p);
      return p;
    });
    chain = page.catch(() => {});
    return page;
  });
  const done = chain.then(() => applyWindowStates(tabs, windows, firstPages, pages, outcome));
  return { pages, done };
}

/** A new window with `bounds`, and its one (blank) tab's page. */
async function openWindow(context: BrowserContext, bounds: WindowState['bounds']): Promise<Page> {
  const anchor = context.pages()[0] ?? (await context.newPage());
  const before = new Set(context.pages());
  const cdp = await context.newCDPSession(anchor);
  try {
    const { targetId } = await cdp.send('Target.createTarget', { url: 'about:blank', newWindow: true, ...(bounds ?? {}) });
    // Playwright announces the target as a page on its own; find which one it is.
    const deadline = Date.now() + NEW_WINDOW_PAGE_MS;
    for (;;) {
      for (const p of context.pages()) {
        if (!before.has(p) && (await targetIdOf(context, p)) === targetId) return p;
      }
      if (Date.now() > deadline) throw new Error(`the new window's tab did not appear within ${NEW_WINDOW_PAGE_MS} ms`);
      await context.waitForEvent('page', { timeout: 200 }).catch(() => {});
    }
  } finally {
    await cdp.detach().catch(() => {});
  }
}

async function targetIdOf(context: BrowserContext, page: Page): Promise<string | undefined> {
  const cdp = await context.newCDPSession(page);
  try {
    return ((await cdp.send('Target.getTargetInfo')) as { targetInfo: { targetId: string } }).targetInfo.targetId;
  } catch {
    return undefined;
  } finally {
    await cdp.detach().catch(() => {});
  }
}

/**
 * Bounds of the first window (launched before its state was known; the launch used them as far as it
 * could) and every window's show state. A window that cannot be set up only costs a warning.
 */
async function applyWindowStates(
  tabs: TabState[],
  windows: WindowState[],
  firstPages: Map<number, Page>,
  pages: Promise<Page>[],
  outcome: RestoreOutcome,
): Promise<void> {
  for (const [index, page] of firstPages) {
    const w = windows[index];
    if (!w || (w.state === 'normal' && (index > 0 || !w.bounds))) continue;
    let cdp: CDPSession | undefined;
    try {
      cdp = await page.context().newCDPSession(page);
      const { windowId } = (await cdp.send('Browser.getWindowForTarget')) as { windowId: number };
      if (index === 0 && w.bounds) await cdp.send('Browser.setWindowBounds', { windowId, bounds: { ...w.bounds } });
      const active = tabs.findIndex((t) => t.windowIndex === index && t.active);
      if (w.state === 'minimized' && active >= 0) await (await pages[active]).bringToFront();
      if (w.state !== 'normal') await cdp.send('Browser.setWindowBounds', { windowId, bounds: { windowState: w.state } });
    } catch (e) {
      outcome.warnings.push(`window ${index}: could not set its ${w.state === 'normal' ? 'bounds' : `${w.state} state`}: ${firstLine(e)}`);
    } finally {
      await cdp?.detach().catch(() => {});
    }
  }
}

/**
 * Bring each window's active tab to front (which activates it in its window), the focused window's
 * last. Returns the page that ends up in front.
 */
export async function activateTabs(tabs: TabState[], windows: WindowState[], pages: Array<Page | undefined>, outcome: RestoreOutcome): Promise<Page | undefined> {
  const windowIndexes = [...new Set(tabs.map((t) => t.windowIndex))].filter((w) => windows[w]?.state !== 'minimized');
  const focused = windowIndexes.find((w) => windows[w]?.focused) ?? windowIndexes[0];
  const order = [...windowIndexes.filter((w) => w !== focused), ...(focused === undefined ? [] : [focused])];
  let front: Page | undefined;
  for (const w of order) {
    const i = tabs.findIndex((t) => t.windowIndex === w && t.active);
    const page = pages[i];
    if (!page) continue;
    try {
      await page.bringToFront();
      front = page;
    } catch (e) {
      outcome.warnings.push(`could not activate tab ${tabs[i].index} of window ${w}: ${firstLine(e)}`);
    }
  }
  return front;
}
