/**
 * What the extension does per navigation, counted by the service worker (extension/background/
 * counters.ts): content-script messages, outbox events, storage writes, native frames, zod
 * validations. Real Chromium with the built extension and the stub host. The counts are printed
 * (they go into reports) and held below bounds.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Counters } from '../../extension/background/counters.js';
import { type ExtensionBrowser, launchWithExtension } from '../helpers/extension-browser.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const html = (body: string) => `<!doctype html><html><head><title>t</title></head><body>${body}</body></html>`;

let browser: ExtensionBrowser;
let server: Server;
let origin: string;
let page: Page;

beforeAll(async () => {
  const form = '<input id="name"><textarea id="note"></textarea>';
  server = createServer((req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(html(req.url?.startsWith('/form') ? form : `page ${req.url}`)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launchWithExtension();
  page = await browser.context.newPage();
});

afterAll(async () => {
  await browser?.close();
  server?.close();
});

const read = () => browser.worker.evaluate(() => ({ ...(globalThis as unknown as { restoryCounters: Counters }).restoryCounters }));

function perNavigation(before: Counters, after: Counters, n: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of Object.keys(after) as (keyof Counters)[]) out[key] = Math.round(((after[key] - before[key]) / n) * 100) / 100;
  return out;
}

/** Loads `path` `n` times (each a new navigation), letting debounces and acks settle after each. */
async function navigate(path: (i: number) => string, n: number) {
  const before = await read();
  for (let i = 0; i < n; i++) {
    await page.goto(`${origin}${path(i)}`, { waitUntil: 'load' });
    await sleep(600);
  }
  return perNavigation(before, await read(), n);
}

describe('extension cost', () => {
  it('cost(per navigation of a simple page without storage)', async () => {
    await navigate((i) => `/warm?${i}`, 2);
    const counts = await navigate((i) => `/simple?${i}`, 8);
    console.log('per navigation, no storage:', JSON.stringify(counts));
    // One start message (digests + viewport); navigation and tabs change in one frame; no dump.
    expect(counts.contentMessages).toBeLessThanOrEqual(1);
    expect(counts.storageFull).toBe(0);
    expect(counts.eventFrames).toBeLessThanOrEqual(1.5);
    expect(counts.outboxEvents).toBeLessThanOrEqual(2.5);
    expect(counts.tabsReads).toBeLessThanOrEqual(0.5);
    expect(counts.mirrorWrites).toBeLessThanOrEqual(2);
  });

  it('cost(per reload of a page whose origin holds unchanged storage)', async () => {
    await page.goto(`${origin}/stored`);
    await page.evaluate(() => {
      for (let i = 0; i < 50; i++) localStorage.setItem(`k${i}`, 'v'.repeat(100));
      sessionStorage.setItem('s', '1');
    });
    await sleep(1500);
    const reloadsStarted = Date.now();
    const counts = await navigate((i) => `/stored?${i}`, 8);
    console.log('per navigation, unchanged storage:', JSON.stringify(counts));
    // The digests match what the background saw: no dump, no storage event at all.
    expect(counts.storageFull).toBe(0);
    expect(counts.contentMessages).toBeLessThanOrEqual(1);
    const storage = browser.log.events().filter((e) => e.event.kind.startsWith('storage.') && e.event.origin === origin);
    expect(storage.filter((e) => e.receivedAt > reloadsStarted)).toEqual([]);
  });

  it('cost(idle visible page)', async () => {
    const before = await read();
    await sleep(5000);
    const counts = perNavigation(before, await read(), 1);
    console.log('idle 5 s:', JSON.stringify(counts));
    expect(counts.contentMessages).toBe(0);
    expect(counts.eventFrames).toBe(0);
  });

  it('cost(a burst of typing into two fields is one message, sent after it)', async () => {
    await page.goto(`${origin}/form`);
    await sleep(1000);
    const before = await read();
    const started = Date.now();
    await page.locator('#name').pressSequentially('Ada Lovelace');
    await page.locator('#note').pressSequentially('a note');
    const typed = Date.now();
    await sleep(1500);
    const counts = perNavigation(before, await read(), 1);
    console.log('typing 18 characters into 2 fields:', JSON.stringify(counts));
    const forms = browser.log.events().filter((e) => e.event.kind === 'form' && e.receivedAt > started);
    expect(forms.map((e) => e.event)).toEqual([
      { kind: 'form', tabId: expect.any(Number), url: `${origin}/form`, fields: [{ key: '#name', value: 'Ada Lovelace' }, { key: '#note', value: 'a note' }] },
    ]);
    expect(forms[0].receivedAt).toBeGreaterThanOrEqual(typed);
    expect(counts.contentMessages).toBe(1);
  });

  it('storage(a write is still captured within 1 s after the diff period backed off)', async () => {
    await page.goto(`${origin}/backoff`);
    await sleep(3000); // no input, no writes: the period is at its longest
    for (const i of [1, 2, 3]) {
      const before = localDeltas().length;
      const started = Date.now();
      await page.evaluate((v) => localStorage.setItem('late', String(v)), i);
      const found = await browser.log.waitFor('late write', () => localDeltas().slice(before).find((e) => e.event.set.late === String(i)));
      expect(found.receivedAt - started).toBeLessThan(1000);
      await sleep(2000 + i * 137); // back off again, and land at a different phase of the timer
    }
  });

  it('storage(a write just before leaving is reported by the synchronous pagehide diff)', async () => {
    await page.goto(`${origin}/leaving`);
    await sleep(1500); // backed off: the timer cannot be what reports it
    const before = deltas('session').length;
    // Written and gone in the same task: only the pagehide diff can see it.
    await page.evaluate(() => {
      sessionStorage.setItem('beforeLeaving', '1');
      location.href = '/elsewhere';
    });
    await browser.log.waitFor('write before pagehide', () => deltas('session').slice(before).find((e) => e.event.set.beforeLeaving === '1'), 2000);
  });
});

function deltas(area: 'local' | 'session') {
  return browser.log.events().filter((e) => e.event.kind === 'storage.change' && e.event.origin === origin && e.event.area === area);
}
const localDeltas = () => deltas('local');
