/**
 * Last-known contents of one Storage area and a cheap diff against the live object.
 *
 * Why diffing: a page's own writes fire no `storage` event in its document, and property writes
 * (`localStorage.k = v`, `delete localStorage.k`) bypass setItem/removeItem, so the only way to see
 * every kind of write from the isolated world, without touching the page's globals or prototypes,
 * is to compare the Storage object with what we reported last.
 *
 * Cost per diff: one `length` read, then for each key `key(i)` + `getItem`, a Map lookup and a
 * string comparison. Blink hands out the same externalised string for an unchanged value, so the
 * comparison of an unchanged large value is a pointer check in practice; a changed value is
 * compared once. Removed keys are looked for only when fewer known keys were seen than we hold.
 */
import { DigestSum, itemHash } from '../../shared/storage-digest.js';

export interface StorageDelta {
  clear: boolean;
  set: Record<string, string>;
  remove: string[];
}

export class StorageMirror {
  private known = new Map<string, string>();

  constructor(private readonly storage: Storage) {}

  /**
   * Take the area as the new baseline for diffs and return its digest: what a document start costs
   * when the background already holds this content (no copy of the items is built).
   */
  load(): DigestSum {
    const digest = new DigestSum();
    this.rebase((key, value) => digest.add(itemHash(key, value)));
    return digest;
  }

  /** Everything the area holds now; also the new baseline for diffs. */
  snapshot(): Record<string, string> {
    // No prototype: a key named __proto__ must be stored as a key, not swallowed as the prototype.
    const items: Record<string, string> = Object.create(null) as Record<string, string>;
    this.rebase((key, value) => (items[key] = value));
    return items;
  }

  /** Read the whole area into the baseline, handing each item to `visit`. */
  private rebase(visit: (key: string, value: string) => void): void {
    this.known.clear();
    const n = this.storage.length;
    for (let i = 0; i < n; i++) {
      const key = this.storage.key(i);
      if (key === null) continue;
      const value = this.storage.getItem(key);
      if (value === null) continue;
      this.known.set(key, value);
      visit(key, value);
    }
  }

  /** What changed since the last snapshot/diff, or null if nothing did. Updates the baseline. */
  diff(): StorageDelta | null {
    const storage = this.storage;
    const n = storage.length;
    const previousSize = this.known.size;
    if (n === 0) {
      if (previousSize === 0) return null;
      this.known.clear();
      return { clear: true, set: {}, remove: [] };
    }
    let set: Record<string, string> | null = null;
    let stillThere = 0;
    let added: string[] | null = null;
    for (let i = 0; i < n; i++) {
      const key = storage.key(i);
      if (key === null) continue;
      const value = storage.getItem(key);
      if (value === null) continue;
      const old = this.known.get(key);
      if (old === undefined) (added ??= []).push(key);
      else stillThere++;
      if (old !== value) {
        (set ??= Object.create(null) as Record<string, string>)[key] = value;
        this.known.set(key, value);
      }
    }
    let remove: string[] = [];
    if (stillThere < previousSize) {
      const fresh = new Set(added);
      for (const key of this.known.keys()) {
        if (fresh.has(key)) continue;
        if (storage.getItem(key) === null) remove.push(key);
      }
      for (const key of remove) this.known.delete(key);
    }
    // Everything we knew is gone: say "clear" (one flag) instead of listing every key.
    const clear = previousSize > 0 && remove.length === previousSize;
    if (clear) remove = [];
    if (!set && remove.length === 0 && !clear) return null;
    return { clear, set: set ?? {}, remove };
  }
}
