/**
 * The popup's only channel: runtime messages to the background, which relays requests to the
 * companion over its native port (extension/background/popup-bridge.ts). Replies are validated here,
 * once; callers get typed results or a PopupError whose `code` they branch on.
 */
import {
  PopupReplySchema,
  PopupStatusSchema,
  type PopupErrorCode,
  type PopupMessage,
  type PopupStatus,
} from '../../shared/messages/popup.js';
import { Methods, type MethodName, type MethodParams, type MethodResult } from '../../shared/protocol.js';
import { parseMessage } from '../../shared/validate.js';

/** A failed popup request: the companion's code, or one of the extension's own (shared/messages/popup.ts). */
export class PopupError extends Error {
  constructor(
    readonly code: PopupErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'PopupError';
  }
}

async function send(message: PopupMessage, error: PopupError): Promise<unknown> {
  try {
    return await chrome.runtime.sendMessage(message);
  } catch (e) {
    // "Could not establish connection. Receiving end does not exist.": the service worker failed to start.
    error.message = `the extension's background did not answer (${e instanceof Error ? e.message : String(e)}); reload the extension`;
    throw error;
  }
}

/** The link's state; `reconnect` asks the background to try connecting now. */
export async function linkStatus(reconnect = false): Promise<PopupStatus> {
  const error = new PopupError('background_unavailable', '');
  const reply = await send({ type: 'popup-status', reconnect }, error);
  return parseMessage(PopupStatusSchema, reply, 'status from the background');
}

/** One companion request through the background. Rejects with a PopupError carrying the reply's code. */
export async function request<M extends MethodName>(method: M, params: MethodParams<M>): Promise<MethodResult<M>> {
  // Created before sending, so a failure carries the caller's stack.
  const error = new PopupError('background_unavailable', '');
  const raw = await send({ type: 'popup-request', request: { method, params } }, error);
  const reply = parseMessage(PopupReplySchema, raw, `reply to ${method}`);
  if (!reply.ok) {
    throw Object.assign(new PopupError(reply.error.code, reply.error.message), { stack: error.stack });
  }
  return parseMessage(Methods[method].result, reply.result, `${method} result`) as MethodResult<M>;
}
