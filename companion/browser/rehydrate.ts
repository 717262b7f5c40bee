/**
 * Put a captured SessionState back into a freshly launched browser: cookies, localStorage (plain and
 * partitioned), per-tab sessionStorage, tabs in order with their back history, viewport, scroll and
 * the active tab. Partial failure is normal (a site is down, Chromium refuses a cookie): every piece
 * that fails is reported in the outcome and the rest goes on. Nothing here throws for partial failure.
 *
 * How storage gets in before page scripts run, without overwriting what pages write later:
 *  - localStorage, all of it, is written before any tab opens, in one throw-away "setup" page whose
 *    requests are all answered by page.route with a blank document (no network, no site scripts).
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
 * Entries after currentIndex (Forward) are not restored: creating them would mean loading the current
 * page, going forward and back, i.e. running its scripts twice. Non-http(s) entries are skipped.
 */
import type { BrowserContext, Cookie as PlaywrightCookie, Page, Route } from 'playwright-core';
import type { ResumeReport } from '../../shared/protocol.js';
import type { Cookie, OriginStorage, SessionState, StorageItem, TabState } from '../../shared/state.js';
import { debug } from '../debug.js';

const log = debug('rehydrate');

export interface RestoreOptions {
  /** Per tab: how long its page may take to load (and each history stub). Default 15 s. */
  tabTimeoutMs?: number;
  /** How long to keep trying to reach the saved scroll position after load. Default 3 s. */
  scrollTimeoutMs?: number;
  /** Tabs loaded at the same time. Default 4. */
  concurrency?: number;
  /** At most this many back entries per tab (Chromium keeps 50 in all). Default 49. */
  maxBackEntries?: number;
}

export type TabOutcome = ResumeReport['tabs'][number];

export interface RestoreOutcome extends Pick<ResumeReport, 'cookies' | 'origins' | 'tabs' | 'failures' | 'warnings'> {
  /**
   * The tabs' pages in tab order; a page whose load failed stays open on its error page. Only a tab
   * whose page could not even be created has none, so normally pages[i] belongs to tabs[i].
   */
  pages: Page[];
  activePage?: Page;
  durationMs: number;
}

const STUB_PATH = '/__restory_setup__';
const BLANK_URLS = new Set(['about:blank', 'chrome://newtab/', 'chrome://new-tab-page/']);

export async function restoreSession(
  context: BrowserContext,
  state: SessionState,
  opts: RestoreOptions = {},
): Promise<RestoreOutcome> {
  const started = Date.now();
  const outcome: RestoreOutcome = { cookies: 0, origins: 0, tabs: [], failures: [], warnings: [], pages: [], durationMs: 0 };

  // 1. Cookies first, so the very first request of every tab carries them.
  outcome.cookies = await restoreCookies(context, state.cookies, outcome);
  log(`cookies: ${outcome.cookies}/${state.cookies.length} in ${Date.now() - started} ms`);

  // 2. localStorage into the profile before any real page loads. Meanwhile create the tab pages
  //    (~150 ms each on 2 cores), one after the other so they stand in tab order (a new page is
  //    appended as the last tab), and start loading each as soon as it exists and storage is in.
  const storageDone = restoreLocalStorage(context, state.origins, outcome).then((n) => {
    outcome.origins = n;
    log(`localStorage: ${n}/${state.origins.length} origins at ${Date.now() - started} ms`);
  });
  const tabs = [...state.tabs].sort((a, b) => a.windowIndex - b.windowIndex || a.index - b.index);
  if (new Set(tabs.map((t) => t.windowIndex)).size > 1) {
    outcome.warnings.push('tabs of several windows were restored into one window');
  }
  const blank = context.pages().filter((p) => p.url() === 'about:blank');
  let created: Promise<unknown> = Promise.resolve();
  const pageReady = tabs.map(() => {
    const page = created.then(() => blank.shift() ?? context.newPage());
    created = page.catch(() => {});
    return page;
  });

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
      results[i] = await restoreTab(pages[i]!, tabs[i], state, opts, outcome);
    }
  };
  await Promise.all([storageDone, ...Array.from({ length: Math.max(1, Math.min(opts.concurrency ?? 4, tabs.length)) }, worker)]);
  outcome.tabs = results;
  outcome.pages = pages.filter((p): p is Page => p !== undefined);
  log(`tabs: ${results.filter((t) => t.ok).length}/${tabs.length} loaded at ${Date.now() - started} ms`);

  // 4. The active tab last, so nothing that follows steals its place.
  const focusedActive = tabs.findIndex((t) => t.active && state.windows[t.windowIndex]?.focused);
  const activeIndex = focusedActive >= 0 ? focusedActive : tabs.findIndex((t) => t.active);
  const activePage = pages[activeIndex];
  if (activePage) {
    outcome.activePage = activePage;
    await activePage.bringToFront().catch((e: Error) => {
      outcome.warnings.push(`could not activate tab ${activeIndex}: ${firstLine(e)}`);
    });
  }
  outcome.durationMs = Date.now() - started;
  return outcome;
}

