/**
 * The lifecycle table (companion/session/lifecycle.ts) is the only way a session's state changes:
 * these tests pin which moves are allowed and what a move does to lastError, on the real store.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SessionStatusSchema } from '../../shared/state.js';
import { canBecome, transition, TRANSITIONS } from '../../companion/session/lifecycle.js';
import { closeStores, openStore } from '../helpers/store-fixtures.js';
import { newDataDirPath } from '../helpers/temp-dirs.js';

afterEach(closeStores);

const STATES = SessionStatusSchema.options;

describe('session lifecycle', () => {
  it('the table names every state, and only states', () => {
    expect(Object.keys(TRANSITIONS).sort()).toEqual([...STATES].sort());
    for (const to of Object.values(TRANSITIONS).flat()) expect(STATES).toContain(to);
  });

  it('allows exactly the moves users rely on', () => {
    // Every ended session can be resumed; an active one must be closed first.
    for (const from of ['recoverable', 'stale', 'failed', 'closed', 'error'] as const) expect(canBecome(from, 'active')).toBe(true);
    // A running session ends in every way a browser can end.
    for (const to of ['closed', 'recoverable', 'stale', 'error', 'failed'] as const) expect(canBecome('active', to)).toBe(true);
    // Only a live session can crash, go stale or fail its capture.
    for (const from of ['recoverable', 'stale', 'failed', 'closed'] as const) {
      expect(canBecome(from, 'error')).toBe(false);
      if (from !== 'recoverable') expect(canBecome(from, 'recoverable')).toBe(false);
    }
    expect(canBecome('closed', 'failed')).toBe(false);
    expect(canBecome('recoverable', 'stale')).toBe(false);
    // Setting the same state again (a newer lastError) is always allowed.
    for (const s of STATES) expect(canBecome(s, s)).toBe(true);
  });

  it('transition refuses a move outside the table and leaves the state as it was', async () => {
    const store = await openStore(newDataDirPath());
    const { id } = store.createSession({ name: 'x', state: 'closed' });
    await expect(transition(store, id, 'error', 'disk full')).rejects.toThrow(`session ${id} is closed; it cannot become error`);
    expect(store.requireSession(id)).toMatchObject({ state: 'closed', lastError: null });
  });

  it('records why for failures and clears it when the session is active or closed again', async () => {
    const store = await openStore(newDataDirPath());
    const { id } = store.createSession({ name: 'x' });
    await transition(store, id, 'recoverable', 'the browser exited unexpectedly');
    expect(store.requireSession(id)).toMatchObject({ state: 'recoverable', lastError: 'the browser exited unexpectedly' });
    await transition(store, id, 'active');
    expect(store.requireSession(id)).toMatchObject({ state: 'active', lastError: null });
    await transition(store, id, 'failed', 'nothing could be restored');
    await transition(store, id, 'closed');
    expect(store.requireSession(id)).toMatchObject({ state: 'closed', lastError: null });
  });

  it('an unknown session is an unknown_session error', async () => {
    const store = await openStore(newDataDirPath());
    await expect(transition(store, 'nope', 'closed')).rejects.toMatchObject({ code: 'unknown_session' });
  });

  it('lastError is kept to its first line, without terminal escapes, at most 300 characters', async () => {
    const store = await openStore(newDataDirPath());
    const { id } = store.createSession({ name: 'x', state: 'active' });
    // What Playwright throws when a browser does not start: colours, then a call log.
    const launch = '\u001b[31mbrowserType.launch: Target page, context or browser has been closed\u001b[39m\n' +
      'Browser logs:\n\n\u001b[2m<launching> /usr/lib/chromium/chromium --no-sandbox\u001b[22m\n  - <process did exit: exitCode=1>';
    await transition(store, id, 'failed', launch);
    expect(store.requireSession(id).lastError).toBe('browserType.launch: Target page, context or browser has been closed');

    await transition(store, id, 'failed', `\n  \u001b]8;;https://x.test\u0007${'x'.repeat(1000)}\u001b]8;;\u0007\r\nsecond`);
    const long = store.requireSession(id).lastError!;
    expect(long).toHaveLength(300);
    expect(long).toBe('x'.repeat(299) + '…');

    await transition(store, id, 'failed', 'tab\tand\u0007bell');
    expect(store.requireSession(id).lastError).toBe('tab and bell');
  });

  it('a lastError stored before it was kept to one line is shown as one clean line', async () => {
    const store = await openStore(newDataDirPath());
    const { id } = store.createSession({ name: 'x', state: 'active' });
    store.setState(id, 'failed', '\u001b[1mfirst\u001b[0m\nsecond');
    expect(store.requireSession(id).lastError).toBe('first');
    expect(store.listSessions()[0].lastError).toBe('first');
  });
});
