/** Top frame only: the document's scroll position, throttled to one report per THROTTLE_MS. */
import { send } from './send.js';

const THROTTLE_MS = 200;

export function startScrollCapture(win: Window = window): () => void {
  const abort = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let last = { x: NaN, y: NaN };

  const report = () => {
    timer = undefined;
    const x = win.scrollX;
    const y = win.scrollY;
    if (x === last.x && y === last.y) return;
    last = { x, y };
    send({ type: 'restory.scroll', x, y });
  };
  // Trailing-edge throttle: the final position of a scroll gesture is always reported.
  const onScroll = () => {
    timer ??= setTimeout(report, THROTTLE_MS);
  };
  win.addEventListener('scroll', onScroll, { passive: true, capture: true, signal: abort.signal });
  // Report before leaving too: a scroll within the last throttle window would be lost otherwise.
  win.addEventListener('pagehide', () => timer !== undefined && (clearTimeout(timer), report()), {
    signal: abort.signal,
  });
  return () => {
    abort.abort();
    clearTimeout(timer);
  };
}
