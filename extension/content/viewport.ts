/**
 * Top frame only: the viewport size (innerWidth × innerHeight) on load and after resizes. The size
 * at document start rides on the document's `restory.start` message (`initial`); a separate message
 * follows only if it changes.
 */
import type { ContentMessage } from '../../shared/messages/content.js';
import { send } from './send.js';

const THROTTLE_MS = 200;

type Size = Extract<ContentMessage, { type: 'restory.viewport' }>;

export interface ViewportCapture {
  /** The size now, if laid out (also taken as reported), for the start message. */
  initial(): { width: number; height: number } | undefined;
  stop(): void;
}

export function startViewportCapture(win: Window = window): ViewportCapture {
  const abort = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let last = '';

  const read = (): Size | undefined => {
    const width = Math.round(win.innerWidth);
    const height = Math.round(win.innerHeight);
    // At document_start of a not-yet-laid-out or hidden document the size can be 0; skip it.
    if (width <= 0 || height <= 0) return undefined;
    const key = `${width}x${height}`;
    if (key === last) return undefined;
    last = key;
    return { type: 'restory.viewport', width, height };
  };
  const report = () => {
    timer = undefined;
    const size = read();
    if (size) send(size);
  };
  win.addEventListener('resize', () => (timer ??= setTimeout(report, THROTTLE_MS)), {
    passive: true,
    signal: abort.signal,
  });
  // innerWidth is known at document_start, but report again once laid out in case it was 0 then.
  win.addEventListener('DOMContentLoaded', report, { once: true, signal: abort.signal });
  return {
    initial() {
      const size = read();
      return size && { width: size.width, height: size.height };
    },
    stop() {
      abort.abort();
      clearTimeout(timer);
    },
  };
}
