/**
 * A tab's sessionStorage, written by an init script in each of its frames before the page's own
 * scripts, only into still-empty storage, and disposed after the tab's first load (init scripts re-run
 * on every navigation, DESIGN.md). The full reasoning: restore-state.ts's header.
 */
import type { Page } from 'playwright-core';
import type { TabState } from '../../../shared/state.js';

/** Runs in every frame of the tab at document start, before the page's own scripts. */
function sessionStorageInitScript(byOrigin: Record<string, Array<[string, string]>>): void {
  try {
    const items = byOrigin[location.origin];
    if (!items || sessionStorage.length > 0) return; // not ours, or the page already has its own
    for (const [k, v] of items) sessionStorage.setItem(k, v);
  } catch {
    // Storage access denied (sandboxed frame, opaque origin): nothing we can do from here.
  }
}

/** Run `firstLoad` with the tab's saved sessionStorage injected, and stop injecting once it is done. */
export async function withSessionStorage(page: Page, tab: TabState, firstLoad: () => Promise<void>): Promise<void> {
  const byOrigin: Record<string, Array<[string, string]>> = {};
  for (const s of tab.sessionStorage) {
    if (s.items.length) byOrigin[s.origin] = s.items.map((i): [string, string] => [i.name, i.value]);
  }
  const initScript = Object.keys(byOrigin).length ? await page.addInitScript(sessionStorageInitScript, byOrigin) : null;
  try {
    await firstLoad();
  } finally {
    await initScript?.dispose().catch(() => {});
  }
}
