/**
 * Popup ⇄ background messages (runtime messaging inside the extension). The background forwards a
 * `popup-request` to the companion as a protocol `request` frame and answers with its `response`.
 * Validated by the background on receipt; the popup validates the reply.
 */
import { z } from 'zod';
import { ErrorCodeSchema } from '../error-schemas.js';
import { MethodNameSchema } from '../protocol.js';

export const PopupMessageSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('popup-request'),
    request: z.object({ method: MethodNameSchema, params: z.unknown() }),
  }),
  /**
   * Connection state for the popup's header. `reconnect`: if not connected, try now instead of
   * waiting out the link's backoff (up to 10 s), e.g. when the user just started the companion.
   */
  z.object({ type: z.literal('popup-status'), reconnect: z.boolean().optional() }),
]);
export type PopupMessage = z.infer<typeof PopupMessageSchema>;

/**
 * What the popup branches on: the protocol's codes (shared/errors.ts) plus those only the extension
 * knows. The popup never reads `message` to decide anything; it is shown as the details.
 */
export const PopupErrorCodeSchema = z.enum([
  ...ErrorCodeSchema.options,
  /** Chromium found no host manifest for this profile, or one that does not allow this extension. */
  'host_not_installed',
  /** The host process ended without saying why (it relays `companion_unreachable` when it knows). */
  'host_exited',
  /** The companion took longer than the bridge waits; the request itself may still complete. */
  'request_timeout',
  /** Raised in the popup itself: the background did not answer a runtime message. */
  'background_unavailable',
]);
export type PopupErrorCode = z.infer<typeof PopupErrorCodeSchema>;

export const PopupErrorSchema = z.object({ code: PopupErrorCodeSchema, message: z.string() });
export type PopupErrorInfo = z.infer<typeof PopupErrorSchema>;

export const PopupReplySchema = z.union([
  z.object({ ok: z.literal(true), result: z.unknown() }),
  z.object({ ok: z.literal(false), error: PopupErrorSchema }),
]);
export type PopupReply = z.infer<typeof PopupReplySchema>;

export const PopupStatusSchema = z.object({
  state: z.enum(['disconnected', 'connecting', 'ready']),
  sessionId: z.string().nullable(),
  /** Why the link is not ready (the latest failure), or null. */
  lastError: PopupErrorSchema.nullable(),
});
export type PopupStatus = z.infer<typeof PopupStatusSchema>;
