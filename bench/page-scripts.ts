/**
 * Scripts the benchmarks run inside test-site pages (page.evaluate, main world). They use only the
 * page's own APIs, exactly like an application would; the extension observes them from outside.
 */

/**
 * A storage-heavy interaction loop: `rounds` rounds of 10 setItem (JSON values of ~180 chars over a
 * working set of 500 keys) and 10 getItem + JSON.parse, yielding to the event loop after each round
 * through a MessageChannel (no timer clamping, so no idle time dilutes the overhead). The capture's
 * periodic diffs are tasks on the same thread, so whatever they cost shows up in the elapsed time.
 * Returns the elapsed ms (performance.now()).
 */
export async function interactionLoop(rounds: number): Promise<number> {
  const channel = new MessageChannel();
  let wake: (() => void) | null = null;
  channel.port1.onmessage = () => wake?.();
  const yieldTask = () =>
    new Promise<void>((r) => {
      wake = r;
      channel.port2.postMessage(0);
    });
  const filler = 'x'.repeat(150);
  const t0 = performance.now();
  for (let round = 0; round < rounds; round++) {
    for (let j = 0; j < 10; j++) {
      localStorage.setItem(`item${(round * 10 + j) % 500}`, JSON.stringify({ round, j, filler }));
      JSON.parse(localStorage.getItem(`item${(round * 7 + j * 13) % 500}`) ?? '{}');
    }
    await yieldTask();
  }
  const elapsed = performance.now() - t0;
  channel.port1.close();
  return elapsed;
}

/** Milliseconds from navigation start to the end of the load event of the current document. */
export function loadTime(): number {
  const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
  return nav ? nav.loadEventEnd - nav.startTime : NaN;
}

export interface WriterOptions {
  /** Key prefix; write i sets `${prefix}${i}` (or `${prefix}` alone when `oneKey`) to String(i). */
  prefix: string;
  ratePerSecond: number;
  count: number;
  oneKey?: boolean;
}

/** Progress of a writer: bursts as [last index written + 1, Date.now() of that burst]. */
export interface WriterLog {
  bursts: [number, number][];
  done: boolean;
  startedAt: number;
}

/**
 * Start writing `count` values at a steady rate, without blocking the caller: every task writes the
 * writes that are due (so at 1000/s they come in bursts of a few per 4 ms timer tick). Every burst
 * is logged with its Date.now() in window.__writer (read it back with readWriter).
 */
export function startWriter(opts: WriterOptions): number {
  const log: WriterLog = { bursts: [], done: false, startedAt: Date.now() };
  (window as unknown as { __writer: WriterLog }).__writer = log;
  const t0 = performance.now();
  let i = 0;
  const step = () => {
    const due = Math.min(opts.count, Math.floor(((performance.now() - t0) * opts.ratePerSecond) / 1000) + 1);
    if (due > i) {
      for (; i < due; i++) localStorage.setItem(opts.oneKey ? opts.prefix : `${opts.prefix}${i}`, String(i));
      log.bursts.push([i, Date.now()]);
    }
    if (i < opts.count) setTimeout(step, Math.max(0, Math.min(50, 1000 / opts.ratePerSecond - 1)));
    else log.done = true;
  };
  step();
  return log.startedAt;
}

export function readWriter(): WriterLog {
  return (window as unknown as { __writer: WriterLog }).__writer;
}
