/**
 * The envelopes that cross a process boundary: extension ⇄ native host ⇄ companion socket ⇄ CLI.
 * One source of truth for both ends: the method map (params and result per method), one envelope
 * schema per direction, and the version check. Each boundary validates here and nowhere else
 * (shared/validate.ts `parseMessage`), so handlers work with typed values only. What the envelopes
 * carry is defined beside them: capture events in capture-events.ts, errors in errors.ts.
 */
import { z } from 'zod';
import { SequencedEventSchema } from './capture-events.js';
import { PROTOCOL_VERSION } from './constants.js';
import { ErrorInfoSchema } from './error-schemas.js';
import { RestoryError } from './errors.js';
import { PlaywrightStorageStateSchema, RestoryExportSchema, SessionStateSchema, SessionStatusSchema, SessionSummarySchema, SnapshotReasonSchema } from './state.js';

// ---------------------------------------------------------------------------------------------
// Requests (popup via the native port, or a CLI client on the socket) → response.
// ---------------------------------------------------------------------------------------------

export const ResumeReportSchema = z.object({
  sessionId: z.string(),
  snapshotId: z.number().int(),
  warnings: z.array(z.string()),
  cookies: z.number().int(),
  origins: z.number().int(),
  tabs: z.array(z.object({ url: z.string(), ok: z.boolean(), error: z.string().optional() })),
  /** Anything else that could not be restored (a cookie Chromium refused, an origin's storage…). */
  failures: z.array(z.object({ what: z.string(), error: z.string() })),
  cdpEndpoint: z.string().optional(),
});
export type ResumeReport = z.infer<typeof ResumeReportSchema>;

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

export const ExportFormatSchema = z.enum(['restory', 'playwright']);

/** Method → params and result schemas. Add a method here and both ends are typed from it. */
export const Methods = {
  list: {
    params: z.object({ state: SessionStatusSchema.optional() }),
    /** currentSessionId: the session of the browser asking (the popup marks it), when known. */
    result: z.object({ sessions: z.array(SessionSummarySchema), currentSessionId: z.string().optional() }),
  },
  resume: {
    params: z.object({
      sessionId: z.string(),
      snapshotId: z.number().int().optional(),
      headed: z.boolean().optional(),
      /** CDP on 127.0.0.1:P for the resumed browser; a free port when absent. */
      cdpPort: z.number().int().min(0).max(65535).optional(),
    }),
    result: ResumeReportSchema,
  },
  close: { params: z.object({ sessionId: z.string() }), result: z.object({}) },
  snapshot: {
    params: z.object({ sessionId: z.string() }),
    /** null when the state had not changed since the newest snapshot. */
    result: z.object({ snapshotId: z.number().int().nullable() }),
  },
  /** A restored-from-file session (`restory import`); it starts `recoverable`. */
  import: {
    params: z.object({ name: z.string(), state: SessionStateSchema }),
    result: z.object({ sessionId: z.string() }),
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
  /**
   * A snapshot (the newest without snapshotId) in an export format. The result holds cookie and
   * storage values: it travels only over the owner-only socket, and a reply over MAX_FRAME_SOCKET
   * is refused as an error rather than sent.
   */
  export: {
    params: z.object({ sessionId: z.string(), snapshotId: z.number().int().optional(), format: ExportFormatSchema }),
    result: z.union([RestoryExportSchema, PlaywrightStorageStateSchema]),
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
export type MethodName = keyof typeof Methods;
export type MethodParams<M extends MethodName> = z.infer<(typeof Methods)[M]['params']>;
export type MethodResult<M extends MethodName> = z.infer<(typeof Methods)[M]['result']>;

/** The method names, derived from `Methods`, for envelopes that name a method (here and the popup's). */
export const MethodNameSchema = z.enum(Object.keys(Methods) as [MethodName, ...MethodName[]]);

const RequestSchema = z.object({
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
// Envelopes per direction.
// ---------------------------------------------------------------------------------------------

/** Extension → companion (through the native host). */
export const ExtensionMessageSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('hello'),
    v: z.number().int(),
    /** Random id the extension keeps in its profile: which browser this stream comes from. */
    instanceId: z.string().min(8),
    extensionVersion: z.string(),
  }),
  z.object({ type: z.literal('events'), batch: z.array(SequencedEventSchema).min(1) }),
  RequestSchema,
]);
export type ExtensionMessage = z.infer<typeof ExtensionMessageSchema>;

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
