/**
 * A cheap fingerprint of one Storage area's contents, computed the same way in the content script
 * (from the live Storage) and in the service worker (folded from the events it sent the companion),
 * so that a page load costs a digest instead of a full dump when nothing changed since.
 *
 * Shape: the number of items plus two 32-bit sums of a 53-bit per-item hash (cyrb53 over key and
 * value). A sum is order-independent and updatable per item — add an item's hash, subtract the hash
 * of the value it replaced — so the service worker keeps it current per delta in O(changed items)
 * without holding the values. Two areas with different contents get the same digest with a
 * probability of about 2^-53 per comparison; the cost of that unlikely collision is one reload whose
 * unchanged-looking storage is not re-sent (later writes are still reported as deltas).
 *
 * Cost: two Math.imul per UTF-16 unit, ~1–3 ms per MB on these machines; paid only at document start.
 */
export interface StorageDigest {
  /** Number of items. */
  n: number;
  /** Sum of the items' low 32 hash bits, mod 2^32. */
  lo: number;
  /** Sum of the items' high 21 hash bits, mod 2^32. */
  hi: number;
}

const TWO_32 = 0x1_0000_0000;

/**
 * 53-bit hash of one item (cyrb53 over the key's length, the key and the value). Self-contained (no
 * module constants): the restore's setup page gets it as source text to fingerprint what it writes.
 */
export function itemHash(key: string, value: string): number {
  let h1 = 0xdeadbeef ^ key.length;
  let h2 = 0x41c6ce57 ^ value.length;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  // The key's length went into the seed, so ("ab","c") and ("a","bc") hash apart.
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 0x1_0000_0000 * (2097151 & h2) + (h1 >>> 0);
}

/** Add an item's hash to `digest`. Self-contained, like itemHash. */
export function addToDigest(digest: StorageDigest, hash: number): void {
  digest.n++;
  digest.lo = (digest.lo + (hash % 0x1_0000_0000)) % 0x1_0000_0000;
  digest.hi = (digest.hi + Math.floor(hash / 0x1_0000_0000)) % 0x1_0000_0000;
}

/** A running digest: add and remove item hashes. */
export class DigestSum implements StorageDigest {
  n = 0;
  lo = 0;
  hi = 0;

  add(hash: number): void {
    addToDigest(this, hash);
  }

  remove(hash: number): void {
    this.n--;
    this.lo = (this.lo - (hash % TWO_32) + TWO_32) % TWO_32;
    this.hi = (this.hi - Math.floor(hash / TWO_32) + TWO_32) % TWO_32;
  }

  clear(): void {
    this.n = 0;
    this.lo = 0;
    this.hi = 0;
  }

  equals(other: StorageDigest): boolean {
    return this.n === other.n && this.lo === other.lo && this.hi === other.hi;
  }
}
