/**
 * Every message that crosses a process boundary: extension ⇄ native host ⇄ companion socket ⇄ CLI.
 * One source of truth for both ends; each boundary validates here and nowhere else
 * (`parseMessage`), so handlers work with typed values only.
 */
import { z } from 'zod';
import { PROTOCOL_VERSION } from './constants.js';
import { CookieSchema, SessionStateSchema, SessionStatusSchema, SessionSummarySchema } from './state.js';

// ---------------------------------------------------------------------------------------------
// Capture events (extension → companion). The companion folds them into the live session state
// (companion/capture/live-state.ts); they are also what the durability journal records.
// ---------------------------------------------------------------------------------------------

const StorageAreaSchema = z.enum(['local', 'session']);
const StorageItemsSchema = z.record(z.string(), z.string());

/** Where a storage write happened. `topOrigin` only for frames whose top-level site differs (partitioned storage). */
const StorageScope = {
  tabId: z.number().int(),
  frameId: z.number().int(),
  origin: z.string(),
  topOrigin: z.string().optional(),
  area: StorageAreaSchema,
};

export const CaptureEventSchema = z.discriminatedUnion('kind', [
  /** Everything one origin holds in one area: sent on load and whenever capture lost track. */
  z.object({ kind: z.literal('storage.full'), ...StorageScope, items: StorageItemsSchema }),
  /** Applied in order: `clear` (if true), then `remove`, then `set`. */
  z.object({
    kind: z.literal('storage.change'),
    ...StorageScope,
    clear: z.boolean().default(false),
    set: StorageItemsSchema.default({}),
    remove: z.array(z.string()).default([]),
  }),
  z.object({ kind: z.literal('cookies.all'), cookies: z.array(CookieSchema) }),
  z.object({ kind: z.literal('cookie.change'), cookie: CookieSchema, removed: z.boolean() }),
  /**
   * A top-frame navigation. `how`: a new document committed, a History API update (pushState /
   * replaceState) or a fragment change. `transition`/`qualifiers` as chrome.webNavigation reports them
   * ('forward_back' tells Back/Forward from a new entry).
   */
  z.object({
    kind: z.literal('navigation'),
    tabId: z.number().int(),
    url: z.string(),
    how: z.enum(['commit', 'history', 'fragment']),
    transition: z.string().optional(),
    qualifiers: z.array(z.string()).default([]),
  }),
  /** The complete set of tabs and windows, sent after any tab or window change (debounced). */
  z.object({
    kind: z.literal('tabs'),
    tabs: z.array(
      z.object({
        tabId: z.number().int(),
        windowId: z.number().int(),
        index: z.number().int().nonnegative(),
        active: z.boolean(),
        pinned: z.boolean(),
        url: z.string(),
        title: z.string().default(''),
      }),
    ),
    windows: z.array(
      z.object({
        windowId: z.number().int(),
        left: z.number().int().optional(),
        top: z.number().int().optional(),
        width: z.number().int().optional(),
        height: z.number().int().optional(),
        state: z.enum(['normal', 'minimized', 'maximized', 'fullscreen']).default('normal'),
        focused: z.boolean().default(false),
      }),
    ),
  }),
  z.object({ kind: z.literal('scroll'), tabId: z.number().int(), x: z.number(), y: z.number() }),
  z.object({
    kind: z.literal('viewport'),
    tabId: z.number().int(),
    width: z.number().int().positive(),
    height: z.number().int().positive(),
  }),
]);
export type CaptureEvent = z.infer<typeof CaptureEventSchema>;
export type CaptureEventInput = z.input<typeof CaptureEventSchema>;

export const SequencedEventSchema = z.object({
  /** Per extension instance, strictly increasing; the companion ignores seq ≤ what it stored. */
  seq: z.number().int().positive(),
  /** Unix ms at capture. */
  at: z.number(),
  event: CaptureEventSchema,
});
export type SequencedEvent = z.infer<typeof SequencedEventSchema>;

// ---------------------------------------------------------------------------------------------
// Errors: one shape everywhere, so a failure crosses boundaries with its code and message.
// ---------------------------------------------------------------------------------------------

export const ErrorCodeSchema = z.enum([
  'bad_frame',
  'bad_message',
  'version_mismatch',
  'unauthorized',
  'unknown_session',
  'invalid_state',
  'companion_unreachable',
  'launch_failed',
  'storage_failed',
  'internal',
]);
export type ErrorCode = z.infer<typeof ErrorCodeSchema>;
export const ErrorInfoSchema = z.object({ code: ErrorCodeSchema, message: z.string() });
export type ErrorInfo = z.infer<typeof ErrorInfoSchema>;

/** An error that carries a protocol code; thrown by handlers and serialised into replies. */
export class RestoryError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RestoryError';
  }
  toInfo(): ErrorInfo {
    return { code: this.code, message: this.message };
  }
}

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
  status: {
    params: z.object({}),
    result: z.object({
      pid: z.number().int(),
      dataDir: z.string(),
      version: z.string(),
      activeSessions: z.array(z.string()),
    }),
  },
} as const;
export type MethodName = keyof typeof Methods;
export type MethodParams<M extends MethodName> = z.infer<(typeof Methods)[M]['params']>;
export type MethodResult<M extends MethodName> = z.infer<(typeof Methods)[M]['result']>;

const RequestSchema = z.object({
  type: z.literal('request'),
  id: z.string().min(1),
  method: z.enum(Object.keys(Methods) as [MethodName, ...MethodName[]]),
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

export const SocketAuthReplySchema = z.union([
  z.object({ type: z.literal('auth-ok'), v: z.number().int() }),
  z.object({ type: z.literal('error'), error: ErrorInfoSchema }),
]);

/** Validate `value` against `schema`, or throw a RestoryError('bad_message') readable by a human. */
export function parseMessage<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) {
    // A batch of 100,000 bad events has 300,000 issues: name the first few, count the rest, so the
    // error stays readable and small enough to travel back in a frame.
    const issues = result.error.issues;
    const shown = z.prettifyError(new z.ZodError(issues.slice(0, MAX_ISSUES_SHOWN)));
    const more = issues.length > MAX_ISSUES_SHOWN ? `\n(and ${issues.length - MAX_ISSUES_SHOWN} more problems)` : '';
    throw new RestoryError('bad_message', `invalid ${what}: ${shown}${more}`);
  }
  return result.data;
}
const MAX_ISSUES_SHOWN = 10;

export function versionMismatch(theirs: number): RestoryError {
  return new RestoryError(
    'version_mismatch',
    `protocol version ${theirs} is not supported (this side speaks ${PROTOCOL_VERSION}); update restory and reload the extension`,
  );
}