// ---------------------------------------------------------------------------------------------
// Cookies
// ---------------------------------------------------------------------------------------------

function toPlaywrightCookie(c: Cookie): PlaywrightCookie {
  const cookie: PlaywrightCookie = {
    name: c.name,
    value: c.value,
    domain: c.domain,
    path: c.path,
    expires: c.expires,
    httpOnly: c.httpOnly,
    secure: c.secure,
    sameSite: c.sameSite,
  };
  if (c.partitionKey !== undefined) cookie.partitionKey = c.partitionKey;
  return cookie;
}

const cookieKey = (c: { name: string; domain: string; path: string }) =>
  `${c.name}\u0000${c.domain.replace(/^\./, '').toLowerCase()}\u0000${c.path}`;

/**
 * Add all cookies; on a batch failure (Playwright rejects the whole batch for one invalid cookie) add
 * them one by one. Chromium also drops some cookies *silently* (measured: SameSite=None without
 * Secure), so read the jar back and report every cookie that is not in it.
 */
async function restoreCookies(context: BrowserContext, cookies: Cookie[], outcome: RestoreOutcome): Promise<number> {
  const now = Date.now() / 1000;
  const live = cookies.filter((c) => c.expires === -1 || c.expires > now);
  if (live.length < cookies.length) {
    outcome.warnings.push(`${cookies.length - live.length} cookie(s) expired since capture and were not restored`);
  }
  if (!live.length) return 0;
  const rejected = new Set<Cookie>();
  try {
    await context.addCookies(live.map(toPlaywrightCookie));
  } catch {
    for (const c of live) {
      try {
        await context.addCookies([toPlaywrightCookie(c)]);
      } catch (e) {
        rejected.add(c);
        outcome.failures.push({ what: `cookie ${c.name} (${c.domain}${c.path})`, error: firstLine(e) });
      }
    }
  }
  const stored = new Set((await context.cookies()).map(cookieKey));
  let added = 0;
  for (const c of live) {
    if (rejected.has(c)) continue;
    if (stored.has(cookieKey(c))) {
      added++;
    } else {
      const hint = c.sameSite === 'None' && !c.secure ? ' (SameSite=None requires Secure)' : '';
      outcome.failures.push({ what: `cookie ${c.name} (${c.domain}${c.path})`, error: `Chromium did not store it${hint}` });
    }
  }
  return added;
}

// ---------------------------------------------------------------------------------------------
// localStorage
// ---------------------------------------------------------------------------------------------

function isHttpOrigin(origin: string): boolean {
  return /^https?:\/\//.test(origin);
}

async function writeLocalStorage(
  target: Page | import('playwright-core').Frame,
  items: StorageItem[],
): Promise<void> {
  await target.evaluate((pairs: Array<[string, string]>) => {
    localStorage.clear(); // the snapshot is the truth, also when restoring into a used profile
    for (const [k, v] of pairs) localStorage.setItem(k, v);
  }, items.map((i): [string, string] => [i.name, i.value]));
}

async function restoreLocalStorage(
  context: BrowserContext,
  origins: OriginStorage[],
  outcome: RestoreOutcome,
): Promise<number> {
  const wanted = origins.filter((o) => o.localStorage.length > 0);
  for (const o of wanted.filter((o) => !isHttpOrigin(o.origin) || (o.topOrigin && !isHttpOrigin(o.topOrigin)))) {
    outcome.failures.push({ what: `localStorage of ${o.origin}`, error: 'only http(s) origins can be restored' });
  }
  const plain = wanted.filter((o) => isHttpOrigin(o.origin) && !o.topOrigin);
  const partitioned = new Map<string, OriginStorage[]>();
  for (const o of wanted) {
    if (!o.topOrigin || !isHttpOrigin(o.origin) || !isHttpOrigin(o.topOrigin)) continue;
    partitioned.set(o.topOrigin, [...(partitioned.get(o.topOrigin) ?? []), o]);
  }
  if (!plain.length && !partitioned.size) return 0;

  let restored = 0;
  const page = await context.newPage();
  try {
    // Answer everything the setup page asks for locally: nothing reaches the network, no site code runs.
    await page.route('**/*', async (route: Route) => {
      const url = new URL(route.request().url());
      const frames = url.searchParams.getAll('frame');
      const body = frames.map((f) => `<iframe src="${escapeHtml(f)}${STUB_PATH}"></iframe>`).join('');
      await route.fulfill({ status: 200, contentType: 'text/html', headers: { 'cache-control': 'no-store' }, body });
    });
    for (const o of plain) {
      try {
        await page.goto(new URL(STUB_PATH, o.origin).href, { waitUntil: 'commit' });
        await writeLocalStorage(page, o.localStorage);
        restored++;
      } catch (e) {
        outcome.failures.push({ what: `localStorage of ${o.origin}`, error: firstLine(e) });
      }
    }
    for (const [topOrigin, list] of partitioned) {
      const top = new URL(STUB_PATH, topOrigin);
      for (const o of list) top.searchParams.append('frame', o.origin);
      try {
        await page.goto(top.href, { waitUntil: 'load' });
      } catch (e) {
        for (const o of list) outcome.failures.push({ what: `localStorage of ${o.origin} under ${topOrigin}`, error: firstLine(e) });
        continue;
      }
      for (const o of list) {
        try {
          const frame = page.frames().find((f) => f !== page.mainFrame() && sameOrigin(f.url(), o.origin));
          if (!frame) throw new Error('its frame did not load');
          await writeLocalStorage(frame, o.localStorage);
          restored++;
        } catch (e) {
          outcome.failures.push({ what: `localStorage of ${o.origin} under ${topOrigin}`, error: firstLine(e) });
        }
      }
    }
  } finally {
    await page.close().catch(() => {});
  }
  return restored;
}

