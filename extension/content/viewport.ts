/** Top frame only: the viewport size (innerWidth × innerHeight) on load and after resizes. */
import { send } from './send.js';

const THROTTLE_MS = 200;

export function startViewportCapture(win: Window = window): () => void {
  const abort = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let last = '';

  const report = () => {
    timer = undefined;
    const width = Math.round(win.innerWidth);
    const height = Math.round(win.innerHeight);
    // At document_start of a not-yet-laid-out or hidden document the size can be 0; skip it.
    if (width <= 0 || height <= 0) return;
    const key = `${width}x${height}`;
    if (key === last) return;
    last = key;
    send({ type: 'restory.viewport', width, height });
  };
  win.addEventListener('resize', () => (timer ??= setTimeout(report, THROTTLE_MS)), {
    passive: true,
    signal: abort.signal,
  });
  // innerWidth is known at document_start, but report again once laid out in case it was 0 then.
  report();
  win.addEventListener('DOMContentLoaded', report, { once: true, signal: abort.signal });
  return () => {
    abort.abort();
    clearTimeout(timer);
  };
}
