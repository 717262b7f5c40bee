/**
 * At start-up every session still `active` in the store lost its companion (and so its browser):
 * it is an orphan. Whatever it captured after its newest snapshot was acknowledged, so it is folded
 * into a `recovery` snapshot first; then the session is `recoverable` if that state is younger than
 * the max session age, `stale` if older, and `closed` if nothing was ever captured.
 */
import type { SessionStatus } from '../../shared/state.js';
import type { Store } from '../store/store.js';

export interface OrphanOutcome {
  id: string;
  from: 'active';
  to: Extract<SessionStatus, 'recoverable' | 'stale' | 'closed'>;
}

export function classifyOrphans(store: Store, opts: { now: number; maxSessionAgeMs: number }): OrphanOutcome[] {
  const outcomes: OrphanOutcome[] = [];
  for (const session of store.listSessions({ status: 'active' })) {
    if (store.live(session.id).toState().tabs.length > 0) store.saveSnapshot(session.id, 'recovery');
    const latest = store.latestSnapshot(session.id);
    // Age is that of the captured state, not of the snapshot record we may just have written.
    const to = !latest ? 'closed' : opts.now - latest.state.capturedAt <= opts.maxSessionAgeMs ? 'recoverable' : 'stale';
    store.setStatus(session.id, to, to === 'recoverable' || to === 'stale' ? 'the companion stopped while the session was active' : null);
    outcomes.push({ id: session.id, from: 'active', to });
  }
  return outcomes;
}
