/** How a state maps onto a session's summary columns (and its last error) and a snapshot's content hash. */
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

/** Longest `lastError` kept: a listing column, not a log. */
export const LAST_ERROR_MAX = 300;

// CSI (colours, cursor moves), OSC (titles, links; ended by BEL or ST) and the other two-byte escapes.
const ANSI_ESCAPE = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-Z\\-_]/g;
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/**
 * A session's `lastError` as it is stored and shown: the first non-empty line of `text`, without
 * terminal escapes or other control characters, trimmed to LAST_ERROR_MAX characters. Errors from
 * Playwright and Chromium come with colours and a multi-line call log, which would break `list`'s
 * table and paint the user's terminal.
 */
export function errorLine(text: string): string {
  const line = text.replace(ANSI_ESCAPE, '').split(/\r?\n|\r/).map((l) => l.replace(CONTROL, ' ').trim()).find((l) => l.length > 0) ?? '';
  const chars = [...line];
  return chars.length > LAST_ERROR_MAX ? chars.slice(0, LAST_ERROR_MAX - 1).join('').trimEnd() + '…' : line;
}

/** A session record's `storageLimit` from its two columns (both null until the limit was reached). */
export function storageLimitOf(at: unknown, bytes: unknown): { storageLimit?: { at: number; bytes: number } } {
  return at === null || at === undefined || bytes === null || bytes === undefined ? {} : { storageLimit: { at: Number(at), bytes: Number(bytes) } };
}