// ---------------------------------------------------------------------------------------------
// One tab
// ---------------------------------------------------------------------------------------------

/** Runs in every frame of the tab at document start, before the page's own scripts. */
function sessionStorageInitScript(byOrigin: Record<string, Array<[string, string]>>): void {
  try {
    const items = byOrigin[location.origin];
    if (!items || sessionStorage.length > 0) return; // not ours, or the page already has its own
    for (const [k, v] of items) sessionStorage.setItem(k, v);
  } catch {
    // Storage access denied (sandboxed frame, opaque origin): nothing we can do from here.
  }
}

async function restoreTab(
  page: Page,
  tab: TabState,
  state: SessionState,
  opts: RestoreOptions,
  outcome: RestoreOutcome,
): Promise<TabOutcome> {
  const timeout = opts.tabTimeoutMs ?? 15_000;
  const label = `tab ${tab.index} (${tab.url})`;
  const t0 = Date.now();
  try {
    if (!/^(https?|data|file|chrome|chrome-extension|about):/.test(tab.url)) {
      throw new Error(`cannot open ${tab.url.split(':')[0]}: URLs`);
    }
    if (state.viewport) await page.setViewportSize(state.viewport);
    // An empty tab stays as it is (no history either): new-tab pages may not load in headless Chromium.
    if (BLANK_URLS.has(tab.url)) return { url: tab.url, ok: true };

    await restoreBackHistory(page, tab, opts.maxBackEntries ?? 49, timeout, outcome, label);
    log(`tab ${tab.index}: history in ${Date.now() - t0} ms`);

    const byOrigin: Record<string, Array<[string, string]>> = {};
    for (const s of tab.sessionStorage) {
      if (s.items.length) byOrigin[s.origin] = s.items.map((i): [string, string] => [i.name, i.value]);
    }
    const initScript = Object.keys(byOrigin).length ? await page.addInitScript(sessionStorageInitScript, byOrigin) : null;
    try {
      const response = await page.goto(tab.url, { timeout, waitUntil: 'load' });
      // A stub that differs only by #fragment turns goto into a same-document navigation inside the
      // stub (no response): load the real document in place. The init script applies to the reload.
      if (response === null && /^https?:/.test(tab.url) && stripHash(page.url()) === stripHash(tab.url)) {
        const stubbed = await page.evaluate(() => document.documentElement.dataset.restoryStub === '1');
        if (stubbed) await page.reload({ timeout, waitUntil: 'load' });
      }
    } finally {
      await initScript?.dispose().catch(() => {});
    }
    log(`tab ${tab.index}: loaded at ${Date.now() - t0} ms`);

    if (tab.scroll && (tab.scroll.x !== 0 || tab.scroll.y !== 0)) {
      const reached = await restoreScroll(page, tab.scroll, opts.scrollTimeoutMs ?? 3_000);
      if (!reached) outcome.warnings.push(`${label}: scroll position ${tab.scroll.x},${tab.scroll.y} not reached`);
    }
    return { url: tab.url, ok: true };
  } catch (e) {
    return { url: tab.url, ok: false, error: firstLine(e) };
  }
}

/** Create the entries before currentIndex as stub documents (see the file comment). */
async function restoreBackHistory(
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

/** Scroll after load; the page may still grow (late content), so retry until it sticks. */
async function restoreScroll(page: Page, scroll: { x: number; y: number }, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const at = await page.evaluate(({ x, y }) => {
      window.scrollTo(x, y);
      return { x: window.scrollX, y: window.scrollY };
    }, scroll);
    if (Math.abs(at.x - scroll.x) < 1 && Math.abs(at.y - scroll.y) < 1) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}

// ---------------------------------------------------------------------------------------------

function stripHash(url: string): string {
  const i = url.indexOf('#');
  return i < 0 ? url : url.slice(0, i);
}

function sameOrigin(url: string, origin: string): boolean {
  try {
    return new URL(url).origin === origin;
  } catch {
    return false;
  }
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function firstLine(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.split('\n')[0];
}
