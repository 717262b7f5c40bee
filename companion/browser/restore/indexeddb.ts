/**
 * IndexedDB, written into the profile before any tab opens, the way localStorage is
 * (local-storage.ts): the setup page goes to each origin's blank route-fulfilled document (no
 * network, no site scripts) and recreates every database there — deleted first, then opened at its
 * version with its stores and indexes, then filled in batches under MESSAGE_CHARS
 * (indexeddb-writes.ts). The page's own scripts later open databases that are simply there, as after
 * a normal restart, at the version they expect, so no upgrade runs.
 *
 * Partitioned storage (a cross-site iframe's) is written from a blank frame of its origin under its
 * top origin, as localStorage is. What capture could not save (values it cannot encode, origins over
 * the size cap) comes back as resume warnings.
 */
import type { BrowserContext, Frame, Page } from 'playwright-core';
import { RESTORE_SETUP_PATH } from '../../../shared/constants.js';
import { isRestoryWorker } from '../launch.js';
import { decodeIndexedDBValue } from '../../../shared/indexeddb-value.js';
import type { OriginStorage } from '../../../shared/state.js';
import { applyIndexedDBCall, FINGERPRINT_SOURCE, indexedDBWriteCalls } from './indexeddb-writes.js';
import { answerSetupRequest, partitionFrames, setupOrder, type SetupPage } from './local-storage.js';
import { firstLine } from './strings.js';
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
 * outcome.failures. `setup` as for restoreLocalStorage (local-storage.ts). Partitioned storage (a
 * cross-site iframe's) is written from a blank frame of its origin under its top origin, first, as
 * for localStorage.
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
  const { plain, partitioned } = setupOrder(origins.filter(hasIndexedDB), 'IndexedDB', outcome, setup);
  if (plain.length === 0 && partitioned.size === 0) return [];
  const written: WrittenIndexedDB[] = [];
  const page = setup?.page ?? (await context.newPage());
  try {
    await page.route('**/*', answerSetupRequest);
    for (const [topOrigin, list] of partitioned) {
      const frames = await partitionFrames(page, topOrigin, list.map((o) => o.origin)).catch((e: Error) => e);
      for (const o of list) {
        try {
          if (frames instanceof Error) throw frames;
          const frame = frames.get(o.origin);
          if (!frame) throw new Error('its frame did not load');
          written.push({ origin: o.origin, topOrigin, hash: await writeDatabases(frame, o) });
        } catch (e) {
          outcome.failures.push({ what: `IndexedDB of ${o.origin} under ${topOrigin}`, error: firstLine(e) });
        }
      }
    }
    for (const o of plain) {
      try {
        await page.goto(new URL(RESTORE_SETUP_PATH, o.origin).href, { waitUntil: 'commit' });
        written.push({ origin: o.origin, hash: await writeDatabases(page, o) });
      } catch (e) {
        outcome.failures.push({ what: `IndexedDB of ${o.origin}`, error: firstLine(e) });
      }
    }
  } finally {
    // As for localStorage: leave the origin by navigating before the page may be closed, unless
    // the page continues there as a tab.
    if (!setup?.continuesAt) await page.goto('about:blank').catch(() => {});
    await page.unroute('**/*', answerSetupRequest).catch(() => {});
    if (!setup) await page.close().catch(() => {});
  }
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
