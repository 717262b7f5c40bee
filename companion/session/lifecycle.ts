/**
 * The one place a session's lifecycle state changes. Every state the store holds, and what may
 * follow it:
 *
 *   active       a browser is feeding it (launched by a companion, or the user's own profile)
 *   error        its capture kept failing (e.g. a full disk); it becomes active again once a write works
 *   recoverable  its browser or companion went away mid-session: resume brings it back
 *   stale        like recoverable, but older than the max session age (cookies may have expired)
 *   failed       a resume could not restore anything; resuming again tries again
 *   closed       ended on purpose (the user closed the browser, or `restory close`)
 *
 * A state may always be set again (e.g. a newer lastError); other moves must be in the table.
 */
import { RestoryError } from '../../shared/errors.js';
import type { SessionStatus } from '../../shared/state.js';
import { errorLine } from '../store/records.js';
import type { Store } from '../store/store.js';

export const TRANSITIONS: Readonly<Record<SessionStatus, readonly SessionStatus[]>> = {
  // browser gone: closed by the user / crashed or companion stopped / orphan verdict; capture failing; nothing restored
  active: ['closed', 'recoverable', 'stale', 'error', 'failed'],
  // capture works again; or as from active
  error: ['active', 'closed', 'recoverable', 'stale', 'failed'],
  // resumed (or an own-profile browser came back); closed without resuming
  recoverable: ['active', 'closed'],
  stale: ['active', 'closed'],
  failed: ['active', 'closed'],
  // a closed session keeps its snapshots and can be resumed
  closed: ['active'],
};

export function canBecome(from: SessionStatus, to: SessionStatus): boolean {
  return from === to || TRANSITIONS[from].includes(to);
}

/**
 * Move a session to `to`. `lastError` says why for error, failed, recoverable and stale; moving to
 * active or closed clears it unless one is given. It is kept to one clean line (`errorLine`).
 */
export async function transition(store: Store, sessionId: string, to: SessionStatus, lastError?: string | null): Promise<void> {
  const { state: from } = await store.requireSession(sessionId);
  if (!canBecome(from, to)) {
    throw new RestoryError('invalid_state', `session ${sessionId} is ${from}; it cannot become ${to}`);
  }
  const given = typeof lastError === 'string' ? errorLine(lastError) : lastError;
  const error = given !== undefined ? given : to === 'active' || to === 'closed' ? null : undefined;
  await store.setState(sessionId, to, error);
}
