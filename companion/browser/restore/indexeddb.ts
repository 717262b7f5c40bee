/**
 * IndexedDB, written into the profile before any tab opens, the way localStorage is
 * (local-storage.ts): the setup page goes to each origin's blank route-fulfilled document (no
 * network, no site scripts) and recreates every database there — deleted first, then opened at its
 * version with its stores and indexes, then filled in batches under MESSAGE_CHARS
 * (indexeddb-writes.ts). The page's own scripts later open databases that are simply there, as after
 * a normal restart, at the version they expect, so no upgrade runs.
 *
 * Only unpartitioned (top-level) storage is captured, so only that is restored. What capture could
 * not save (values it cannot encode, origins over the size cap) comes back as resume warnings.
 */
import type { BrowserContext } from 'playwright-core';
import { EXTENSION_ID, RESTORE_SETUP_PATH } from '../../../shared/constants.js';
import { decodeIndexedDBValue } from '../../../shared/indexeddb-value.js';
import type { OriginStorage } from '../../../shared/state.js';
import { applyIndexedDBCall, FINGERPRINT_SOURCE, indexedDBWriteCalls } from './indexeddb-writes.js';
import { answerSetupRequest, endingAt, type SetupPage } from './local-storage.js';
import { firstLine } from './strings.js';
import type { RestoreOutcome } from './types.js';

/** The decoder's source, installed on the setup page's window once per origin (with its first call). */
const DECODER = decodeIndexedDBValue.toString();

export function hasIndexedDB(o: OriginStorage): boolean {
  return !o.topOrigin && (o.indexedDB?.length ?? 0) > 0;
}

/** An origin whose databases were written, and the fingerprint its content script's first read will find. */
export interface WrittenIndexedDB {
  origin: string;
  hash: string;
}

/**
 * Returns the origins whose databases were written; every origin that could not be is in
 * outcome.failures. `setup` as for restoreLocalStorage (local-storage.ts).
 */
export async function restoreIndexedDB(
  context: BrowserContext,
  origins: OriginStorage[],
  outcome: RestoreOutcome,
  setup?: SetupPage,
): Promise<WrittenIndexedDB[]> {
  for (const o of origins) {
    for (const w of o.indexedDBWarnings ?? []) outcome.warnings.push(`${o.origin}: ${w}`);
  }
  const wanted = endingAt(origins.filter(hasIndexedDB), setup?.continuesAt);
  if (wanted.length === 0) return [];
  const written: WrittenIndexedDB[] = [];
  const page = setup?.page ?? (await context.newPage());
  try {
    await page.route('**/*', answerSetupRequest);
    for (const o of wanted) {
      if (!/^https?:\/\//.test(o.origin)) {
        outcome.failures.push({ what: `IndexedDB of ${o.origin}`, error: 'only http(s) origins can be restored' });
        continue;
      }
      try {
        await page.goto(new URL(RESTORE_SETUP_PATH, o.origin).href, { waitUntil: 'commit' });
        const calls = indexedDBWriteCalls(o.indexedDB ?? []);
        let hash = '';
        for (let i = 0; i < calls.length; i++) {
          hash = await page.evaluate(applyIndexedDBCall, { call: calls[i], ...(i === 0 ? { decoder: DECODER, fingerprint: FINGERPRINT_SOURCE } : {}) });
        }
        written.push({ origin: o.origin, hash });
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
  const worker = context.serviceWorkers().find((w) => w.url().startsWith(`chrome-extension://${EXTENSION_ID}/`));
  if (!worker || written.length === 0) return;
  await worker
    .evaluate((origins) => (globalThis as unknown as { restorySeedIndexedDB?: (o: typeof origins) => void }).restorySeedIndexedDB?.(origins), written)
    .catch(() => {});
}
