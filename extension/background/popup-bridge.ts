/**
 * Popup → companion requests: a `popup-request` becomes a protocol `request` frame on the native
 * port; the matching `response` (by id) goes back to the popup. Pending requests fail when the
 * port disconnects or after REQUEST_TIMEOUT_MS.
 */
import { parseMessage } from '../../shared/validate.js';
import type { Response } from '../../shared/protocol.js';
import { PopupMessageSchema, type PopupErrorCode, type PopupReply, type PopupStatus } from '../../shared/messages/popup.js';
import type { NativeLink } from './native-link.js';

/** A resume launches a browser: generous, but a popup must not wait forever. */
const REQUEST_TIMEOUT_MS = 60_000;
const UNREACHABLE = 'Companion is not running. Start it with: restory start';

interface Pending {
  reply: (reply: PopupReply) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class PopupBridge {
  private pending = new Map<string, Pending>();

  constructor(private readonly link: NativeLink) {}

  start(): void {
    chrome.runtime.onMessage.addListener(this.onMessage);
  }

  stop(): void {
    chrome.runtime.onMessage.removeListener(this.onMessage);
    this.failAll('popup bridge stopped');
  }

  onResponse(response: Response): void {
    const pending = this.pending.get(response.id);
    if (!pending) return;
    this.pending.delete(response.id);
    clearTimeout(pending.timer);
    pending.reply(response.ok ? { ok: true, result: response.result } : { ok: false, error: response.error });
  }

  failAll(reason: string): void {
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reply(fail('companion_unreachable', `${UNREACHABLE} (${reason})`));
      this.pending.delete(id);
    }
  }

  private onMessage = (
    raw: unknown,
    sender: chrome.runtime.MessageSender,
    sendResponse: (reply: PopupReply | PopupStatus) => void,
  ): boolean | undefined => {
    const type = (raw as { type?: unknown } | null)?.type;
    if (type !== 'popup-request' && type !== 'popup-status') return undefined;
    // Our own extension pages only (the popup, or it opened in a tab): content scripts must not
    // drive the companion, and their sender.url is the web page's.
    if (sender.id !== chrome.runtime.id || !sender.url?.startsWith(chrome.runtime.getURL(''))) return undefined;
    let message;
    try {
      message = parseMessage(PopupMessageSchema, raw, 'popup message');
    } catch (e) {
      sendResponse(fail('bad_message', (e as Error).message));
      return undefined;
    }
    if (message.type === 'popup-status') {
      // connect() marks the link 'connecting' synchronously, so the reply already says so.
      if (message.reconnect && !this.link.ready) this.link.ensureConnected();
      sendResponse(this.link.status());
      return undefined;
    }
    if (!this.link.ready) {
      // Always companion_unreachable: the popup then re-reads the link status, whose lastError has
      // the precise code (host_not_installed, version_mismatch, ...) for its screen.
      const reason = this.link.lastError;
      sendResponse(fail('companion_unreachable', `${UNREACHABLE}${reason ? ` (${reason.message})` : ''}`));
      return undefined;
    }
    const id = crypto.randomUUID();
    const timer = setTimeout(() => {
      this.pending.delete(id);
      sendResponse(fail('request_timeout', `the companion did not answer ${message.request.method} within ${REQUEST_TIMEOUT_MS / 1000} s`));
    }, REQUEST_TIMEOUT_MS);
    this.pending.set(id, { reply: sendResponse, timer });
    const sent = this.link.post({ type: 'request', id, method: message.request.method, params: message.request.params });
    if (!sent) this.failAll('the native port is closed');
    return true; // keeps sendResponse valid until the companion answers
  };
}

function fail(code: PopupErrorCode, message: string): PopupReply {
  return { ok: false, error: { code, message } };
}
