/**
 * Sessions that outlive the machine, end to end with the real CLI, real Chromium and a real
 * PostgreSQL: companion A (its own data dir) captures into the shared store, rides out a server
 * restart mid-capture, and is SIGKILLed with its browser; from other data dirs (other machines) the
 * session is listed `recoverable`, two companions race to resume it (exactly one wins), and the
 * winner has cookies, storage, tabs and history back.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import type { RestoryExport, SessionSummary } from '../../shared/state.js';
import { startTestSite, type TestSite } from '../fixtures/test-site.js';
import { startPostgres, type PgServer } from '../helpers/postgres.js';
import { crashForeground, eventually, runCli, startForeground, stopForeground, type ForegroundCompanion } from '../helpers/restory-cli.js';
import { tempDir } from '../helpers/temp-dirs.js';

const env = { RESTORY_SNAPSHOT_INTERVAL_MS: '1000', RESTORY_LEASE_MS: '1500' };

describe('shared PostgreSQL store: a session survives its machine', () => {
  let server: PgServer;
  let site: TestSite;
  let url: string;
  let sessionId: string;
  const dirA = tempDir();
  const dirB = tempDir();
  const dirC = tempDir();
  let winner: ForegroundCompanion | undefined;
  let browser: Browser | undefined;

  const list = async (dataDir: string): Promise<SessionSummary[]> => {
    const r = await runCli(['list', '--json', '--data-dir', dataDir, '--store', url], env);
    expect(r.stderr).toBe('');
    return JSON.parse(r.stdout) as SessionSummary[];
  };

  beforeAll(async () => {
    [server, site] = await Promise.all([startPostgres(), startTestSite()]);
    url = await server.createDatabase();
  }, 60_000);

  afterAll(async () => {
    await browser?.close().catch(() => {});
    await stopForeground(winner);
    await site?.close();
    server?.stop();
  });

  it('A captures into the store; another data dir sees it active, exports it, and may not resume it', async () => {
    const a = await startForeground(['start', '--data-dir', dirA, '--store', url, '--url', `${site.originA}/login?user=carol`], env);
    sessionId = a.sessionId;
    let last = '';
    const b1 = await chromium.connectOverCDP(a.cdp);
    const context = b1.contexts()[0];
    const page = await eventually(() => context.pages().find((p) => p.url().endsWith('/account')), 15_000, 'the login');
    await page.goto(`${site.originA}/storage.html`);
    await page.evaluate(() => (window as unknown as { writeSet(k: string, v: string): void }).writeSet('shared', 'from-A'));
    const second = await context.newPage();
    await second.goto(`${site.originB}/storage.html?tab=2`);

    await eventually(
      async () => {
        const r = await runCli(['export', sessionId, '--data-dir', dirB, '--store', url], env);
        last = r.code === 0 ? r.stdout.slice(0, 3000) : r.stderr;
        if (r.code !== 0) return false;
        const s = (JSON.parse(r.stdout) as RestoryExport).state;
        return (
          s.tabs.length === 2 &&
          s.cookies.some((c) => c.name === 'sid') &&
          s.origins.some((o) => o.localStorage.some((i) => i.name === 'shared' && i.value === 'from-A'))
        );
      },
      45_000,
      'a snapshot in the shared store holding the session',
    ).catch((e: Error) => {
      throw new Error(`${e.message}\nlast export: ${last.slice(0, 2000)}\ncompanion A: ${a.stderr()}`);
    });
    expect((await list(dirB)).find((s) => s.id === sessionId)).toMatchObject({ state: 'active', tabCount: 2 });
    const busy = await runCli(['resume', sessionId, '--data-dir', dirB, '--store', url], env);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toMatch(/in use by another companion/);

    // The server restarts in the middle of capture: commands say so in one line meanwhile; the
    // companion keeps retrying, and what the page wrote during the outage is stored afterwards.
    server.stopServer();
    await page.evaluate(() => (window as unknown as { writeSet(k: string, v: string): void }).writeSet('outage', 'written-while-down'));
    const down = await runCli(['list', '--data-dir', dirB, '--store', url], env);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/^restory list: cannot reach the PostgreSQL store at postgresql:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/\w+: .*\n$/);
    await new Promise((r) => setTimeout(r, 1500));
    server.startServer();
    await eventually(
      async () => {
        const r = await runCli(['export', sessionId, '--data-dir', dirB, '--store', url], env);
        return r.code === 0 && (JSON.parse(r.stdout) as RestoryExport).state.origins.some((o) => o.localStorage.some((i) => i.value === 'written-while-down'));
      },
      45_000,
      'the write made during the outage, stored after it',
    );
    await b1.close().catch(() => {});

    expect(await crashForeground(a, dirA)).toBe('SIGKILL');
  }, 120_000);

  it('after A dies, every other data dir lists the session recoverable', async () => {
    for (const dir of [dirB, dirC]) {
      await eventually(async () => (await list(dir)).find((s) => s.id === sessionId)?.state === 'recoverable', 10_000, `recoverable in ${dir}`);
    }
    const status = await runCli(['status', '--json', '--data-dir', dirB, '--store', url], env);
    expect(JSON.parse(status.stdout)).toMatchObject({ running: false, sessions: { recoverable: 1 } });
  });

  it('B and C resume it at once: exactly one wins, with cookies, storage, tabs and history back', async () => {
    const results = await Promise.allSettled(
      [dirB, dirC].map((dir) => startForeground(['resume', sessionId, '--data-dir', dir, '--store', url], env, 90_000)),
    );
    const won = results.filter((r): r is PromiseFulfilledResult<ForegroundCompanion> => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    winner = won[0]?.value;
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(String(lost[0].reason)).toMatch(/exited \(1\)[\s\S]*in use by another companion/);

    browser = await chromium.connectOverCDP(winner!.cdp);
    const context = browser.contexts()[0];
    await eventually(() => context.pages().length === 2, 15_000, 'both tabs');
    const urls = context.pages().map((p) => p.url());
    expect(urls).toEqual(expect.arrayContaining([`${site.originA}/storage.html`, `${site.originB}/storage.html?tab=2`]));
    expect((await context.cookies(site.originA)).map((c) => c.name)).toEqual(expect.arrayContaining(['sid', 'pref']));
    const pageA = context.pages().find((p) => p.url().startsWith(site.originA))!;
    expect(await pageA.evaluate(() => localStorage.getItem('shared'))).toBe('from-A');
    expect(await pageA.evaluate(() => localStorage.getItem('outage'))).toBe('written-while-down');
    // Back history came along: the tab went login → account → storage.html on machine A.
    await pageA.goBack();
    expect(pageA.url()).toBe(`${site.originA}/account`);
    expect((await list(dirA)).find((s) => s.id === sessionId)).toMatchObject({ state: 'active' });
  }, 120_000);

  it('export from one data dir, import from another: a new recoverable session in the shared store', async () => {
    const r = await runCli(['export', sessionId, '--data-dir', dirC, '--store', url], env);
    expect(r.code).toBe(0);
    const file = join(dirC, 'export.json');
    writeFileSync(file, r.stdout, { mode: 0o600 });
    const imported = await runCli(['import', file, '--json', '--data-dir', dirC, '--store', url], env);
    expect(imported.stderr).toBe('');
    const { sessionId: newId } = JSON.parse(imported.stdout) as { sessionId: string };
    expect((await list(dirB)).find((s) => s.id === newId)).toMatchObject({ state: 'recoverable', tabCount: 2 });
    const snaps = await runCli(['snapshots', newId, '--json', '--data-dir', dirA, '--store', url], env);
    expect(JSON.parse(snaps.stdout)).toMatchObject([{ reason: 'import', cookies: expect.any(Number) }]);
  });
});
