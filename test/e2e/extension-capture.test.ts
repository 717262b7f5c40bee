/**
 * The extension end to end: real Chromium, the built extension, real native messaging to a stub
 * host that logs what it receives (test/helpers/extension-stub-host.mjs).
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXTENSION_ID, PROTOCOL_VERSION } from '../../shared/constants.js';
import { EXTENSION_DIR, type ExtensionBrowser, launchWithExtension, readPids } from '../helpers/extension-browser.js';

/** Serves the test pages; `pages` maps a path to [headers, body]. */
async function serve(pages: Record<string, (port: number) => { headers?: Record<string, string | string[]>; body: string }>) {
  const server = createServer((req, res) => {
    const page = pages[new URL(req.url ?? '/', 'http://x').pathname];
    if (!page) {
      res.writeHead(404).end();
      return;
    }
    const { headers = {}, body } = page(port);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', ...headers }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { server, port };
}

const html = (head: string, body = '') => `<!doctype html><html><head>${head}</head><body>${body}</body></html>`;

let browser: ExtensionBrowser;
let servers: Server[] = [];
let A: string; // http://127.0.0.1:<a>
let B: string; // http://localhost:<b>: another site, for the iframe
let C: string; // http://127.0.0.1:<c>: the 5 MB origin
let page: Page;

beforeAll(async () => {
  const b = await serve({ '/frame.html': () => ({ body: html(`<script>localStorage.setItem('inframe', '1'); sessionStorage.setItem('inframe-s', '2');</script>`) }) });
  const c = await serve({ '/big.html': () => ({ body: html('') }) });
  const a = await serve({
    // The inline script runs before anything else on the page: a content script that really runs
    // at document_start has already taken its (empty) full dump, so `early` must come as a delta.
    '/storage.html': () => ({ body: html(`<script>localStorage.setItem('early', '1')</script>`, '<div style="height:5000px">tall</div>') }),
    '/frame-host.html': () => ({ body: html('', `<iframe src="http://localhost:${b.port}/frame.html"></iframe>`) }),
    '/cookie': () => ({
      headers: { 'set-cookie': ['sid=abc; HttpOnly; Path=/', 'pref=dark; Max-Age=3600; Path=/; SameSite=Strict'] },
      body: html('', 'cookies set'),
    }),
  });
  servers = [a.server, b.server, c.server];
  A = `http://127.0.0.1:${a.port}`;
  B = `http://localhost:${b.port}`;
  C = `http://127.0.0.1:${c.port}`;
  browser = await launchWithExtension();
  page = await browser.context.newPage();
});

afterAll(async () => {
  await browser?.close();
  for (const s of servers) s.close();
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

type Ev = ReturnType<ExtensionBrowser['log']['events']>[number];
const events = () => browser.log.events();
const storageEvents = (origin: string, area: 'local' | 'session' = 'local') =>
  events().filter((e) => e.event.kind.startsWith('storage.') && e.event.origin === origin && e.event.area === area);

/** Runs `write` in the page and waits until a storage.change from `origin` satisfies `match`; returns it and the latency. */
async function writeAndWait(origin: string, area: 'local' | 'session', write: string, match: (e: Ev['event']) => boolean) {
  const before = storageEvents(origin, area).length;
  const started = Date.now();
  await page.evaluate(write);
  const found = await browser.log.waitFor(`delta after: ${write}`, () =>
    storageEvents(origin, area)
      .slice(before)
      .find((e) => e.event.kind === 'storage.change' && match(e.event)),
  );
  return { event: found.event, latency: found.receivedAt - started };
}

describe('extension capture', () => {
  it('manifest(has the fixed key, the permissions and a classic document_start content script)', () => {
    const manifest = JSON.parse(readFileSync(join(EXTENSION_DIR, 'manifest.json'), 'utf8'));
    expect(manifest.key).toBeTruthy();
    expect(manifest.permissions).toEqual(expect.arrayContaining(['cookies', 'tabs', 'webNavigation', 'storage', 'alarms', 'nativeMessaging']));
    expect(manifest.host_permissions).toEqual(['<all_urls>']);
    const [script] = manifest.content_scripts;
    expect(script).toMatchObject({ run_at: 'document_start', all_frames: true, matches: ['<all_urls>'] });
    expect(script.js).toEqual([expect.stringMatching(/\.iife\.js$/)]);
    expect(manifest.action.default_popup).toBe('popup/popup.html');
    expect(browser.worker.url()).toContain(EXTENSION_ID);
  });

  it('link(says hello with the protocol version and a stable instance id)', async () => {
    const hello = await browser.log.waitFor('hello', () => browser.log.refresh().find((m) => m.type === 'hello'));
    expect(hello).toMatchObject({ v: PROTOCOL_VERSION, extensionVersion: '0.1.0' });
    expect(String(hello.instanceId).length).toBeGreaterThanOrEqual(8);
    const connected = browser.log.refresh().find((m) => m.type === '_connected');
    expect(connected?.origin).toBe(`chrome-extension://${EXTENSION_ID}/`);
  });

  it('storage(runs at document_start: full dump before page scripts, then the inline write as a delta)', async () => {
    await page.goto(`${A}/storage.html`);
    const full = await browser.log.waitFor('full dump of A', () => storageEvents(A).find((e) => e.event.kind === 'storage.full'));
    expect(full.event.items).toEqual({});
    expect(full.event.frameId).toBe(0);
    expect(full.event.topOrigin).toBeUndefined();
    const early = await browser.log.waitFor('early delta', () => storageEvents(A).find((e) => e.event.kind === 'storage.change'));
    expect(early.event.set).toEqual({ early: '1' });
    expect(early.event.tabId).toBeGreaterThan(0);
  });

  it('storage(reports setItem, property assignment, delete, removeItem and clear within 1 s)', async () => {
    const writes: [string, (e: Ev['event']) => boolean][] = [
      [`localStorage.setItem('a', '1')`, (e) => e.set.a === '1'],
      [`localStorage.b = '2'`, (e) => e.set.b === '2'],
      [`localStorage.b = '3'`, (e) => e.set.b === '3'],
      [`delete localStorage.b`, (e) => e.remove.includes('b')],
      [`localStorage.removeItem('a')`, (e) => e.remove.includes('a')],
      [`localStorage['c'] = 'x'; localStorage.clear(); localStorage.setItem('d', '4')`, (e) => e.clear && e.set.d === '4'],
    ];
    for (const [write, match] of writes) {
      const { latency } = await writeAndWait(A, 'local', write, match);
      expect(latency, write).toBeLessThan(1000);
    }
  });

  it('storage(reports sessionStorage writes, property assignment included)', async () => {
    for (const [write, match] of [
      [`sessionStorage.setItem('s', '1')`, (e: Ev['event']) => e.set.s === '1'],
      [`sessionStorage.t = 'two'`, (e: Ev['event']) => e.set.t === 'two'],
      [`delete sessionStorage.s`, (e: Ev['event']) => e.remove.includes('s')],
    ] as const) {
      const { latency } = await writeAndWait(A, 'session', write, match);
      expect(latency, write).toBeLessThan(1000);
    }
  });

  it('storage(keeps capturing when the page breaks its own globals)', async () => {
    await page.evaluate(`
      Storage.prototype.setItem = () => { throw new Error('nope'); };
      window.addEventListener = () => { throw new Error('nope'); };
      window.setTimeout = () => { throw new Error('nope'); };
      Object.keys = () => { throw new Error('nope'); };
      JSON.stringify = () => { throw new Error('nope'); };
      window.chrome = undefined;`);
    const { latency } = await writeAndWait(A, 'local', `localStorage.sabotaged = 'still seen'`, (e) => e.set.sabotaged === 'still seen');
    expect(latency).toBeLessThan(1000);
  });

  it('page(reports scroll and viewport of the top frame)', async () => {
    await page.evaluate('window.scrollTo(0, 1234)');
    const scroll = await browser.log.waitFor('scroll', () => events().find((e) => e.event.kind === 'scroll' && e.event.y === 1234));
    expect(scroll.event.x).toBe(0);
    const viewport = await browser.log.waitFor('viewport', () => events().find((e) => e.event.kind === 'viewport'));
    expect(viewport.event).toMatchObject({ width: 1280, height: 720 });
  });

  it('navigation(reports commits, pushState and fragment changes)', async () => {
    await page.evaluate(`history.pushState({}, '', '/pushed')`);
    await page.evaluate(`location.hash = 'frag'`);
    const nav = () => events().filter((e) => e.event.kind === 'navigation');
    await browser.log.waitFor('history navigation', () => nav().find((e) => e.event.how === 'history' && e.event.url === `${A}/pushed`));
    await browser.log.waitFor('fragment navigation', () => nav().find((e) => e.event.how === 'fragment' && e.event.url === `${A}/pushed#frag`));
    const commit = nav().find((e) => e.event.how === 'commit' && e.event.url === `${A}/storage.html`);
    expect(commit?.event.transition).toBeTruthy();
    expect(Array.isArray(commit?.event.qualifiers)).toBe(true);
  });

  it('storage(a cross-site iframe reports its own origin and the top origin)', async () => {
    const other = await browser.context.newPage();
    await other.goto(`${A}/frame-host.html`);
    const local = await browser.log.waitFor('iframe local delta', () =>
      storageEvents(B).find((e) => e.event.kind === 'storage.change' && e.event.set.inframe === '1'),
    );
    expect(local.event.topOrigin).toBe(A);
    expect(local.event.frameId).not.toBe(0);
    const session = await browser.log.waitFor('iframe session delta', () =>
      storageEvents(B, 'session').find((e) => e.event.kind === 'storage.change' && e.event.set['inframe-s'] === '2'),
    );
    expect(session.event.topOrigin).toBe(A);

    // Both tabs are listed in a later `tabs` event.
    await browser.log.waitFor('tabs with both pages', () =>
      events().find(
        (e) =>
          e.event.kind === 'tabs' &&
          e.event.tabs.some((t: { url: string }) => t.url === `${A}/frame-host.html`) &&
          e.event.tabs.some((t: { url: string }) => t.url.startsWith(`${A}/pushed`)),
      ),
    );
    await other.close();
  });

  it('cookies(reports changes with httpOnly and session flags)', async () => {
    const all = events().find((e) => e.event.kind === 'cookies.all');
    expect(all?.event.cookies).toEqual([]);
    await page.goto(`${A}/cookie`);
    const changes = () => events().filter((e) => e.event.kind === 'cookie.change');
    const sid = await browser.log.waitFor('sid cookie', () => changes().find((e) => e.event.cookie.name === 'sid'));
    expect(sid.event).toMatchObject({ removed: false, cookie: { value: 'abc', httpOnly: true, expires: -1, domain: '127.0.0.1', path: '/', sameSite: 'Lax' } });
    const pref = await browser.log.waitFor('pref cookie', () => changes().find((e) => e.event.cookie.name === 'pref'));
    expect(pref.event.cookie).toMatchObject({ httpOnly: false, sameSite: 'Strict' });
    expect(pref.event.cookie.expires).toBeGreaterThan(Date.now() / 1000 + 3000);
    // Overwriting reports the new value only (no removal for the 'overwrite' cause).
    const before = changes().length;
    await page.evaluate(`document.cookie = 'pref=light; Max-Age=3600; Path=/'`);
    const light = await browser.log.waitFor('pref overwrite', () => changes().slice(before).find((e) => e.event.cookie.value === 'light'));
    expect(light.event.removed).toBe(false);
    expect(changes().slice(before).filter((e) => e.event.removed)).toEqual([]);
  });

  it('storage(a 5 MB origin: no dump on reload when unchanged, one dump when the worker lost track, then only small deltas)', async () => {
    const big = await browser.context.newPage();
    await big.goto(`${C}/big.html`);
    // 5 values of a million characters: 5 MB of localStorage (Chromium's quota is 5 Mi UTF-16 units).
    await big.evaluate(`for (let i = 0; i < 5; i++) localStorage.setItem('big' + i, String(i).repeat(1_000_000))`);
    // 5 MB through native messaging: seconds on a loaded machine (what this checks is when dumps come).
    await browser.log.waitFor('the big writes', () => storageEvents(C).filter((e) => e.event.kind === 'storage.change').flatMap((e) => Object.keys(e.event.set)).length >= 5, 30_000);
    // Unchanged since the background saw it: the reload costs a digest, no dump.
    let mark = storageEvents(C).length;
    await big.reload();
    await big.evaluate(`localStorage.marker = '1'`);
    await browser.log.waitFor('marker delta', () => storageEvents(C).slice(mark).find((e) => e.event.kind === 'storage.change' && e.event.set.marker === '1'));
    expect(storageEvents(C).slice(mark).filter((e) => e.event.kind === 'storage.full')).toEqual([]);

    // A restarted worker has no record of the origin: the next load sends it in full, once.
    const cdp = await browser.context.newCDPSession(big);
    await cdp.send('ServiceWorker.enable');
    await cdp.send('ServiceWorker.stopAllWorkers');
    await cdp.detach();
    mark = storageEvents(C).length;
    await big.reload();
    const full = await browser.log.waitFor('5 MB dump', () => storageEvents(C).slice(mark).find((e) => e.event.kind === 'storage.full'), 30_000);
    expect(Object.keys(full.event.items)).toHaveLength(6);
    expect(full.event.items.big4).toHaveLength(1_000_000);
    const { latency } = await (async () => {
      const started = Date.now();
      await big.evaluate(`localStorage.small = 'x'`);
      const found = await browser.log.waitFor('small delta', () =>
        storageEvents(C).slice(mark).find((e) => e.event.kind === 'storage.change' && e.event.set.small === 'x'),
      );
      return { latency: found.receivedAt - started };
    })();
    expect(latency).toBeLessThan(1000);
    await big.evaluate(`localStorage.big0 = 'shrunk'`);
    await browser.log.waitFor('big0 delta', () => storageEvents(C).slice(mark).find((e) => e.event.kind === 'storage.change' && e.event.set.big0 === 'shrunk'));
    const after = storageEvents(C).slice(mark);
    expect(after.filter((e) => e.event.kind === 'storage.full')).toHaveLength(1);
    for (const e of after.filter((e) => e.event.kind === 'storage.change')) expect(JSON.stringify(e.event).length).toBeLessThan(1024);
    await big.close();
  });

  it('link(seq strictly increases on every connection)', () => {
    const byConnection = new Map<number, number[]>();
    for (const e of events()) byConnection.set(e.connection, [...(byConnection.get(e.connection) ?? []), e.seq]);
    for (const seqs of byConnection.values()) {
      for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThan(seqs[i - 1]);
    }
    for (const e of events()) expect(e.at).toBeGreaterThan(Date.now() - 120_000);
  });

  it('popup(shows the connection and forwards requests to the companion by id)', async () => {
    const popup = await browser.context.newPage();
    await popup.goto(`chrome-extension://${EXTENSION_ID}/popup/popup.html`);
    await expect
      .poll(() => popup.evaluate(() => chrome.runtime.sendMessage({ type: 'popup-status' })))
      .toMatchObject({ state: 'ready', sessionId: 'stub-session' });
    const reply = await popup.evaluate(() =>
      chrome.runtime.sendMessage({ type: 'popup-request', request: { method: 'status', params: {} } }),
    );
    expect(reply).toEqual({ ok: true, result: { stub: true, method: 'status' } });
    // The popup itself asks for `list` when it opens; find the request this test sent.
    const request = browser.log.refresh().find((m) => m.type === 'request' && m.method === 'status');
    expect(request).toMatchObject({ method: 'status', params: {} });
    await popup.close();
  });

  it('link(reconnects after the host is killed, resends unacked events and honours resync)', async () => {
    const stubDir = browser.stubDir;
    await page.goto(`${A}/storage.html`);
    writeFileSync(join(stubDir, 'no-ack'), '');
    const { event } = await writeAndWait(A, 'local', `localStorage.unacked = 'keep me'`, (e) => e.set.unacked === 'keep me');
    const unacked = events().find((e) => e.event === event || (e.event.kind === 'storage.change' && e.event.set?.unacked === 'keep me'));
    expect(unacked).toBeTruthy();
    const [pid] = readPids(stubDir).slice(-1);
    rmSync(join(stubDir, 'no-ack'));
    writeFileSync(join(stubDir, 'resync'), '');
    process.kill(pid, 'SIGKILL');

    await browser.log.waitFor('a new host process', () => readPids(stubDir).length >= 2 && readPids(stubDir).at(-1) !== pid);
    const resent = await browser.log.waitFor('the unacked event resent', () =>
      events().find((e) => e.seq === unacked!.seq && e.connection === unacked!.connection + 1),
    );
    expect(resent.event).toEqual(unacked!.event);
    // The same instance reconnected.
    const hellos = browser.log.refresh().filter((m) => m.type === 'hello');
    expect(new Set(hellos.map((h) => h.instanceId)).size).toBe(1);
    // Resync: cookies (with the httpOnly one), tabs and a full storage dump come again on the new connection.
    const fresh = () => events().filter((e) => e.connection === resent.connection && e.seq > unacked!.seq);
    const cookies = await browser.log.waitFor('cookies.all after resync', () => fresh().find((e) => e.event.kind === 'cookies.all'));
    expect(cookies.event.cookies).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'sid', httpOnly: true, expires: -1 })]));
    await browser.log.waitFor('tabs after resync', () => fresh().find((e) => e.event.kind === 'tabs'));
    const dump = await browser.log.waitFor('storage dump after resync', () =>
      fresh().find((e) => e.event.kind === 'storage.full' && e.event.origin === A && e.event.area === 'local'),
    );
    expect(dump.event.items.unacked).toBe('keep me');
  });

  it('outbox(a service-worker restart loses no unacked event and seq never goes backwards)', async () => {
    const stubDir = browser.stubDir;
    writeFileSync(join(stubDir, 'no-ack'), '');
    const { event } = await writeAndWait(A, 'local', `localStorage.beforeRestart = '1'`, (e) => e.set.beforeRestart === '1');
    const pending = events().find((e) => e.event.kind === 'storage.change' && e.event.set?.beforeRestart === '1');
    expect(pending?.event).toEqual(event);
    const highest = Math.max(...events().map((e) => e.seq));
    const connections = readPids(stubDir).length;
    rmSync(join(stubDir, 'no-ack'));

    // Stop the extension's service worker the way Chromium does when idle.
    const cdp = await browser.context.newCDPSession(page);
    await cdp.send('ServiceWorker.enable');
    await cdp.send('ServiceWorker.stopAllWorkers');
    // The native port closes with the worker, so the host process it had exits.
    const hostPid = readPids(stubDir).at(-1)!;
    await browser.log.waitFor('the worker to stop (its host exits)', () => !isAlive(hostPid));
    expect(readPids(stubDir)).toHaveLength(connections);
    // A content-script message wakes it again.
    await page.evaluate(`localStorage.afterRestart = '1'`);
    const resent = await browser.log.waitFor('the unacked event resent after the restart', () =>
      events().find((e) => e.seq === pending!.seq && e.connection > pending!.connection),
    );
    expect(resent.event).toEqual(pending!.event);
    const after = await browser.log.waitFor('a new event after the restart', () =>
      events().find((e) => e.event.kind === 'storage.change' && e.event.set?.afterRestart === '1'),
    );
    expect(after.seq).toBeGreaterThan(highest);
  });
});
