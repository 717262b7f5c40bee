/** What the store hands out, and how rows and states map onto it. */
import { createHash } from 'node:crypto';
import type { SessionState, SessionStatus, SessionSummary, SnapshotReason, TabState } from '../../shared/state.js';
import type { LiveState } from '../session-state/live-state.js';

export interface SessionRecord {
  id: string;
  name: string;
  status: SessionStatus;
  createdAt: number;
  lastActivityAt: number;
  lastSnapshotAt: number | null;
  /** As of the last checkpoint or snapshot; `toSummary(record, live)` gives the live value. */
  currentUrl: string | null;
  currentTitle: string | null;
  tabCount: number;
  lastError: string | null;
}

/** A snapshot without its state: what listings show. */
export interface SnapshotInfo {
  id: number;
  sessionId: string;
  takenAt: number;
  reason: SnapshotReason;
  hash: string;
  /** Size of the state's JSON. */
  bytes: number;
}

export interface SnapshotRecord extends SnapshotInfo {
  state: SessionState;
}

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

export function toSummary(record: SessionRecord, live?: LiveState): SessionSummary {
  const digest = live
    ? stateDigest(live.layout())
    : { currentUrl: record.currentUrl, currentTitle: record.currentTitle, tabCount: record.tabCount };
  return {
    id: record.id,
    name: record.name,
    state: record.status,
    createdAt: record.createdAt,
    lastActivityAt: record.lastActivityAt,
    lastSnapshotAt: record.lastSnapshotAt,
    tabCount: digest.tabCount,
    currentUrl: digest.currentUrl,
    currentTitle: digest.currentTitle,
    lastError: record.lastError,
  };
}
