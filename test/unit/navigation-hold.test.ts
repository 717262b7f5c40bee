/**
 * The navigation hold (extension/background/navigation-hold.ts): held events go out in order on
 * release or after MAX_HOLD_MS, and `whenReleased` is what the outbox waits on before it cuts a
 * batch, so a page load's storage writes travel with its navigation.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CaptureEvent } from '../../shared/capture-events.js';
import { MAX_HOLD_MS, NavigationHold } from '../../extension/background/navigation-hold.js';

const nav = (url: string): CaptureEvent => ({ kind: 'navigation', tabId: 1, url, how: 'commit', transition: 'link', qualifiers: [] });

let emitted: CaptureEvent[];
let hold: NavigationHold;
beforeEach(() => {
  vi.useFakeTimers();
  emitted = [];
  hold = new NavigationHold(() => (e) => emitted.push(e));
});
afterEach(() => vi.useRealTimers());

describe('navigation hold', () => {
  it('whenReleased is null while nothing is held', () => {
    expect(hold.whenReleased()).toBeNull();
  });

  it('whenReleased resolves after the held events were emitted, on release', async () => {
    hold.push(nav('http://a/1'));
    hold.push(nav('http://a/2'));
    let seenAtResolve: CaptureEvent[] | null = null;
    void hold.whenReleased()!.then(() => (seenAtResolve = [...emitted]));
    await vi.advanceTimersByTimeAsync(10);
    expect(seenAtResolve).toBeNull();
    hold.release();
    await vi.advanceTimersByTimeAsync(0);
    expect(seenAtResolve).toEqual([nav('http://a/1'), nav('http://a/2')]);
    expect(hold.whenReleased()).toBeNull();
  });

  it('a hold nobody releases ends after MAX_HOLD_MS, waiters included (the bound on what it adds to the RPO)', async () => {
    hold.push(nav('http://a/1'));
    let resolved = false;
    void hold.whenReleased()!.then(() => (resolved = true));
    await vi.advanceTimersByTimeAsync(MAX_HOLD_MS - 1);
    expect(resolved).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(resolved).toBe(true);
    expect(emitted).toHaveLength(1);
  });

  it('pairs webNavigation’s report and the page’s (entry type) of one navigation into one event, in either order', () => {
    const page = (url: string, entry: 'push' | 'replace'): CaptureEvent => ({ kind: 'navigation', tabId: 1, url, how: 'commit', qualifiers: [], entry });
    const redirect: CaptureEvent = { kind: 'navigation', tabId: 1, url: 'http://a/2', how: 'commit', transition: 'link', qualifiers: ['client_redirect'] };
    hold.push(nav('http://a/1'));
    hold.push(page('http://a/1', 'push'));
    hold.push(page('http://a/2', 'replace'));
    hold.push(redirect);
    hold.push(page('http://a/3', 'push')); // its twin comes after the release: it goes alone
    hold.release();
    expect(emitted).toEqual([
      { ...nav('http://a/1'), entry: 'push' },
      { ...redirect, entry: 'replace' },
      page('http://a/3', 'push'),
    ]);
  });
});
