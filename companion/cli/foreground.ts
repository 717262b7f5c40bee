/**
 * `start` and `resume` run in the foreground: until SIGINT/SIGTERM (final snapshots, sessions stay
 * resumable) or until every browser this companion runs has ended (closed by the user, or died).
 */
import type { Companion } from '../companion.js';

export async function runInForeground(companion: Companion): Promise<number> {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`restory: ${signal}: saving and stopping…\n`);
    await companion.shutdown();
  };
  const onSignal = (signal: NodeJS.Signals) => void stop(signal).then(() => process.exit(0), () => process.exit(1));
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // Browsers resumed later from the popup join the set, so keep waiting until none is left.
  while (!stopping) {
    const running = companion.runningSessions;
    if (running.length === 0) break;
    await Promise.race(running.map((r) => r.ended));
  }
  if (!stopping) {
    stopping = true;
    await companion.shutdown();
  }
  return 0;
}
