/**
 * The content script's storage mirror (extension/content/storage-mirror.ts) keeps keys that name
 * Object.prototype's own properties: `__proto__`, `constructor`, `toString` are ordinary localStorage
 * keys to a page, and must survive the snapshot and the diff as data, not be swallowed.
 */
import { describe, expect, it } from 'vitest';
import { StorageMirror } from '../../extension/content/storage-mirror.js';

/** A Storage over a Map, as the page sees one. */
function fakeStorage(initial: Record<string, string>): Storage {
  const data = new Map(Object.entries(initial));
  return {
    get length() {
      return data.size;
    },
    key: (i: number) => [...data.keys()][i] ?? null,
    getItem: (k: string) => data.get(k) ?? null,
    setItem: (k: string, v: string) => void data.set(k, v),
    removeItem: (k: string) => void data.delete(k),
    clear: () => data.clear(),
  };
}

const TRICKY = ['__proto__', 'constructor', 'toString', 'hasOwnProperty'];

describe('StorageMirror', () => {
  it('a snapshot keeps keys named like Object.prototype members, and JSON carries them', () => {
    const storage = fakeStorage(Object.fromEntries(TRICKY.map((k) => [k, `v-${k}`])));
    const items = new StorageMirror(storage).snapshot();
    expect(Object.keys(items).sort()).toEqual([...TRICKY].sort());
    expect(JSON.parse(JSON.stringify(items)) as Record<string, string>).toMatchObject({ constructor: 'v-constructor' });
    expect(Object.keys(JSON.parse(JSON.stringify(items)) as object).sort()).toEqual([...TRICKY].sort());
  });

  it('a diff reports a changed __proto__ key as a set', () => {
    const storage = fakeStorage({ a: '1' });
    const mirror = new StorageMirror(storage);
    mirror.snapshot();
    storage.setItem('__proto__', 'x');
    const delta = mirror.diff();
    expect(delta && Object.keys(delta.set)).toEqual(['__proto__']);
    expect(delta && Object.getOwnPropertyDescriptor(delta.set, '__proto__')?.value).toBe('x');
  });
});
