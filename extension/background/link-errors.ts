/**
 * Why the native link failed, as a code the popup can branch on. Chromium reports a native port's
 * failure only as chrome.runtime.lastError text (native_message_process_host.cc and
 * extension_message_port.cc), so this is the one place that reads that text; everything after it
 * carries `{ code, message }`.
 */
import type { PopupErrorInfo } from '../../shared/messages/popup.js';

/** Chromium's texts for a missing host manifest, and for one whose allowed_origins lacks this extension. */
const HOST_NOT_FOUND = 'specified native messaging host not found';
const HOST_FORBIDDEN = 'access to the specified native messaging host is forbidden';

/** A failure Chromium reported for connectNative or the port's disconnect. */
export function chromiumLinkError(text: string | undefined): PopupErrorInfo {
  if (text === undefined) return { code: 'host_exited', message: 'native host disconnected' };
  const lower = text.toLowerCase();
  if (lower.includes(HOST_NOT_FOUND) || lower.includes(HOST_FORBIDDEN)) return { code: 'host_not_installed', message: text };
  // "Native host has exited." and anything else: the host went away without an error frame.
  return { code: 'host_exited', message: text };
}
