/**
 * The content script's storage capture against a fake window (a Map-backed Storage, an EventTarget
 * window and document) with fake timers: what it sends at start, how the diff period adapts, and
 * that a hidden document runs no timer. Headless Chromium keeps every page visible, so the hidden
 * case is checked here; the end-to-end tests (test/e2e/extension-*.test.ts) cover the rest.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ContentMessage } from '../../shared/messages/content.js';
import { FAST_MS, MAX_MS, startStorageCapture } from '../../extension/content/storage-capture.js';
import { itemHash, DigestSum } from '../../shared/storage-digest.js';

class FakeStorage {
  private map = new Map<string, string>();
  get length() {
    return this.map.size;
  }
  key(i: number) {
    return [...this.map.keys()][i] ?? null;
  }
  getItem(k: string) {
    return this.map.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.map.set(k, String(v));
  }
  removeItem(k: string) {
    this.map.delete(k);
  }
}

function fakeWindow() {
  const win = new EventTarget() as EventTarget & Record<string, unknown>;
  const doc = new EventTarget() as EventTarget & { visibilityState: string };
  doc.visibilityState = 'visible';
  win.document = doc;
  win.localStorage = new FakeStorage();
  win.sessionStorage = new FakeStorage();
  return { win: win as unknown as Window, doc, local: win.localStorage as FakeStorage };
}

let sent: ContentMessage[];
let reply: { full: string[] };

beforeEach(() => {
  vi.useFakeTimers();
  sent = [];
  reply = { full: [] };
  vi.stubGlobal('chrome', {
    runtime: {
      sendMessage: (m: ContentMessage) => {
        sent.push(m);
        return Promise.resolve(m.type === 'restory.start' ? reply : undefined);
      },
    },
  });
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

const changes = () => sent.filter((m) => m.type === 'restory.storage.change');

describe('storage capture (content script)', () => {
  it('start(sends digests, no dump; dumps only the areas the background asks for)', async () => {
    const { win, local } = fakeWindow();
    local.setItem('a', '1');
    reply = { full: ['local'] };
    startStorageCapture(win, { viewport: { width: 800, height: 600 }, entry: 'push' });
    expect(sent[0]).toMatchObject({ type: 'restory.start', viewport: { width: 800, height: 600 }, entry: 'push' });
    const digest = new DigestSum();
    digest.add(itemHash('a', '1'));
    expect((sent[0] as Extract<ContentMessage, { type: 'restory.start' }>).storage).toEqual([
      { area: 'local', n: 1, lo: digest.lo, hi: digest.hi },
      { area: 'session', n: 0, lo: 0, hi: 0 },
    ]);
    await vi.advanceTimersByTimeAsync(0);
    expect(sent.slice(1)).toEqual([{ type: 'restory.storage.full', area: 'local', items: { a: '1' } }]);
  });

  it('timer(backs off while nothing changes, to MAX_MS; a write is still seen within MAX_MS)', async () => {
    const { win, local } = fakeWindow();
    startStorageCapture(win);
    await vi.advanceTimersByTimeAsync(10_000);
    // Backed off: fewer than one diff per MAX_MS over 10 s (vs 33 at a fixed 300 ms).
    expect(vi.getTimerCount()).toBe(1);
    local.setItem('late', '1');
    await vi.advanceTimersByTimeAsync(MAX_MS);
    expect(changes()).toEqual([{ type: 'restory.storage.change', area: 'local', clear: false, set: { late: '1' }, remove: [] }]);
  });

  it('timer(input brings the period back to FAST_MS)', async () => {
    const { win, local } = fakeWindow();
    startStorageCapture(win);
    await vi.advanceTimersByTimeAsync(10_000);
    win.dispatchEvent(new Event('keydown'));
    local.setItem('typed', 'x');
    await vi.advanceTimersByTimeAsync(FAST_MS);
    expect(changes()).toHaveLength(1);
  });

  it('hidden(no timer at all; diffs on visibilitychange and synchronously on pagehide)', async () => {
    const { win, doc, local } = fakeWindow();
    startStorageCapture(win);
    doc.visibilityState = 'hidden';
    doc.dispatchEvent(new Event('visibilitychange'));
    expect(vi.getTimerCount()).toBe(0);
    local.setItem('hidden', '1');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(changes()).toEqual([]);
    doc.visibilityState = 'visible';
    doc.dispatchEvent(new Event('visibilitychange'));
    expect(changes()).toHaveLength(1); // at once, not on the next tick
    expect(vi.getTimerCount()).toBe(1);

    doc.visibilityState = 'hidden';
    doc.dispatchEvent(new Event('visibilitychange'));
    local.setItem('leaving', '1');
    win.dispatchEvent(new Event('pagehide'));
    expect(changes().at(-1)).toMatchObject({ set: { leaving: '1' } });
  });

  it('storage event(diffs at once, even while hidden)', () => {
    const { win, doc, local } = fakeWindow();
    startStorageCapture(win);
    doc.visibilityState = 'hidden';
    doc.dispatchEvent(new Event('visibilitychange'));
    local.setItem('other-tab', '1');
    win.dispatchEvent(new Event('storage'));
    expect(changes()).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('the window load event diffs at once (a page load\'s writes join its navigation\'s batch)', async () => {
    const { win, local } = fakeWindow();
    startStorageCapture(win);
    await vi.advanceTimersByTimeAsync(0);
    local.setItem('written-while-loading', '1');
    win.dispatchEvent(new Event('load'));
    expect(changes()).toEqual([{ type: 'restory.storage.change', area: 'local', clear: false, set: { 'written-while-loading': '1' }, remove: [] }]);
    // Only the window's own load: a second one (an image's, seen through capture) diffs nothing new.
    local.setItem('later', '2');
    win.dispatchEvent(new Event('load'));
    expect(changes()).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(FAST_MS);
    expect(changes()).toHaveLength(2);
  });
});
