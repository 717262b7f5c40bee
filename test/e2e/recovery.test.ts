/**
 * Recovery, end to end with real processes: a companion (real CLI) records a session, is SIGKILLed,
 * and a new companion resumes the session into a fresh Chromium with everything restored before
 * page scripts run. Then only Chromium is SIGKILLed while the companion lives.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { EXTENSION_ID } from '../../shared/constants.js';
import type { RestoryExport, SessionSummary } from '../../shared/state.js';
import { startTestSite, type TestSite } from '../fixtures/test-site.js';
import { crashForeground, eventually, runCli, startForeground, stopForeground, type ForegroundCompanion } from '../helpers/restory-cli.js';
import { tempDir } from '../helpers/temp-dirs.js';

const env = { RESTORY_SNAPSHOT_INTERVAL_MS: '1000' };

type Api = Record<string, (k: string, v?: string) => void>;

async function connect(companion: ForegroundCompanion): Promise<{ browser: Browser; context: BrowserContext }> {
  const browser = await chromium.connectOverCDP(companion.cdp);
  return { browser, context: browser.contexts()[0] };
}

/** Ask the restory extension's service worker which tab Chromium considers active. */
async function activeTabUrl(context: BrowserContext): Promise<string | undefined> {
  const worker = await eventually(
    () => context.serviceWorkers().find((w) => w.url().startsWith(`chrome-extension://${EXTENSION_ID}/`)),
    10_000,
    'the extension service worker',
  );
  return worker.evaluate(async () => (await chrome.tabs.query({ active: true, lastFocusedWindow: true }))[0]?.url);
}

async function browserPid(browser: Browser): Promise<number> {
  const cdp = await browser.newBrowserCDPSession();
  const info = (await cdp.send('SystemInfo.getProcessInfo')) as { processInfo: { type: string; id: number }[] };
  return info.processInfo.find((p) => p.type === 'browser')!.id;
}

