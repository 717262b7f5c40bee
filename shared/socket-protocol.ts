/**
 * The part of the protocol a socket client needs (the CLI beside a running companion, the MCP
 * server's remote backend): the envelopes exchanged with the companion, and the methods whose
 * messages carry no session state. protocol.ts adds the methods that do (resume, import, export)
 * and the extension's capture stream; it re-exports all of this, so the companion and the
 * extension import protocol.ts alone. Kept apart because the session state's schemas (state.ts,
 * capture-events.ts) cost more to build than a `restory list` beside a companion may take in all.
 */
import { z } from 'zod';
import { PROTOCOL_VERSION } from './constants.js';
import { ErrorInfoSchema } from './error-schemas.js';
import { RestoryError } from './errors.js';
import { SessionStatusSchema, SessionSummarySchema, SnapshotReasonSchema } from './session-summary.js';

/** One stored snapshot as `restory snapshots` and the MCP server's `session_snapshots` show it: counts, never values. */
export const SnapshotRowSchema = z.object({
  id: z.number().int(),
  takenAt: z.number(),
  reason: SnapshotReasonSchema,
  bytes: z.number().int().nonnegative(),
  tabs: z.number().int().nonnegative(),
  cookies: z.number().int().nonnegative(),
  origins: z.number().int().nonnegative(),
  url: z.string().nullable(),
});
export type SnapshotRow = z.infer<typeof SnapshotRowSchema>;

/** Methods whose params and results carry no cookies, storage or tabs: their schemas build fast. */
export const StatelessMethods = {
  list: {
    params: z.object({ state: SessionStatusSchema.optional() }),
    /** currentSessionId: the session of the browser asking (the popup marks it), when known. */
    result: z.object({ sessions: z.array(SessionSummarySchema), currentSessionId: z.string().optional() }),
  },
  close: { params: z.object({ sessionId: z.string() }), result: z.object({}) },
  snapshot: {
    params: z.object({ sessionId: z.string() }),
    /** null when the state had not changed since the newest snapshot. */
    result: z.object({ snapshotId: z.number().int().nullable() }),
  },
  /** A new session in the companion's own browser (as `restory start`); the caller drives it over CDP. */
  start: {
    params: z.object({
      urls: z.array(z.string().refine((u) => URL.canParse(u), 'a whole URL, e.g. https://example.com')).max(100).optional(),
      name: z.string().min(1).max(200).optional(),
      headed: z.boolean().optional(),
      cdpPort: z.number().int().min(0).max(65535).optional(),
    }),
    result: z.object({ sessionId: z.string(), cdpEndpoint: z.string() }),
  },
  /** A session's stored snapshots, newest first. */
  snapshots: {
    params: z.object({ sessionId: z.string() }),
    result: z.object({ snapshots: z.array(SnapshotRowSchema) }),
  },
  status: {
    params: z.object({}),
    result: z.object({
      pid: z.number().int(),
      dataDir: z.string(),
      version: z.string(),
      activeSessions: z.array(z.string()),
      /** The browsers this companion runs (launched or adopted). */
      browsers: z.array(z.object({ sessionId: z.string(), cdpEndpoint: z.string(), pid: z.number().int() })),
    }),
  },
} as const;

/** Every method's name (protocol.ts checks that `Methods` has exactly these), for envelopes that name one. */
export const METHOD_NAMES = ['list', 'close', 'snapshot', 'start', 'snapshots', 'status', 'resume', 'import', 'export'] as const;
export const MethodNameSchema = z.enum(METHOD_NAMES);

export const RequestSchema = z.object({
  type: z.literal('request'),
  id: z.string().min(1),
  method: MethodNameSchema,
  params: z.unknown(),
});
export type Request = z.infer<typeof RequestSchema>;

const ResponseSchema = z.union([
  z.object({ type: z.literal('response'), id: z.string(), ok: z.literal(true), result: z.unknown() }),
  z.object({ type: z.literal('response'), id: z.string(), ok: z.literal(false), error: ErrorInfoSchema }),
]);
export type Response = z.infer<typeof ResponseSchema>;

// ---------------------------------------------------------------------------------------------
// Envelopes per direction (the extension's own, with its capture stream, are in protocol.ts).
// ---------------------------------------------------------------------------------------------

/** Companion → extension. Each frame must stay under MAX_FRAME_TO_BROWSER. */
export const CompanionMessageSchema = z.union([
  z.object({
    type: z.literal('welcome'),
    v: z.number().int(),
    sessionId: z.string(),
    /** Highest seq of this instance already durable: the extension drops its buffer up to here. */
    ackedSeq: z.number().int().nonnegative(),
  }),
  /** Every event with seq ≤ this is durable (survives SIGKILL of the companion). */
  z.object({ type: z.literal('ack'), seq: z.number().int().nonnegative() }),
  /** The companion lost track (e.g. it restarted): send full storage, cookies and tabs again. */
  z.object({ type: z.literal('resync') }),
  ResponseSchema,
  /** Unsolicited error, e.g. for a frame that could not be parsed; the connection stays open. */
  z.object({ type: z.literal('error'), error: ErrorInfoSchema }),
]);
export type CompanionMessage = z.infer<typeof CompanionMessageSchema>;

/**
 * First frame of every socket connection. The native host sends role 'host' and forwards the
 * extension's traffic after it; CLI/library clients send role 'client' and then requests.
 */
export const SocketAuthSchema = z.object({
  type: z.literal('auth'),
  v: z.number().int(),
  token: z.string().min(16),
  role: z.enum(['host', 'client']),
  /** Set by a host whose browser the companion launched (from RESTORY_SESSION_ID). */
  sessionId: z.string().optional(),
  /** The calling extension's origin as Chromium passed it to the host. */
  origin: z.string().optional(),
});
export type SocketAuth = z.infer<typeof SocketAuthSchema>;

/** The companion's answer to `auth`: accepted, or why not (then it closes the connection). */
export const SocketAuthReplySchema = z.union([
  z.object({ type: z.literal('auth-ok'), v: z.number().int() }),
  z.object({ type: z.literal('error'), error: ErrorInfoSchema }),
]);
export type SocketAuthReply = z.infer<typeof SocketAuthReplySchema>;

// ---------------------------------------------------------------------------------------------
// Version: both ends refuse a peer that speaks another PROTOCOL_VERSION (shared/constants.ts).
// ---------------------------------------------------------------------------------------------

export function versionMismatch(theirs: number): RestoryError {
  return new RestoryError(
    'version_mismatch',
    `protocol version ${theirs} is not supported (this side speaks ${PROTOCOL_VERSION}); update restory and reload the extension`,
  );
}
