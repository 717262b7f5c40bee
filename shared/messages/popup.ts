/**
 * Popup ⇄ background messages (runtime messaging inside the extension). The background forwards a
 * `popup-request` to the companion as a protocol `request` frame and answers with its `response`.
 * Validated by the background on receipt; the popup validates the reply.
 */
import { z } from 'zod';
import { ErrorInfoSchema } from '../errors.js';
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

export const PopupReplySchema = z.union([
  z.object({ ok: z.literal(true), result: z.unknown() }),
  z.object({ ok: z.literal(false), error: ErrorInfoSchema }),
]);
export type PopupReply = z.infer<typeof PopupReplySchema>;

export const PopupStatusSchema = z.object({
  state: z.enum(['disconnected', 'connecting', 'ready']),
  sessionId: z.string().nullable(),
  lastError: z.string().nullable(),
});
export type PopupStatus = z.infer<typeof PopupStatusSchema>;
