/**
 * The envelopes that cross a process boundary: extension ⇄ native host ⇄ companion socket ⇄ CLI.
 * One source of truth for both ends: the method map (params and result per method), one envelope
 * schema per direction, and the version check. Each boundary validates here and nowhere else
 * (shared/validate.ts `parseMessage`), so handlers work with typed values only. What the envelopes
 * carry is defined beside them: capture events in capture-events.ts, errors in errors.ts. What a
 * socket client alone needs is in socket-protocol.ts (re-exported here).
 */
import { z } from 'zod';
import { SequencedEventSchema } from './capture-events.js';
import { PlaywrightStorageStateSchema, RestoryExportSchema, SessionStateSchema } from './state.js';
import { METHOD_NAMES, RequestSchema, StatelessMethods } from './socket-protocol.js';

export * from './socket-protocol.js';

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

export const ExportFormatSchema = z.enum(['restory', 'playwright']);

/**
 * Method → params and result schemas: the ones that carry no session state (socket-protocol.ts)
 * and these. Add a method here or there and both ends are typed from it.
 */
export const Methods = {
  ...StatelessMethods,
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
  /** A restored-from-file session (`restory import`); it starts `recoverable`. */
  import: {
    params: z.object({ name: z.string(), state: SessionStateSchema }),
    result: z.object({ sessionId: z.string() }),
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
} as const;
export type MethodName = keyof typeof Methods;
export type MethodParams<M extends MethodName> = z.infer<(typeof Methods)[M]['params']>;
export type MethodResult<M extends MethodName> = z.infer<(typeof Methods)[M]['result']>;
/** Both lists name the same methods, or this does not compile. */
const sameNames: [MethodName, (typeof METHOD_NAMES)[number]] extends [(typeof METHOD_NAMES)[number], MethodName] ? true : never = true;
void sameNames;

// ---------------------------------------------------------------------------------------------
// The extension's envelope (the companion's, and the socket's, are in socket-protocol.ts).
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

