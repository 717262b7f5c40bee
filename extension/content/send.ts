/**
 * Content → background transport. One-shot runtime messages rather than a long-lived port: they
 * wake the service worker if it was stopped, so nothing has to reconnect, and messages from one
 * frame arrive in order. A failure (extension reloaded, context invalidated) must never surface in
 * the page.
 */
import type { ContentMessage } from '../../shared/messages/content.js';

/** Fire and forget. */
export function send(message: ContentMessage): void {
  void request(message);
}

/** Send and resolve with the background's answer; undefined if there is none or it failed. */
export function request(message: ContentMessage): Promise<unknown> {
  try {
    return chrome.runtime.sendMessage(message).catch(() => {
      // The background was unreachable (extension updating or reloaded); the next full dump recovers.
      return undefined;
    });
  } catch {
    // "Extension context invalidated": this content script is orphaned; stay silent.
    return Promise.resolve(undefined);
  }
}
