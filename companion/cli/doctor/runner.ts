/**
 * Runs doctor's checks one at a time, in the order they were handed in, and collects their lines
 * for the report. Each check has a time limit; a check that throws or outlives it becomes a FAIL
 * line under its name instead of ending the report, so the user still sees every other check.
 *
 * A time limit can only stop the runner from waiting on asynchronous work (a process, a socket, a
 * database read): a synchronous check runs to its end. A check that timed out may still be working
 * in the background while the next one runs; doctor's checks only read, so that is harmless.
 */
import { errorMessage, fail, type CheckResult } from './result.js';
import { withTimeout } from './timeout.js';

/**
 * What a check answers: its line; one line per thing it found (each host registration); or its line
 * with what it learned that a later check needs (the companion's pid, the configured key).
 */
export type Answer = CheckResult | CheckResult[] | { result: CheckResult };

export class CheckRunner {
  /** Every line so far, in the order the checks were handed in. */
  readonly results: CheckResult[] = [];
  /** The check before this one; never rejects (runOne catches everything). */
  private previous: Promise<unknown> = Promise.resolve();

  /**
   * Run `check` once every check handed in before it has finished, and add its lines to the report.
   * Resolves with its answer, for a later check to use; or with undefined when it threw or timed
   * out, its FAIL line being then in the report already.
   */
  run<A extends Answer>(name: string, check: () => A | Promise<A>, timeoutMs: number): Promise<A | undefined> {
    const turn = this.previous.then(() => this.runOne(name, check, timeoutMs));
    this.previous = turn;
    return turn;
  }

  private async runOne<A extends Answer>(name: string, check: () => A | Promise<A>, timeoutMs: number): Promise<A | undefined> {
    try {
      // Inside then(), so a check that throws synchronously rejects like one that fails later.
      const answer = await withTimeout(Promise.resolve().then(check), timeoutMs, `the ${name} check`);
      this.results.push(...linesOf(answer));
      return answer;
    } catch (e) {
      this.results.push(fail(name, errorMessage(e)));
      return undefined;
    }
  }
}

function linesOf(answer: Answer): CheckResult[] {
  if (Array.isArray(answer)) return answer;
  return 'result' in answer ? [answer.result] : [answer];
}
