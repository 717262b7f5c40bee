/**
 * When snapshots are taken: on the configured interval, shortly after navigations (debounced), on
 * request and at shutdown. Never while a session is being restored: until the resumed browser has
 * reported its state, the live state is a half-restored mix that must not become the newest snapshot.
 */
import type { SnapshotReason } from '../../shared/state.js';
import { debug } from '../debug.js';
import type { Store } from '../store/store.js';

const log = debug('snapshot');
/**
 * A snapshot once navigation has been quiet this long. Snapshots are restore points, not what makes
 * capture durable (the journal does that, and recovery folds it into a snapshot), so a browser
 * navigating every second pays for none until it settles; the interval snapshot bounds the gap.
 */
const NAVIGATION_DEBOUNCE_MS = 5000;

export class SnapshotScheduler {
  private readonly tracked = new Set<string>();
  private readonly restoring = new Set<string>();
  private readonly debounce = new Map<string, NodeJS.Timeout>();
  private readonly interval: NodeJS.Timeout;

  constructor(
    private readonly store: Pick<Store, 'saveSnapshot'>,
    intervalMs: number,
    private readonly onError: (sessionId: string, error: unknown) => void,
  ) {
    this.interval = setInterval(() => {
      for (const id of this.tracked) void this.take(id, 'interval');
    }, intervalMs);
    this.interval.unref();
  }

  track(sessionId: string): void {
    this.tracked.add(sessionId);
  }

  untrack(sessionId: string): void {
    this.tracked.delete(sessionId);
    clearTimeout(this.debounce.get(sessionId));
    this.debounce.delete(sessionId);
  }

  /** Hold snapshots of a session until `done` settles. */
  holdWhile(sessionId: string, done: Promise<unknown>): void {
    this.restoring.add(sessionId);
    void done.finally(() => this.restoring.delete(sessionId)).catch(() => {});
  }

  isHeld(sessionId: string): boolean {
    return this.restoring.has(sessionId);
  }

  noteNavigation(sessionId: string): void {
    clearTimeout(this.debounce.get(sessionId));
    const timer = setTimeout(() => {
      this.debounce.delete(sessionId);
      void this.take(sessionId, 'navigation');
    }, NAVIGATION_DEBOUNCE_MS);
    timer.unref();
    this.debounce.set(sessionId, timer);
  }

  /** Resolves with the new snapshot's id, or null when held, unchanged or failed (reported to onError). */
  async take(sessionId: string, reason: SnapshotReason): Promise<number | null> {
    if (this.restoring.has(sessionId)) return null;
    try {
      const snap = await this.store.saveSnapshot(sessionId, reason);
      if (snap) log('snapshot', snap.id, 'of', sessionId, reason);
      return snap?.id ?? null;
    } catch (e) {
      this.onError(sessionId, e);
      return null;
    }
  }

  stop(): void {
    clearInterval(this.interval);
    for (const t of this.debounce.values()) clearTimeout(t);
    this.debounce.clear();
  }
}
