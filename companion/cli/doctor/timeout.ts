/**
 * A time limit that fails one way: past it, the promise REJECTS with a TimeoutError — it never
 * resolves with a stand-in value each caller has to remember to test for. The work itself is not
 * cancelled: a caller whose late result would carry a resource (a connection) must release it
 * itself, as checkCompanion does.
 */
export class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

/** `promise`, or a TimeoutError saying "`what` did not finish within …" once `ms` have passed. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  // Created now, so the rejection carries the caller's stack rather than the timer's.
  const error = new TimeoutError(`${what} did not finish within ${duration(ms)}`);
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(error), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

function duration(ms: number): string {
  return ms >= 1000 && ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
