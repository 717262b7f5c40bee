/**
 * IndexedDB, written into the profile before any tab opens, the way localStorage is: the setup page
 * (setup-page.ts) goes to each origin's blank route-fulfilled document (no network, no site
 * scripts) and recreates every database there — deleted first, then opened at its
 * version with its stores and indexes, then filled in batches under MESSAGE_CHARS
 * (indexeddb-writes.ts). The page's own scripts later open databases that are simply there, as after
 * a normal restart, at the version they expect, so no upgrade runs.
 *
 * Partitioned storage (a cross-site iframe's) is written from a blank frame of its origin under its
 * top origin, as localStorage is. What capture could not save (values it cannot encode, origins over
 * the size cap) comes back as resume warnings.
 */
import type { BrowserContext, Frame, Page } from 'playwright-core';
import { isRestoryWorker } from '../launch.js';
import { decodeIndexedDBValue } from '../../../shared/indexeddb-value.js';
import type { OriginStorage } from '../../../shared/state.js';
import { applyIndexedDBCall, FINGERPRINT_SOURCE, indexedDBWriteCalls } from './indexeddb-writes.js';
import { writeOnSetupPage, type SetupPage } from './setup-page.js';
import type { RestoreOutcome } from './types.js';

/** The decoder's source, installed on the setup page's window once per origin (with its first call). */
const DECODER = decodeIndexedDBValue.toString();

export function hasIndexedDB(o: OriginStorage): boolean {
  return (o.indexedDB?.length ?? 0) > 0;
}

/** An origin whose databases were written, and the fingerprint its content script's first read will find. */
export interface WrittenIndexedDB {
  origin: string;
  /** Written inside a frame under this top-level origin: partitioned storage. */
  topOrigin?: string;
  hash: string;
}

/** Write one origin's databases from `target` (the setup page, or a frame of it); resolves with their fingerprint. */
async function writeDatabases(target: Page | Frame, o: OriginStorage): Promise<string> {
  const calls = indexedDBWriteCalls(o.indexedDB ?? []);
  let hash = '';
  for (let i = 0; i < calls.length; i++) {
    hash = await target.evaluate(applyIndexedDBCall, { call: calls[i], ...(i === 0 ? { decoder: DECODER, fingerprint: FINGERPRINT_SOURCE } : {}) });
  }
  return hash;
}

/**
 * Returns the origins whose databases were written; every origin that could not be is in
 * outcome.failures. `setup` as for writeOnSetupPage (setup-page.ts), which writes partitioned
 * storage (a cross-site iframe's) from a blank frame of its origin under its top origin.
 */
export async function restoreIndexedDB(
  context: BrowserContext,
  origins: OriginStorage[],
  outcome: RestoreOutcome,
  setup?: SetupPage,
): Promise<WrittenIndexedDB[]> {
  for (const o of origins) {
    const where = o.topOrigin ? `${o.origin} under ${o.topOrigin}` : o.origin;
    for (const w of o.indexedDBWarnings ?? []) outcome.warnings.push(`${where}: ${w}`);
  }
  const written: WrittenIndexedDB[] = [];
  await writeOnSetupPage(context, origins.filter(hasIndexedDB), 'IndexedDB', outcome, setup, async (target, o) => {
    written.push({ origin: o.origin, ...(o.topOrigin ? { topOrigin: o.topOrigin } : {}), hash: await writeDatabases(target, o) });
  });
  return written;
}

/**
 * Tell the extension what the companion holds for the origins just written (their fingerprints), so
 * that a restored tab's first read of its origin finds it held instead of sending it all back (at
 * 50 MB that resend cost ~10 s of CPU across the browser, native host and companion). Best effort:
 * without it, each origin is sent whole once, as before.
 */
export async function tellExtensionIndexedDBHeld(context: BrowserContext, written: WrittenIndexedDB[]): Promise<void> {
  const worker = context.serviceWorkers().find(isRestoryWorker);
  if (!worker || written.length === 0) return;
  await worker
    .evaluate((origins) => (globalThis as unknown as { restorySeedIndexedDB?: (o: typeof origins) => void }).restorySeedIndexedDB?.(origins), written)
    .catch(() => {});
}
