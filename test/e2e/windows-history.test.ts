/**
 * Windows and history through a real crash: a `restory start` session (real CLI, real Chromium, real
 * extension) with 2 windows × 2 tabs of distinct bounds and a third, minimized window, a tab logged in by a form POST → 302, and a
 * tab with a forward entry; companion and browser SIGKILLed; `restory resume`; then the library's
 * resume() after a second SIGKILL, whose context lists the pages. Chromium's own view is the witness:
 * chrome.windows/chrome.tabs in the extension's service worker and CDP Page.getNavigationHistory.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { openCompanion, type Companion } from '../../companion/api.js';
import { EXTENSION_ID } from '../../shared/constants.js';
import type { RestoryExport } from '../../shared/state.js';
import { startTestSite, type TestSite } from '../fixtures/test-site.js';
import { crashForeground, eventually, runCli, startForeground, stopForeground, type ForegroundCompanion } from '../helpers/restory-cli.js';
import { tempDir } from '../helpers/temp-dirs.js';

const env = { RESTORY_SNAPSHOT_INTERVAL_MS: '1000' };

interface WindowView {
  bounds: { left: number; top: number; width: number; height: number };
  state: string;
  tabs: { url: string; active: boolean }[];
}

/** Chromium's windows, in its order, each with its tabs in tab order (chrome.windows in our service worker). */
async function windowsOf(context: BrowserContext): Promise<WindowView[]> {
  const worker = await eventually(
    () => context.serviceWorkers().find((w) => w.url().startsWith(`chrome-extension://${EXTENSION_ID}/`)),
    10_000,
    'the extension service worker',
  );
  return worker.evaluate(async () =>
    (await chrome.windows.getAll({ populate: true })).map((w) => ({
      bounds: { left: w.left!, top: w.top!, width: w.width!, height: w.height! },
      state: w.state!,
      tabs: [...w.tabs!].sort((a, b) => a.index - b.index).map((t) => ({ url: t.url!, active: t.active })),
    })),
  );
}

/** The tab's back/forward list as Chromium holds it: web entries only (restore keeps no about:blank). */
async function navigationHistory(page: Page): Promise<{ urls: string[]; current: string }> {
  const cdp = await page.context().newCDPSession(page);
  try {
    const h = (await cdp.send('Page.getNavigationHistory')) as { currentIndex: number; entries: { url: string }[] };
    return { urls: h.entries.map((e) => e.url).filter((u) => /^https?:/.test(u)), current: h.entries[h.currentIndex].url };
  } finally {
    await cdp.detach();
  }
}

