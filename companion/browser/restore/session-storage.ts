/**
 * A tab's sessionStorage, written by init scripts in each of its frames before the page's own
 * scripts, only into still-empty storage, and disposed after the tab's first load (init scripts re-run
 * on every navigation, DESIGN.md). The full reasoning: restore-state.ts's header.
 */
import type { Page } from 'playwright-core';
import type { TabState } from '../../../shared/state.js';
import { storageWriteCalls, type StorageWriteCall } from './storage-writes.js';

/**
 * Runs in every frame of the tab at document start, before the page's own scripts, once per call in
 * order (init scripts run in the order they were added). Between the calls of one origin, their
 * progress waits on the window; the last call removes it, so page scripts never see it.
 */
function sessionStorageInitScript(call: StorageWriteCall & { origin: string }): void {
  try {
    if (location.origin !== call.origin) return; // another frame's entries
    const w = window as unknown as { restorySession?: { skip: boolean; part: string } };
    // Only into still-empty storage: otherwise the page (or a same-origin frame before it) has its own.
    if (call.first) w.restorySession = { skip: sessionStorage.length > 0, part: '' };
    const progress = w.restorySession;
    if (progress && !progress.skip) {
      for (const [k, v] of call.pairs) sessionStorage.setItem(k, v);
      if (call.piece !== undefined) progress.part += call.piece;
      if (call.key !== undefined) {
        sessionStorage.setItem(call.key, progress.part);
        progress.part = '';
      }
    }
    if (call.last) delete w.restorySession;
  } catch {
    // Storage access denied (sandboxed frame, opaque origin): nothing we can do from here.
  }
}

/** Run `firstLoad` with the tab's saved sessionStorage injected, and stop injecting once it is done. */
export async function withSessionStorage(page: Page, tab: TabState, firstLoad: () => Promise<void>): Promise<void> {
  const scripts: Array<{ dispose(): Promise<unknown> }> = [];
  try {
    for (const s of tab.sessionStorage) {
      if (!s.items.length) continue;
      for (const call of storageWriteCalls(s.items)) scripts.push(await page.addInitScript(sessionStorageInitScript, { ...call, origin: s.origin }));
    }
    await firstLoad();
  } finally {
    await Promise.all(scripts.map((script) => script.dispose().catch(() => {})));
  }
}
