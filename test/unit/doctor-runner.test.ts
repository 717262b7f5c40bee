/**
 * The runner of `restory doctor`'s checks: a check that hangs or throws becomes a FAIL line under
 * its name and the report goes on; lines come out in the order the checks were handed in, one check
 * at a time; and what a check learned is handed back for a later check. Also withTimeout itself,
 * which rejects rather than resolving with a stand-in value.
 */
import { describe, expect, it, vi } from 'vitest';
import { CheckRunner } from '../../companion/cli/doctor/runner.js';
import { fail, ok, warn } from '../../companion/cli/doctor/result.js';
import { TimeoutError, withTimeout } from '../../companion/cli/doctor/timeout.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const never = () => new Promise<never>(() => {});

describe('doctor CheckRunner', () => {
  it('a check that outlives its time limit becomes a FAIL with the timeout message, and the next check still runs', async () => {
    const runner = new CheckRunner();
    const answer = await runner.run('companion', never, 50);
    await runner.run('lock', () => ok('lock', 'free'), 1000);
    expect(answer).toBeUndefined();
    expect(runner.results).toEqual([
      { name: 'companion', status: 'fail', message: 'the companion check did not finish within 50 ms' },
      { name: 'lock', status: 'ok', message: 'free' },
    ]);
  });

  it('a check that throws, at once or later, becomes a FAIL with its error message', async () => {
    const runner = new CheckRunner();
    const thrown = await runner.run('extension', () => {
      throw new Error('EACCES: permission denied');
    }, 1000);
    await runner.run('database', async () => {
      await sleep(5);
      throw new Error('disk I/O error');
    }, 1000);
    expect(thrown).toBeUndefined();
    expect(runner.results).toEqual([
      { name: 'extension', status: 'fail', message: 'EACCES: permission denied' },
      { name: 'database', status: 'fail', message: 'disk I/O error' },
    ]);
  });

  it('keeps the order the checks were handed in, running one at a time, even when a slow one comes first', async () => {
    const runner = new CheckRunner();
    const events: string[] = [];
    const slow = runner.run('browser', async () => {
      events.push('browser starts');
      await sleep(40);
      events.push('browser ends');
      return ok('browser', 'chromium');
    }, 1000);
    const quick = runner.run('native host', () => {
      events.push('native host starts');
      return warn('native host', 'missing', 'npm run build');
    }, 1000);
    const several = runner.run('host manifests', () => [ok('host (chrome)', 'a'), fail('host (brave)', 'b')], 1000);
    const hung = runner.run('companion', never, 20);
    const last = runner.run('journal', () => ok('journal', 'empty'), 1000);
    await Promise.all([slow, quick, several, hung, last]);
    expect(events).toEqual(['browser starts', 'browser ends', 'native host starts']);
    expect(runner.results.map((r) => `${r.status} ${r.name}`)).toEqual([
      'ok browser', 'warn native host', 'ok host (chrome)', 'fail host (brave)', 'fail companion', 'ok journal',
    ]);
  });

  it('hands back what a check learned, and reports only its line', async () => {
    const runner = new CheckRunner();
    const companion = await runner.run('companion', async () => ({ result: ok('companion', 'running (pid 42)'), pid: 42 }), 1000);
    expect(companion?.pid).toBe(42);
    expect(runner.results).toEqual([{ name: 'companion', status: 'ok', message: 'running (pid 42)' }]);
  });
});

describe('withTimeout', () => {
  it('rejects with a TimeoutError naming what did not finish and the limit', async () => {
    const late = withTimeout(never(), 30, 'connecting to /tmp/s');
    await expect(late).rejects.toBeInstanceOf(TimeoutError);
    vi.useFakeTimers();
    try {
      const message = withTimeout(never(), 2000, 'x').catch((e: Error) => e.message);
      await vi.advanceTimersByTimeAsync(2000);
      expect(await message).toBe('x did not finish within 2 s');
    } finally {
      vi.useRealTimers();
    }
  });

  it('passes a result or a rejection through unchanged when in time', async () => {
    await expect(withTimeout(Promise.resolve(7), 1000, 'x')).resolves.toBe(7);
    const error = new Error('refused');
    await expect(withTimeout(Promise.reject(error), 1000, 'x')).rejects.toBe(error);
  });
});
