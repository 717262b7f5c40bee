/**
 * Capture streams from native hosts, after the socket has authenticated and validated them: which
 * session a stream feeds, storing its events (acknowledged only once durable), and what a stream's
 * failures and endings mean for the session's lifecycle.
 *
 * A browser the companion launched names its session (the host got it in its environment). A
 * browser it did not launch — the extension loaded unpacked in the user's own profile — is known by
 * its extension instance id and gets a session of its own, `recoverable` whenever it goes away.
 */
import { randomUUID } from 'node:crypto';
import { RestoryError } from '../../shared/errors.js';
import type { SequencedEvent } from '../../shared/capture-events.js';
import { debug } from '../debug.js';
import type { Store } from '../store/store.js';
import { transition } from './lifecycle.js';
import type { SnapshotScheduler } from './snapshot-scheduler.js';

const log = debug('capture');

/** Consecutive failures to store a session's capture before it is marked `error`. */
const MAX_CAPTURE_FAILURES = 5;

export class CaptureIntake {
  private readonly failures = new Map<string, number>();
  private readonly ownBrowserSessions = new Set<string>();
  private stopping = false;

  constructor(
    private readonly store: Store,
    private readonly scheduler: SnapshotScheduler,
    private readonly notice: (message: string) => void,
  ) {}

  /** Which session a stream feeds, and the newest seq of its instance already stored. */
  async bind(auth: { sessionId?: string }, hello: { instanceId: string }): Promise<{ sessionId: string; ackedSeq: number }> {
    const sessionId = auth.sessionId ? await this.launchedSession(auth.sessionId) : await this.ownBrowserSession(hello.instanceId);
    const cursor = await this.store.captureCursor(sessionId);
    return { sessionId, ackedSeq: cursor.instanceId === hello.instanceId ? cursor.lastSeq : 0 };
  }

  /** Store a batch; resolves with the newest durable seq, and whether the extension should send everything again. */
  async events(sessionId: string, instanceId: string, batch: SequencedEvent[]): Promise<{ seq: number; resync: boolean }> {
    try {
      const { lastSeq, resync } = await this.store.applyEvents(sessionId, instanceId, batch);
      log('stored', sessionId, batch.length, 'event(s):', [...new Set(batch.map((e) => e.event.kind))].join(' '));
      if (resync) this.notice(`capture of ${sessionId}: a change did not fit what the companion holds; asking the browser for everything again`);
      await this.store.flush();
      if (this.failures.delete(sessionId) && (await this.store.getSession(sessionId))?.state === 'error') {
        // Capture works again (space came back): the session is no longer in error.
        await transition(this.store, sessionId, 'active');
      }
      if (batch.some((e) => e.event.kind === 'navigation' || e.event.kind === 'tabs')) this.scheduler.noteNavigation(sessionId);
      return { seq: lastSeq, resync };
    } catch (e) {
      await this.failed(sessionId, e);
      throw e;
    }
  }

  /** A stream closed. An own-profile browser went away (closed, or its extension reloaded): keep what we have. */
  ended(sessionId: string): void {
    if (this.stopping || !this.ownBrowserSessions.has(sessionId)) return;
    void this.releaseOwnBrowser(sessionId).catch((e: Error) => log('releasing', sessionId, 'failed:', e.message));
  }

  /** Storing a session's capture (or its snapshot) failed; after a few in a row it is `error`. */
  async failed(sessionId: string, error: unknown): Promise<void> {
    const count = (this.failures.get(sessionId) ?? 0) + 1;
    this.failures.set(sessionId, count);
    const message = error instanceof Error ? error.message : String(error);
    this.notice(`capture of ${sessionId} failed (${count}/${MAX_CAPTURE_FAILURES}): ${message}`);
    if (count < MAX_CAPTURE_FAILURES) return;
    try {
      await transition(this.store, sessionId, 'error', `capture failed ${count} times: ${message}`);
    } catch {
      // The store itself is failing; the state will be set by the next successful write.
    }
  }

  /** Companion shutdown: own-profile browsers keep running without us; their sessions wait to be rejoined. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const id of [...this.ownBrowserSessions]) await this.releaseOwnBrowser(id);
  }

  private async launchedSession(sessionId: string): Promise<string> {
    const record = await this.store.requireSession(sessionId);
    // `error` is a capture that kept failing (e.g. a full disk): its host may reconnect and retry.
    if (record.state !== 'active' && record.state !== 'error') {
      throw new RestoryError('invalid_state', `session ${sessionId} is ${record.state}, not active; capture refused`);
    }
    return sessionId;
  }

  private async ownBrowserSession(instanceId: string): Promise<string> {
    let sessionId = await this.store.findSessionByInstance(instanceId);
    if (sessionId) await transition(this.store, sessionId, 'active');
    else {
      sessionId = randomUUID();
      await this.store.createSession({ id: sessionId, name: 'own browser', state: 'active' });
    }
    // The welcome names this session: it must exist on disk before the browser hears of it.
    await this.store.flush();
    this.scheduler.track(sessionId);
    this.ownBrowserSessions.add(sessionId);
    return sessionId;
  }

  private async releaseOwnBrowser(sessionId: string): Promise<void> {
    this.ownBrowserSessions.delete(sessionId);
    await this.scheduler.take(sessionId, 'shutdown');
    this.scheduler.untrack(sessionId);
    if ((await this.store.getSession(sessionId))?.state === 'active') await transition(this.store, sessionId, 'recoverable', null);
  }
}
