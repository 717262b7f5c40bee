/**
 * The outbox waits for its gate (the navigation hold) before cutting a batch, so a page load's
 * storage writes and its navigation travel in one frame (extension/background/outbox.ts).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CaptureEvent, SequencedEvent } from '../../shared/capture-events.js';

// The extension's modules read chrome.* as they load (debug.ts): stub it before they are imported.
vi.hoisted(() => {
  const area = () => ({ get: async () => ({}), set: async () => {}, remove: async () => {} });
  (globalThis as Record<string, unknown>).chrome = { storage: { local: area(), session: area(), onChanged: { addListener: () => {} } } };
});
const { COALESCE_MS, Outbox } = await import('../../extension/background/outbox.js');

const change = (key: string): CaptureEvent => ({
  kind: 'storage.change',
  tabId: 1,
  frameId: 0,
  origin: 'http://a.test',
  area: 'local',
  clear: false,
  set: { [key]: '1' },
  remove: [],
});
const nav: CaptureEvent = { kind: 'navigation', tabId: 1, url: 'http://a.test/', how: 'commit', transition: 'link', qualifiers: [] };

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('outbox batches', () => {
  it('a batch is cut only once the gate opens, and then holds what came meanwhile', async () => {
    const batches: SequencedEvent[][] = [];
    let open!: () => void;
    let gate: Promise<void> | null = new Promise<void>((r) => (open = r));
    const outbox = new Outbox();
    outbox.attach({ send: (b) => batches.push(b) }, () => gate);
    outbox.connected(0);
    outbox.push(change('written-while-loading'));
    await vi.advanceTimersByTimeAsync(COALESCE_MS * 5);
    expect(batches).toEqual([]);
    outbox.push(nav); // what the hold emits as it releases
    gate = null;
    open();
    await vi.advanceTimersByTimeAsync(COALESCE_MS * 5);
    expect(batches).toHaveLength(1);
    expect(batches[0].map((e) => e.event.kind)).toEqual(['storage.change', 'navigation']);
  });

  it('without a gate a batch goes out after COALESCE_MS', async () => {
    const batches: SequencedEvent[][] = [];
    const outbox = new Outbox();
    outbox.attach({ send: (b) => batches.push(b) }, () => null);
    outbox.connected(0);
    outbox.push(change('k'));
    await vi.advanceTimersByTimeAsync(COALESCE_MS - 1);
    expect(batches).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(batches).toHaveLength(1);
  });
});
