/**
 * Chromium partitions a cross-site frame's storage (localStorage, IndexedDB) by the top-level site:
 * one origin's storage is a different store under each top origin. This is the key of one such
 * store, for maps in the extension and the companion alike; no top origin = unpartitioned storage.
 */
export function partitionKey(origin: string, topOrigin: string | undefined): string {
  return topOrigin ? `${topOrigin} ${origin}` : origin;
}
