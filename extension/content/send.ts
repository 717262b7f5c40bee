/**
 * Content → background transport. One-shot runtime messages rather than a long-lived port: they
 * wake the service worker if it was stopped, so nothing has to reconnect, and messages from one
 * frame arrive in order. Fire and forget; a failure (extension reloaded, context invalidated)
 * must never surface in the page.
 */
import type { ContentMessage } from '../../shared/messages/content.js';

export function send(message: ContentMessage): void {
  try {
    chrome.runtime.sendMessage(message).catch(() => {
      // The background was unreachable (extension updating or reloaded); the next full dump recovers.
    });
  } catch {
    // "Extension context invalidated": this content script is orphaned; stay silent.
  }
}
