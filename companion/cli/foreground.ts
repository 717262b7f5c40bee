/**
 * `start` and `resume` run in the foreground: until SIGINT/SIGTERM (final snapshots, browsers
 * ended, sessions stay resumable) or until every browser this companion runs has ended (closed by
 * the user, or died).
 */
import type { Companion } from '../companion.js';

/**
 * Take over SIGINT/SIGTERM now — before the session line is printed, since whoever reads it may
 * signal at once — and return what waits for the end.
 */
export function foreground(companion: Companion): { run(): Promise<number> } {
  let stopping: Promise<void> | null = null;
  const stop = (signal: string): Promise<void> => {
    if (stopping) {
      // A second Ctrl-C must not exit before the browsers are ended and the store is saved.
      process.stderr.write(`restory: ${signal}: still saving, please wait…\n`);
      return stopping;
    }
    process.stderr.write(`restory: ${signal}: saving and stopping…\n`);
    const interrupted = companion.runningSessions.map((r) => r.sessionId);
    stopping = companion.shutdown().then(() => {
      for (const id of interrupted) process.stderr.write(`restory: saved — resume with: restory resume ${id}\n`);
    });
    return stopping;
  };
  const onSignal = (signal: NodeJS.Signals) => void stop(signal).then(() => process.exit(0), () => process.exit(1));
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    async run() {
      process.stderr.write('restory: running; Ctrl-C to stop (the session stays resumable; --headed shows the browser)\n');
      // Browsers resumed later from the popup join the set, so keep waiting until none is left.
      while (!stopping) {
        const running = companion.runningSessions;
        if (running.length === 0) break;
        await Promise.race(running.map((r) => r.ended));
      }
      await (stopping ?? companion.shutdown());
      return 0;
    },
  };
}
