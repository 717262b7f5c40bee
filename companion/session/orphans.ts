/**
 * At start-up every session still `active` in the store lost its companion (and so its browser):
 * it is an orphan. Whatever it captured after its newest snapshot was acknowledged, so it is folded
 * into a `recovery` snapshot first; then the session is `recoverable` if that state is younger than
 * the max session age, `stale` if older, and `closed` if nothing was ever captured.
 */
import type { SessionStatus } from '../../shared/state.js';
import type { Store } from '../store/store.js';
import { transition } from './lifecycle.js';

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
export async function orphanVerdict(store: Store, sessionId: string, policy: OrphanPolicy): Promise<OrphanState> {
  const capturedAt = await store.capturedAt(sessionId);
  if (capturedAt === undefined) return 'closed';
  return policy.now - capturedAt <= policy.maxSessionAgeMs ? 'recoverable' : 'stale';
}

/** `running`: sessions whose browser still runs (adopted by this companion): not orphans. */
export async function classifyOrphans(store: Store, policy: OrphanPolicy, running: ReadonlySet<string> = new Set()): Promise<OrphanOutcome[]> {
  const outcomes: OrphanOutcome[] = [];
  for (const session of await store.listSessions({ state: 'active' })) {
    if (running.has(session.id)) continue;
    // With the shared store, a session another live companion owns is no orphan.
    if (await store.heldElsewhere?.(session.id)) continue;
    const to = await orphanVerdict(store, session.id, policy);
    if (to !== 'closed') await store.saveSnapshot(session.id, 'recovery');
    await transition(store, session.id, to, to === 'closed' ? null : 'the companion stopped while the session was active');
    outcomes.push({ id: session.id, from: 'active', to });
  }
  return outcomes;
}
