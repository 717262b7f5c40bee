/**
 * At start-up every session still `active` in the store lost its companion (and so its browser):
 * it is an orphan. Whatever it captured after its newest snapshot was acknowledged, so it is folded
 * into a `recovery` snapshot first; then the session is `recoverable` if that state is younger than
 * the max session age, `stale` if older, and `closed` if nothing was ever captured.
 */
import type { SessionStatus } from '../../shared/state.js';
import type { Store } from '../store/store.js';

export type OrphanState = Extract<SessionStatus, 'recoverable' | 'stale' | 'closed'>;

export interface OrphanOutcome {
  id: string;
  from: 'active';
  to: OrphanState;
}

export interface OrphanPolicy {
  now: number;
  maxSessionAgeMs: number;
}

/** What an orphaned session becomes; reads only, so `restory list` can show it without a companion. */
export function orphanVerdict(store: Store, sessionId: string, policy: OrphanPolicy): OrphanState {
  const live = store.live(sessionId);
  // Age is that of the newest captured state, not of any snapshot record written for it.
  const capturedAt = live.layout().tabs.length > 0 ? live.capturedAt : store.latestSnapshot(sessionId)?.state.capturedAt;
  if (capturedAt === undefined) return 'closed';
  return policy.now - capturedAt <= policy.maxSessionAgeMs ? 'recoverable' : 'stale';
}

export function classifyOrphans(store: Store, policy: OrphanPolicy): OrphanOutcome[] {
  const outcomes: OrphanOutcome[] = [];
  for (const session of store.listSessions({ status: 'active' })) {
    const to = orphanVerdict(store, session.id, policy);
    if (to !== 'closed') store.saveSnapshot(session.id, 'recovery');
    store.setStatus(session.id, to, to === 'closed' ? null : 'the companion stopped while the session was active');
    outcomes.push({ id: session.id, from: 'active', to });
  }
  return outcomes;
}
