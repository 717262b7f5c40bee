/**
 * The per-session storage limit, end to end: the real CLI starts a companion (limit 1 MiB) and
 * Chromium with the real extension; a hostile page opens many cross-site iframes (f<i>.localhost,
 * which Chromium resolves to loopback and restory sees as other sites, so each has its own
 * partitioned localStorage), each filling its storage. Polling goes over the companion's socket
 * (as the popup asks); what users read is checked once with the real CLI. The session keeps at most the limit, says so
 * in `list --json`, `list`, `status`, the popup and the resume report, and goes on capturing
 * navigation and tabs; a second session of the same companion captures normally; the companion's
 * resident memory stays bounded; the mark survives a SIGKILL (journal replay).
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { EXTENSION_ID } from '../../shared/constants.js';
import type { RestoryExport, SessionSummary } from '../../shared/state.js';
import { CompanionClient } from '../../companion/socket/client.js';
import { crashForeground, eventually, runCli, startForeground, stopForeground, type ForegroundCompanion } from '../helpers/restory-cli.js';
import { tempDir } from '../helpers/temp-dirs.js';

const LIMIT = 1024 * 1024;
const env = { RESTORY_SNAPSHOT_INTERVAL_MS: '1000', RESTORY_SESSION_MAX_STORAGE_BYTES: String(LIMIT) };
const FRAMES = 12;
/** Per frame: 10 values of 10 000 characters, 200 KB as the limit counts them; 12 frames ask for 2.3× the limit. */
const KEYS = 10;
const CHARS = 10_000;
/** The largest single write: what one event can hold (storage-limit.ts never lets even that one past). */
const ONE_EVENT = KEYS * 2 * (CHARS + 4);

const page = (body: string) => `<!doctype html><html><head><title>t</title></head><body>${body}</body></html>`;

async function startSite(): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    res.setHeader('content-type', 'text/html');
    if (url.pathname === '/hostile.html') {
      const port = (server.address() as AddressInfo).port;
      const frames = Array.from({ length: FRAMES }, (_, i) => `<iframe src="http://f${i}.localhost:${port}/fill.html"></iframe>`).join('');
      res.end(page(frames));
    } else if (url.pathname === '/fill.html') {
      res.end(page(`<script>for (let k = 0; k < ${KEYS}; k++) localStorage.setItem('k' + k, String(k % 10).repeat(${CHARS}));</script>`));
    } else res.end(page(`plain ${url.search}`));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port };
}

function rssKiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]);
}

function localStorageBytes(e: RestoryExport): number {
  return e.state.origins.reduce((n, o) => n + o.localStorage.reduce((m, i) => m + 2 * (i.name.length + i.value.length), 0), 0);
}

