/**
 * What listings show of a session (`restory list`, the popup, the socket's `list`), apart from
 * state.ts, whose schemas of the state itself (cookies, storage, tabs, forms, IndexedDB) a listing
 * never needs and which cost tens of ms to build at every CLI start (README → CLI start-up).
 */
import { z } from 'zod';

/** Session lifecycle; see README "Session states". */
export const SessionStatusSchema = z.enum(['active', 'closed', 'error', 'recoverable', 'stale', 'failed']);
export type SessionStatus = z.infer<typeof SessionStatusSchema>;

export const SnapshotReasonSchema = z.enum(['interval', 'navigation', 'manual', 'shutdown', 'import', 'resume', 'recovery']);
export type SnapshotReason = z.infer<typeof SnapshotReasonSchema>;

/** What `list` shows of a session, and what the popup receives. */
export const SessionSummarySchema = z.object({
  id: z.string(),
  name: z.string(),
  state: SessionStatusSchema,
  createdAt: z.number(),
  lastActivityAt: z.number(),
  lastSnapshotAt: z.number().nullable(),
  tabCount: z.number().int().nonnegative(),
  currentUrl: z.string().nullable(),
  currentTitle: z.string().nullable(),
  lastError: z.string().nullable(),
  /** While the session's browser runs: where Playwright's connectOverCDP reaches it (127.0.0.1). */
  cdpEndpoint: z.string().optional(),
  /**
   * Set once storage was left out of the session because it reached its storage limit
   * (config sessionMaxStorageBytes): when that first happened, and the limit in bytes.
   */
  storageLimit: z.object({ at: z.number(), bytes: z.number().int().positive() }).optional(),
});
export type SessionSummary = z.infer<typeof SessionSummarySchema>;