describe('windows, tab order and history after SIGKILL + resume (real CLI, real Chromium)', () => {
  let site: TestSite;
  let dataDir: string;
  let sessionId: string;
  let resumed: ForegroundCompanion | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext;
  let library: Companion | undefined;

  let resumeStart = 0;
  let resumeEnd = 0;
  let windowsBefore: WindowView[];
  let pagesBefore: string[];
  let loginHistoryBefore: { urls: string[]; current: string };
  /** Chromium's history of each tab before the crash, by the tab's URL. */
  const historiesBefore = new Map<string, { urls: string[]; current: string }>();
  const W1 = { left: 20, top: 30, width: 1100, height: 700 };
  const W2 = { left: 160, top: 90, width: 900, height: 640 };
  const W3 = { left: 300, top: 200, width: 700, height: 500 };
  let url: Record<'account' | 'fwdA' | 'fwdB' | 'spa' | 'long' | 'home3', string>;

  const exported = async () => JSON.parse((await runCli(['export', sessionId, '--data-dir', dataDir], env)).stdout) as RestoryExport;

  beforeAll(async () => {
    site = await startTestSite();
    dataDir = tempDir();
    const A = site.originA;
    url = {
      account: `${A}/account`,
      fwdA: `${A}/storage.html?t=a`,
      fwdB: `${A}/storage.html?t=b`,
      spa: `${A}/spa.html#replaced`,
      long: `${A}/long.html`,
      home3: `${A}/?w=3`,
    };

    const first = await startForeground(['start', '--data-dir', dataDir, '--url', `${A}/`], env);
    sessionId = first.sessionId;
    const b1 = await chromium.connectOverCDP(first.cdp);
    const c1 = b1.contexts()[0];
    const cdp = await b1.newBrowserCDPSession();

    // Window 1, tab 1: log in through a form POST answered by 302 → /account.
    const login = await eventually(() => c1.pages().find((p) => p.url() === `${A}/`), 15_000, 'the start page');
    await login.goto(`${A}/login-form`);
    await Promise.all([login.waitForURL(url.account), login.click('#go')]);
    expect(await login.textContent('#who')).toBe('Logged in as dave');
    // Window 1, tab 2: a tab whose current entry has a forward entry.
    const fwd = await c1.newPage();
    await fwd.goto(url.fwdA);
    await fwd.goto(url.fwdB);
    await fwd.goBack();
    const { windowId: w1 } = (await cdp.send('Browser.getWindowForTarget', { targetId: await targetId(c1, login) })) as { windowId: number };
    await cdp.send('Browser.setWindowBounds', { windowId: w1, bounds: W1 });
    // Window 2 with its own bounds: two tabs.
    const opened = c1.waitForEvent('page');
    await cdp.send('Target.createTarget', { url: `${A}/spa.html`, newWindow: true, ...W2 });
    const spa = await opened;
    await spa.waitForLoadState();
    // pushState, then replaceState: webNavigation reports both alike; Chromium keeps one entry.
    await spa.evaluate(() => (window as unknown as { go(p: string): void }).go('/spa/page1'));
    await spa.evaluate(() => history.replaceState(null, '', '/spa.html#replaced'));
    const long = await c1.newPage(); // opens in the window created last
    // A meta refresh after 2 s: reported as a client redirect, yet Chromium adds an entry.
    await long.goto(`${A}/refresh?delay=2&to=/long.html`);
    await long.waitForURL(url.long, { timeout: 10_000 });
    // Window 3, minimized, one tab.
    const opened3 = c1.waitForEvent('page');
    await cdp.send('Target.createTarget', { url: url.home3, newWindow: true, ...W3 });
    const third = await opened3;
    await third.waitForLoadState();
    const { windowId: w3 } = (await cdp.send('Browser.getWindowForTarget', { targetId: await targetId(c1, third) })) as { windowId: number };
    await cdp.send('Browser.setWindowBounds', { windowId: w3, bounds: { windowState: 'minimized' } });
    // The first tab of each window is the active one (not the one opened last).
    await spa.bringToFront();
    await login.bringToFront();

    windowsBefore = await windowsOf(c1);
    expect(windowsBefore.map((w) => w.tabs.map((t) => t.url))).toEqual([[url.account, url.fwdA], [url.spa, url.long], [url.home3]]);
    expect(windowsBefore.map((w) => w.state)).toEqual(['normal', 'normal', 'minimized']);
    pagesBefore = c1.pages().map((p) => p.url());
    loginHistoryBefore = await navigationHistory(login);
    expect(loginHistoryBefore.urls).toEqual([`${A}/`, `${A}/login-form`, url.account]);
    for (const p of [login, fwd, spa, long, third]) historiesBefore.set(p.url(), await navigationHistory(p));
    expect(historiesBefore.get(url.spa)!.urls).toEqual([`${A}/spa.html`, url.spa]);
    expect(historiesBefore.get(url.long)!.urls).toEqual([`${A}/refresh?delay=2&to=/long.html`, url.long]);

    let last = '';
    await eventually(
      async () => {
        const s = (await exported()).state;
        last = JSON.stringify({ windows: s.windows, tabs: s.tabs.map((t) => [t.windowIndex, t.index, t.url, t.active, t.history]) });
        return (
          s.windows.length === 3 &&
          s.windows[2]?.state === 'minimized' &&
          s.windows[1]?.bounds?.width === W2.width &&
          s.windows[0]?.bounds?.width === W1.width &&
          s.tabs.filter((t) => t.active).length === 3 &&
          s.tabs.find((t) => t.url === url.account)?.active &&
          s.tabs.find((t) => t.url === url.spa)?.active &&
          s.tabs.every((t) => JSON.stringify(webHistory(t)) === JSON.stringify(historiesBefore.get(t.url)))
        );
      },
      20_000,
      'a snapshot with both windows, their active tabs and the histories',
    ).catch((e: Error) => {
      throw new Error(`${e.message}; last export: ${last}`);
    });
    await b1.close().catch(() => {});
    expect(await crashForeground(first, dataDir)).toBe('SIGKILL');
  }, 90_000);

  afterAll(async () => {
    await browser?.close().catch(() => {});
    await stopForeground(resumed);
    await library?.shutdown().catch(() => {});
    await site?.close();
  });

  it('captures each tab’s history as Chromium held it: POST → 302 login, forward entry, replaceState, meta refresh', async () => {
    const tabs = (await exported()).state.tabs;
    expect(webHistory(tabs.find((t) => t.url === url.account)!)).toEqual(loginHistoryBefore);
    expect(Object.fromEntries(tabs.map((t) => [t.url, webHistory(t)]))).toEqual(Object.fromEntries(historiesBefore));
  });

  it('resume brings back 3 windows with their bounds and state, tabs in order and the active tab of each', async () => {
    resumeStart = Date.now();
    resumed = await startForeground(['resume', sessionId, '--data-dir', dataDir], env);
    await eventually(() => /restored snapshot \d+: .* 5\/5 tabs/.test(resumed!.stdout()), 60_000, 'the resume report').catch((e: Error) => {
      throw new Error(`${e.message}\nstdout: ${resumed?.stdout()}`);
    });
    resumeEnd = Date.now();
    expect(resumed.stdout() + resumed.stderr()).not.toMatch(/into one window|not restored/);
    browser = await chromium.connectOverCDP(resumed.cdp);
    context = browser.contexts()[0];
    const after = await windowsOf(context);
    expect(after.map((w) => w.bounds)).toEqual([W1, W2, W3]);
    expect(after.map((w) => w.state)).toEqual(['normal', 'normal', 'minimized']);
    expect(after.map((w) => w.tabs)).toEqual(windowsBefore.map((w) => w.tabs));
  }, 90_000);

  it('the resumed page with a forward entry loaded once at resume, its scripts run once', async () => {
    await site.waitForStartupLog((l) => l.page === '/storage.html?t=a' && l.at >= resumeStart);
    const during = (path: string) => site.requests.filter((r) => r.path === path && r.at >= resumeStart && r.at <= resumeEnd);
    expect(during('/storage.html?t=a')).toHaveLength(1);
    expect(during('/storage.html?t=b')).toHaveLength(0); // the forward entry is a stub until Forward
    expect(site.startupLogs.filter((l) => l.page === '/storage.html?t=a' && l.at >= resumeStart && l.at <= resumeEnd + 2000)).toHaveLength(1);
  });

  it('Back and Forward after resume land on the right URLs; every tab’s history matches Chromium’s from before', async () => {
    const page = (u: string) => context.pages().find((p) => p.url() === u)!;
    for (const [u, before] of historiesBefore) expect(await navigationHistory(page(u))).toEqual(before);
    const fwd = page(url.fwdA);
    expect(await navigationHistory(fwd)).toEqual({ urls: [url.fwdA, url.fwdB], current: url.fwdA });
    await fwd.goForward();
    expect(fwd.url()).toBe(url.fwdB);
    await fwd.goBack();
    expect(fwd.url()).toBe(url.fwdA);
    const login = page(url.account);
    await login.goBack();
    expect(login.url()).toBe(`${site.originA}/login-form`);
    await login.goForward();
    expect(login.url()).toBe(url.account);
    expect(await login.textContent('#who')).toBe('Logged in as dave');
  });

  it('the library’s resume() hands back a context whose pages() are in the order they were before', async () => {
    await browser?.close().catch(() => {});
    browser = undefined;
    expect(await crashForeground(resumed!, dataDir)).toBe('SIGKILL');
    resumed = undefined;
    library = await openCompanion({ dataDir });
    const { session, report } = await library.resume(sessionId);
    expect(report.tabs.filter((t) => !t.ok)).toEqual([]);
    expect(report.tabs).toHaveLength(5);
    expect(session.context.pages().map((p) => p.url())).toEqual(pagesBefore);
  }, 90_000);
});

/** A captured tab's history in navigationHistory's terms. */
function webHistory(tab: RestoryExport['state']['tabs'][number]): { urls: string[]; current: string } {
  return { urls: tab.history.entries.map((e) => e.url).filter((u) => /^https?:/.test(u)), current: tab.history.entries[tab.history.currentIndex]?.url ?? '' };
}

async function targetId(context: BrowserContext, page: Page): Promise<string> {
  const cdp = await context.newCDPSession(page);
  try {
    return ((await cdp.send('Target.getTargetInfo')) as { targetInfo: { targetId: string } }).targetInfo.targetId;
  } finally {
    await cdp.detach();
  }
}
