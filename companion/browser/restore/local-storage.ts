/**
 * localStorage, plain and partitioned, written into the profile before any tab opens, through the
 * setup page (setup-page.ts).
 */
import type { BrowserContext, Frame, Page } from 'playwright-core';
import type { OriginStorage, StorageItem } from '../../../shared/state.js';
import { writeOnSetupPage, type SetupPage } from './setup-page.js';
import { storageWriteCalls, type StorageWriteCall } from './storage-writes.js';
import type { RestoreOutcome } from './types.js';

export type { SetupPage } from './setup-page.js';

/** Runs in the setup page. A long value's pieces wait on its window, which no site code shares. */
function applyWrite(call: StorageWriteCall): void {
  const w = window as unknown as { restoryPart?: string };
  if (call.first) localStorage.clear(); // the snapshot is the truth, also in a used profile
  for (const [k, v] of call.pairs) localStorage.setItem(k, v);
  if (call.piece !== undefined) w.restoryPart = (w.restoryPart ?? '') + call.piece;
  if (call.key !== undefined) localStorage.setItem(call.key, w.restoryPart ?? '');
  if (call.key !== undefined || call.last) delete w.restoryPart;
}

/** Replace the origin's localStorage with `items`: one call when it fits (the usual case), else several. */
async function writeLocalStorage(target: Page | Frame, items: StorageItem[]): Promise<void> {
  for (const call of storageWriteCalls(items)) await target.evaluate(applyWrite, call);
}

/**
 * Returns how many origins were written; every origin that could not be is in outcome.failures.
 * `setup` as for writeOnSetupPage (setup-page.ts).
 */
export async function restoreLocalStorage(
  context: BrowserContext,
  origins: OriginStorage[],
  outcome: RestoreOutcome,
  setup?: SetupPage,
): Promise<number> {
  let restored = 0;
  await writeOnSetupPage(context, origins.filter((o) => o.localStorage.length > 0), 'localStorage', outcome, setup, async (target, o) => {
    await writeLocalStorage(target, o.localStorage);
    restored++;
  });
  return restored;
}