describe('recovery after SIGKILL (real companion processes, real Chromium)', () => {
  let site: TestSite;
  let dataDir: string;
  let sessionId: string;
  let resumed: ForegroundCompanion;
  let browser: Browser;
  let context: BrowserContext;
  let requestMark: number;

  const list = async (): Promise<SessionSummary[]> => {
    const r = await runCli(['list', '--json', '--data-dir', dataDir], env);
    expect(r.stderr).toBe('');
    return JSON.parse(r.stdout) as SessionSummary[];
  };
  const exported = async () => {
    const r = await runCli(['export', sessionId, '--data-dir', dataDir], env);
    return JSON.parse(r.stdout) as RestoryExport;
  };

  beforeAll(async () => {
    site = await startTestSite();
    dataDir = tempDir();

    // --- Record: log in, storage in three tabs, an SPA, a scrolled page. -------------------------
    const first = await startForeground(['start', '--data-dir', dataDir, '--url', `${site.originA}/login?user=carol`], env);
    sessionId = first.sessionId;
    const { browser: b1, context: c1 } = await connect(first);
    const spa = await eventually(() => c1.pages().find((p) => p.url().endsWith('/account')), 15_000, 'the login');
    await spa.goto(`${site.originA}/storage.html`);
    await spa.evaluate(() => {
      (window as unknown as Api).writeSet('shared', 'from-tab-1');
      (window as unknown as Api).writeProp('prop', 'assigned');
      (window as unknown as Api).writeSession('mine', 'tab-1');
    });
    await spa.goto(`${site.originA}/spa.html`);
    await spa.evaluate(() => (window as unknown as { go(p: string): void }).go('/spa/page1'));
    await spa.evaluate(() => (window as unknown as { hash(h: string): void }).hash('#/a'));

    const long = await c1.newPage();
    await long.goto(`${site.originA}/long.html`);
    await long.evaluate(() => window.scrollTo(0, 3000));

    const storage: Page = await c1.newPage();
    await storage.goto(`${site.originA}/storage.html?tab=3`);
    await storage.evaluate(() => (window as unknown as Api).writeSession('mine', 'tab-3'));
    await storage.bringToFront();

    await eventually(
      async () => {
        const s = (await exported()).state;
        return (
          s.tabs.length === 3 &&
          s.tabs.find((t) => t.active)?.url === `${site.originA}/storage.html?tab=3` &&
          s.tabs.some((t) => t.url === `${site.originA}/spa/page1#/a`) &&
          s.tabs.some((t) => t.scroll?.y === 3000) &&
          s.tabs.some((t) => t.sessionStorage.some((o) => o.items.some((i) => i.value === 'tab-3')))
        );
      },
      20_000,
      'a snapshot holding the whole session',
    );
    await b1.close().catch(() => {});

    // --- Crash: SIGKILL the companion and its Chromium (a machine crash). ------------------------
    expect(await crashForeground(first, dataDir)).toBe('SIGKILL');
  }, 120_000);

  afterAll(async () => {
    await browser?.close().catch(() => {});
    await stopForeground(resumed);
    await site?.close();
  });

  it('list shows the killed session as recoverable, with no companion running', async () => {
    const sessions = await list();
    expect(sessions).toHaveLength(1);
    expect(sessions[0]).toMatchObject({ id: sessionId, state: 'recoverable', tabCount: 3 });
  });

  it('resume restores tabs, active tab, cookies, storage before page scripts, scroll and history', async () => {
    requestMark = site.requests.length;
    const resumeStart = Date.now();
    resumed = await startForeground(['resume', sessionId, '--data-dir', dataDir], env);
    expect(resumed.sessionId).toBe(sessionId);
    await eventually(() => /restored snapshot \d+: .* 3\/3 tabs/.test(resumed.stdout()), 5000, 'the resume report');
    // A line per phase on stderr while it resumes.
    for (const phase of [/browser ready at \d+ ms/, /cookies: \d+\/\d+/, /localStorage: \d+\/\d+ origins/, /tabs: 3\/3 loaded/]) {
      expect(resumed.stderr()).toMatch(phase);
    }
    ({ browser, context } = await connect(resumed));

    const urls = context.pages().map((p) => p.url());
    expect(urls).toEqual(
      expect.arrayContaining([`${site.originA}/spa/page1#/a`, `${site.originA}/long.html`, `${site.originA}/storage.html?tab=3`]),
    );
    expect(await activeTabUrl(context)).toBe(`${site.originA}/storage.html?tab=3`);

    // The server saw the session cookie on the very first request after the resume.
    const firstRequest = site.requests.slice(requestMark).find((r) => r.origin === site.originA && r.path !== '/startup-log');
    expect(firstRequest?.cookie).toMatch(/sid=/);

    // The page's scripts saw the restored storage on their first run.
    const startup = await site.waitForStartupLog((l) => l.page === '/storage.html?tab=3' && l.at >= resumeStart);
    expect(startup.local).toMatchObject({ shared: 'from-tab-1', prop: 'assigned' });
    expect(startup.session).toEqual({ mine: 'tab-3' });

    const long = context.pages().find((p) => p.url().endsWith('/long.html'))!;
    expect(await long.evaluate(() => window.scrollY)).toBe(3000);

    const spa = context.pages().find((p) => p.url().endsWith('/spa/page1#/a'))!;
    const account = await context.newPage();
    await account.goto(`${site.originA}/account`);
    expect(await account.locator('#who').textContent()).toBe('Logged in as carol');
    await account.close();
    await spa.goBack();
    expect(spa.url()).toBe(`${site.originA}/spa/page1`);
    await spa.goBack();
    expect(spa.url()).toBe(`${site.originA}/spa.html`);
  });

  it('the resumed session is active again and captures new writes into the same id', async () => {
    expect((await list()).find((s) => s.id === sessionId)?.state).toBe('active');
    const page = context.pages().find((p) => p.url().endsWith('/storage.html?tab=3'))!;
    await page.evaluate(() => (window as unknown as Api).writeSet('afterResume', 'yes'));
    await eventually(
      async () =>
        (await exported()).state.origins.find((o) => o.origin === site.originA)?.localStorage.some((i) => i.name === 'afterResume'),
      15_000,
      'the post-resume write in the export',
    );
  });

  it('resuming an active session is refused with a clear error', async () => {
    const r = await runCli(['resume', sessionId, '--data-dir', dataDir], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`session ${sessionId} is active`);
  });

  it('SIGKILL of Chromium alone makes the session recoverable at once', async () => {
    const pid = await browserPid(browser);
    process.kill(pid, 'SIGKILL');
    // The companion had only this browser, so it saves, marks the session and exits by itself.
    expect(await resumed.exited).toBe(0);
    const session = (await list()).find((s) => s.id === sessionId)!;
    expect(session.state).toBe('recoverable');
    expect(session.lastError).toMatch(/exited unexpectedly/);
  });

  it('closing the browser in an orderly way ends the session as closed', async () => {
    const again = await startForeground(['resume', sessionId, '--data-dir', dataDir], env);
    const { browser: b } = await connect(again);
    const cdp = await b.newBrowserCDPSession();
    await cdp.send('Browser.close').catch(() => {}); // the connection drops as the browser exits
    expect(await again.exited).toBe(0);
    expect((await list()).find((s) => s.id === sessionId)?.state).toBe('closed');
  });
});