describe('per-session storage limit (real CLI, Chromium, extension, companion)', () => {
  let site: { server: Server; port: number };
  let origin: string;
  let dataDir: string;
  let companion: ForegroundCompanion;
  let browser: Browser;
  let context: BrowserContext;
  let tab: Page;
  let rssBefore: number;
  let client: CompanionClient;

  const cli = async (args: string[]) => {
    const r = await runCli([...args, '--data-dir', dataDir], env);
    if (r.code !== 0) throw new Error(`restory ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout;
  };
  const listed = async () => JSON.parse(await cli(['list', '--json'])) as SessionSummary[];
  /** The newest snapshot (one a second here) over the socket: no CLI start-up per poll. */
  const snapshotOf = async (id: string) => (await client.request('export', { sessionId: id, format: 'restory' })) as RestoryExport;
  const sessionOf = async (id: string) => (await client.request('list', {})).sessions.find((s) => s.id === id);

  beforeAll(async () => {
    site = await startSite();
    origin = `http://127.0.0.1:${site.port}`;
    dataDir = tempDir();
    companion = await startForeground(['start', '--data-dir', dataDir, '--name', 'hostile', '--url', `${origin}/plain.html?start`], env);
    browser = await chromium.connectOverCDP(companion.cdp);
    context = browser.contexts()[0];
    tab = await eventually(() => context.pages().find((p) => p.url().includes('?start')), 15_000, 'the start page');
    rssBefore = rssKiB(companion.child.pid!);
    const connected = await CompanionClient.connect(dataDir);
    if (!connected) throw new Error('the companion does not answer on its socket');
    client = connected;
  }, 60_000);

  afterAll(async () => {
    client?.close();
    await browser?.close().catch(() => {});
    await stopForeground(companion);
    await new Promise((r) => site?.server.close(r));
  });

  it('a page of cross-site frames filling their storage: the session keeps at most the limit, is marked, and goes on capturing tabs and navigation', async () => {
    await tab.goto(`${origin}/hostile.html`);
    await eventually(() => tab.frames().length === FRAMES + 1, 15_000, 'every iframe');
    await eventually(async () => (await sessionOf(companion.sessionId))?.storageLimit, 30_000, 'the session to be marked');
    const marked = (await listed()).find((s) => s.id === companion.sessionId);
    expect(marked?.storageLimit).toEqual({ at: expect.any(Number), bytes: LIMIT });

    // Let every frame's writes arrive (each frame diffs its storage within 0.5 s) and a snapshot follow.
    await new Promise((r) => setTimeout(r, 2_000));
    const held = localStorageBytes(await snapshotOf(companion.sessionId));
    expect(held).toBeGreaterThan(LIMIT / 2);
    expect(held).toBeLessThanOrEqual(LIMIT + ONE_EVENT);

    // Capture goes on past the limit: a navigation, and a new tab.
    await tab.goto(`${origin}/plain.html?after-limit`);
    const second = await context.newPage();
    await second.goto(`${origin}/plain.html?second-tab`);
    await eventually(
      async () => {
        const urls = (await snapshotOf(companion.sessionId)).state.tabs.map((t) => t.url);
        return urls.some((u) => u.endsWith('?after-limit')) && urls.some((u) => u.endsWith('?second-tab'));
      },
      15_000,
      'the navigation and the new tab in the export',
    );

    const text = await cli(['list']);
    expect(text).toMatch(new RegExp(`^${companion.sessionId}\\s+hostile\\s+active \\(!\\)`, 'm'));
    expect(text).toContain(`(!) ${companion.sessionId}: storage limit of 1 MiB reached`);
    expect(await cli(['status'])).toContain(`session ${companion.sessionId}: storage limit of 1 MiB reached`);
    const status = JSON.parse(await cli(['status', '--json'])) as { storageLimited: { id: string }[] };
    expect(status.storageLimited.map((s) => s.id)).toEqual([companion.sessionId]);

    // The popup of the session's own browser marks it.
    const manifest = JSON.parse(readFileSync(fileURLToPath(new URL('../../dist/extension/manifest.json', import.meta.url)), 'utf8')) as { action: { default_popup: string } };
    const popup = await context.newPage();
    await popup.goto(`chrome-extension://${EXTENSION_ID}/${manifest.action.default_popup}`);
    await expect
      .poll(() => popup.locator(`li[data-session="${companion.sessionId}"] .storage-limit`).textContent(), { timeout: 10_000 })
      .toContain('Storage limit reached');
    await popup.close();

    const rssAfter = rssKiB(companion.child.pid!);
    // 12 frames wrote ~2.4 MB; the session holds 1. Generous: the companion's own growth (sql.js
    // heap, snapshots, JSON copies) must stay far below what an unbounded session would reach.
    expect(rssAfter - rssBefore).toBeLessThan(150 * 1024);
  }, 90_000);

  it('another session of the same companion captures normally, its own storage counted on its own', async () => {
    let other: Browser | undefined;
    try {
      const started = await client.request('start', { urls: [`${origin}/plain.html?other`], name: 'other' });
      other = await chromium.connectOverCDP(started.cdpEndpoint);
      const p = await eventually(() => other!.contexts()[0].pages().find((x) => x.url().includes('?other')), 15_000, 'the other session page');
      // 800 KB counted: under the limit, though both sessions together are far over it.
      await p.evaluate(() => localStorage.setItem('mine', 'm'.repeat(400_000)));
      await eventually(
        async () => (await snapshotOf(started.sessionId)).state.origins.some((o) => o.localStorage.some((i) => i.name === 'mine' && i.value.length === 400_000)),
        15_000,
        'the other session to hold its 800 KB',
      );
      expect((await listed()).find((s) => s.id === started.sessionId)?.storageLimit).toBeUndefined();
    } finally {
      await other?.close().catch(() => {});
    }
  }, 90_000);

  it('after a SIGKILL the mark survives, and resume says the storage was cut at the limit', async () => {
    client.close();
    await browser.close().catch(() => {});
    expect(await crashForeground(companion, dataDir)).toBe('SIGKILL');
    const after = (await listed()).find((s) => s.id === companion.sessionId);
    expect(after).toMatchObject({ state: 'recoverable', storageLimit: { bytes: LIMIT } });
    const resumed = await startForeground(['resume', companion.sessionId, '--data-dir', dataDir], env);
    try {
      // The report's warnings follow its stdout lines, which startForeground waited for.
      const warning = `restory: warning: session ${companion.sessionId}: storage limit of 1 MiB reached`;
      await eventually(() => resumed.stderr().includes(warning), 10_000, 'the resume report to warn of the limit');
    } finally {
      await stopForeground(resumed);
    }
  }, 90_000);
});
