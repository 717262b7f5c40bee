/** What restoreState takes (options) and what it reports back (outcome), shared by its steps. */
import type { Page } from 'playwright-core';
import type { ResumeReport } from '../../../shared/protocol.js';

export interface RestoreOptions {
  /** Per tab: how long its page may take to load (and each history stub). Default 15 s. */
  tabTimeoutMs?: number;
  /** How long to keep trying to reach the saved scroll position after load. Default 3 s. */
  scrollTimeoutMs?: number;
  /** Tabs loaded at the same time. Default 4. */
  concurrency?: number;
  /** At most this many back entries per tab (Chromium keeps 50 in all). Default 49. */
  maxBackEntries?: number;
  /** At most this many forward entries per tab. Default 49. */
  maxForwardEntries?: number;
  /** Told when each step is done (cookies, localStorage, tabs), with the time since the start. */
  onProgress?: (line: string) => void;
}

export type TabOutcome = ResumeReport['tabs'][number];

/**
 * Filled in as the steps go: each step adds its own failures and warnings here instead of throwing,
 * so one broken piece (a cookie, an origin, a tab) does not stop the rest.
 */
export interface RestoreOutcome extends Pick<ResumeReport, 'cookies' | 'origins' | 'tabs' | 'failures' | 'warnings'> {
  /**
   * The tabs' pages in tab order; a page whose load failed stays open on its error page. Only a tab
   * whose page could not even be created has none, so normally pages[i] belongs to tabs[i].
   */
  pages: Page[];
  activePage?: Page;
  durationMs: number;
  /** What the restore left running over the Playwright connection (forms.ts: iframes inserted after load); it ends by itself within seconds. */
  followUps: Promise<void>[];
}
