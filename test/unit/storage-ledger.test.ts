/**
 * The service worker's storage ledger must agree with the content script's digest exactly when
 * the companion's fold of the sent events equals the page's storage.
 */
import { describe, expect, it } from 'vitest';
import type { CaptureEvent } from '../../shared/capture-events.js';
import { ledgerKey, StorageLedger } from '../../extension/background/storage-ledger.js';
import { DigestSum, itemHash } from '../../shared/storage-digest.js';

function digestOf(items: Record<string, string>) {
  const d = new DigestSum();
  for (const [k, v] of Object.entries(items)) d.add(itemHash(k, v));
  return { area: 'local' as const, n: d.n, lo: d.lo, hi: d.hi };
}

const scope = { tabId: 1, frameId: 0, origin: 'https://a.test', area: 'local' as const };
const key = ledgerKey('local', 1, 'https://a.test', undefined);

describe('storage ledger', () => {
  it('matches after full + changes exactly when the contents agree', () => {
    const ledger = new StorageLedger();
    expect(ledger.matches(key, digestOf({}))).toBe(false); // unknown is not empty
    ledger.fold({ kind: 'storage.full', ...scope, items: { a: '1', b: '2' } });
    expect(ledger.matches(key, digestOf({ a: '1', b: '2' }))).toBe(true);
    ledger.fold({ kind: 'storage.change', ...scope, clear: false, set: { b: '3', c: '4' }, remove: ['a'] });
    expect(ledger.matches(key, digestOf({ b: '3', c: '4' }))).toBe(true);
    expect(ledger.matches(key, digestOf({ b: '2', c: '4' }))).toBe(false);
    ledger.fold({ kind: 'storage.change', ...scope, clear: true, set: { z: '' }, remove: [] });
    expect(ledger.matches(key, digestOf({ z: '' }))).toBe(true);
  });

  it('tells apart swapped keys and values, and key/value boundaries', () => {
    expect(itemHash('ab', 'c')).not.toBe(itemHash('a', 'bc'));
    expect(digestOf({ a: '1', b: '2' })).not.toEqual(digestOf({ a: '2', b: '1' }));
  });

  it('drops sessionStorage of tabs a tabs event no longer lists, as the companion does', () => {
    const ledger = new StorageLedger();
    const s = { ...scope, area: 'session' as const };
    ledger.fold({ kind: 'storage.full', ...s, items: { x: '1' } });
    const sKey = ledgerKey('session', 1, 'https://a.test', undefined);
    const d = { ...digestOf({ x: '1' }), area: 'session' as const };
    expect(ledger.matches(sKey, d)).toBe(true);
    ledger.fold({ kind: 'tabs', tabs: [], windows: [] } as CaptureEvent); // ignored, like the companion
    expect(ledger.matches(sKey, d)).toBe(true);
    ledger.fold({ kind: 'tabs', tabs: [{ tabId: 2, windowId: 1, index: 0, active: true, pinned: false, url: 'https://a.test/', title: '' }], windows: [] });
    expect(ledger.matches(sKey, d)).toBe(false);
  });
});
