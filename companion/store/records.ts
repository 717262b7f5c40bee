/** How a state maps onto a session's summary columns and a snapshot's content hash. */
import { createHash } from 'node:crypto';
import type { SessionState, TabState } from '../../shared/state.js';

/** The tab a listing shows: the active tab of the focused window, else any active tab, else the first. */
export function currentTab(state: Pick<SessionState, 'tabs' | 'windows'>): TabState | undefined {
  const focused = state.windows.findIndex((w) => w.focused);
  return (
    state.tabs.find((t) => t.active && t.windowIndex === focused) ?? state.tabs.find((t) => t.active) ?? state.tabs[0]
  );
}

export function stateDigest(state: Pick<SessionState, 'tabs' | 'windows'>): { currentUrl: string | null; currentTitle: string | null; tabCount: number } {
  const tab = currentTab(state);
  return { currentUrl: tab?.url ?? null, currentTitle: tab?.title || null, tabCount: state.tabs.length };
}

/** Hash of what a snapshot restores; `capturedAt` is left out so that an unchanged state dedupes. */
export function contentHash(state: SessionState): string {
  return createHash('sha256')
    .update(JSON.stringify({ ...state, capturedAt: 0 }))
    .digest('hex');
}

