/**
 * The browsers this companion launches, one per session: start a new session, resume one (launch,
 * then restore its snapshot), close one, and notice when one ends — closed by the user, crashed,
 * or stopped with the companion. Each ending is a lifecycle transition (lifecycle.ts).
 */
import { randomUUID } from 'node:crypto';
import type { BrowserContext } from 'playwright-core';
import { ENV } from '../../shared/constants.js';
import { RestoryError } from '../../shared/errors.js';
import type { ResumeReport } from '../../shared/protocol.js';
import type { SessionState } from '../../shared/state.js';
import { exitedCleanly } from '../browser/exit-status.js';
import { ensureExtensionBuilt } from '../browser/extension-build.js';
import { launchBrowser, type LaunchedBrowser } from '../browser/launch.js';
import { restoreState } from '../browser/restore/restore-state.js';
import { dataPaths } from '../data-dir.js';
import { debug } from '../debug.js';
import { nativeHostScript, projectRoot } from '../project-root.js';
import type { Store } from '../store/store.js';
import { canBecome, transition } from './lifecycle.js';
import type { SnapshotScheduler } from './snapshot-scheduler.js';

const log = debug('companion');

/** After a resumed browser's restore finishes, give its extension this long to report the state. */
const SETTLE_AFTER_RESTORE_MS = 1500;

export interface BrowserOptions {
  headed?: boolean;
  cdpPort?: number;
}

export type SessionEnd = 'closed' | 'crashed' | 'shutdown';

/** A browser this companion launched for a session. */
export interface RunningSession {
  sessionId: string;
  context: BrowserContext;
  cdpEndpoint?: string;
  browserPid?: number;
  /** Settles when the browser is gone: the user closed it, it died, or the companion shut down. */
  ended: Promise<SessionEnd>;
}

interface Running extends RunningSession {
  launched: LaunchedBrowser;
  /** Why the companion is closing it; null while nobody asked (so an ending is the user's or a crash). */
  stopping: SessionEnd | null;
}

/** What a launched browser needs to reach this companion. */
export interface CompanionEndpoint {
  dataDir: string;
  token: string;
}

export class SessionBrowsers {
  private readonly running = new Map<string, Running>();

  constructor(
    private readonly store: Store,
    private readonly scheduler: SnapshotScheduler,
    private readonly endpoint: CompanionEndpoint,
    private readonly clock: () => number,
    private readonly notice: (message: string) => void,
  ) {}

  get sessions(): RunningSession[] {
    return [...this.running.values()];
  }

  has(sessionId: string): boolean {
    return this.running.has(sessionId);
  }

  /** Create a session and launch a browser for it, opening `urls` (about:blank when none). */
  async start(opts: BrowserOptions & { urls?: string[]; name?: string } = {}): Promise<RunningSession> {
    const id = randomUUID();
    const name = opts.name ?? `session ${new Date(this.clock()).toISOString().slice(0, 16).replace('T', ' ')}`;
    await this.store.createSession({ id, name, state: 'active' });
    await this.store.flush();
    let running: Running;
    try {
      running = await this.launch(id, opts);
    } catch (e) {
      await this.fail(id, (e as Error).message);
      throw e;
    }
    const pages = running.context.pages();
    const urls = opts.urls ?? [];
    for (let i = 0; i < urls.length; i++) {
      const page = i === 0 && pages[0] ? pages[0] : await running.context.newPage();
      await page.goto(urls[i]).catch((e: Error) => this.notice(`could not open ${urls[i]}: ${e.message}`));
    }
    return running;
  }

  /**
   * Relaunch a session's browser and restore its newest snapshot (or `snapshotId`). The same session
   * id becomes `active` again and capture continues into it.
   */
  async resume(sessionId: string, opts: BrowserOptions & { snapshotId?: number } = {}): Promise<{ session: RunningSession; report: ResumeReport }> {
    const record = await this.store.requireSession(sessionId);
    if (record.state === 'active' || !canBecome(record.state, 'active')) {
      const where = this.running.has(sessionId) ? ' in this companion' : '';
      throw new RestoryError('invalid_state', `session ${sessionId} is ${record.state}${where}; close it first (restory close ${sessionId})`);
    }
    const snapshot = await this.store.requireSnapshot(sessionId, opts.snapshotId);
    const warnings: string[] = [];
    if (record.state === 'stale') {
      warnings.push(`session ${sessionId} is stale: its newest snapshot is older than the max session age; cookies may have expired`);
    }
    for (const w of warnings) this.notice(w);

    // Capture into the resumed browser starts from the restored state, not from what the old browser
    // last streamed after this snapshot (for an older --snapshot) and not from an empty state.
    await this.store.resetLive(sessionId, snapshot.state);
    await transition(this.store, sessionId, 'active');
    await this.store.flush();

    // Until the resumed browser has reported its state, the live state is a half-restored mix that
    // must not become the newest snapshot.
    let settle!: () => void;
    this.scheduler.holdWhile(sessionId, new Promise<void>((r) => (settle = r)));
    let running: Running | null = null;
    let nothingRestored: string | null = null;
    try {
      running = await this.launch(sessionId, opts, snapshot.state);
      const outcome = await restoreState(running.context, snapshot.state);
      if (snapshot.state.tabs.length > 0 && !outcome.tabs.some((t) => t.ok)) {
        nothingRestored = `nothing could be restored: ${outcome.tabs.map((t) => `${t.url}: ${t.error ?? 'failed'}`).join('; ')}`;
        throw new RestoryError('launch_failed', nothingRestored);
      }
      setTimeout(settle, SETTLE_AFTER_RESTORE_MS).unref();
      const report: ResumeReport = {
        sessionId,
        snapshotId: snapshot.id,
        warnings: [...warnings, ...outcome.warnings],
        cookies: outcome.cookies,
        origins: outcome.origins,
        tabs: outcome.tabs,
        failures: outcome.failures,
        ...(running.cdpEndpoint ? { cdpEndpoint: running.cdpEndpoint } : {}),
      };
      return { session: running, report };
    } catch (e) {
      settle();
      const message = (e as Error).message;
      const reason = nothingRestored ?? `${running ? 'restore' : 'launch'} failed: ${message}`;
      if (running) {
        running.stopping = 'shutdown';
        await running.launched.close();
      }
      await this.fail(sessionId, reason);
      throw e;
    }
  }

  /** Close a session: its browser (if this companion runs one) after a final snapshot; state `closed`. */
  async close(sessionId: string): Promise<void> {
    await this.store.requireSession(sessionId);
    const running = this.running.get(sessionId);
    if (running) {
      await this.scheduler.take(sessionId, 'shutdown');
      running.stopping = 'closed';
      await running.launched.close();
      await running.ended;
    }
    await transition(this.store, sessionId, 'closed');
    await this.store.flush();
  }

  /** Companion shutdown: final snapshots, browsers closed, their sessions left `recoverable`. */
  async stopAll(): Promise<void> {
    const all = [...this.running.values()];
    for (const r of all) {
      await this.scheduler.take(r.sessionId, 'shutdown');
      r.stopping = 'shutdown';
    }
    await Promise.all(all.map((r) => r.launched.close().then(() => r.ended)));
  }

  private async fail(sessionId: string, reason: string): Promise<void> {
    await transition(this.store, sessionId, 'failed', reason);
    await this.store.flush();
  }

  private async launch(sessionId: string, opts: BrowserOptions, state?: SessionState): Promise<Running> {
    const paths = dataPaths(this.endpoint.dataDir);
    const extensionDir = await ensureExtensionBuilt(projectRoot());
    const bounds = state?.windows[0]?.bounds;
    const launched = await launchBrowser({
      extensionDir,
      hostScript: nativeHostScript(),
      headed: opts.headed,
      cdpPort: opts.cdpPort,
      viewport: state?.viewport ?? undefined,
      ...(bounds ? { windowBounds: bounds } : {}),
      env: {
        [ENV.dataDir]: this.endpoint.dataDir,
        [ENV.socket]: paths.socket,
        [ENV.token]: this.endpoint.token,
        [ENV.sessionId]: sessionId,
      },
    });
    let resolveEnded!: (end: SessionEnd) => void;
    const running: Running = {
      sessionId,
      context: launched.context,
      cdpEndpoint: launched.cdpEndpoint,
      browserPid: launched.browserPid,
      launched,
      stopping: null,
      ended: new Promise<SessionEnd>((r) => (resolveEnded = r)),
    };
    this.running.set(sessionId, running);
    this.scheduler.track(sessionId);
    launched.context.on('close', () => {
      void this.browserGone(running).then(resolveEnded, () => resolveEnded('crashed'));
    });
    return running;
  }

  private async browserGone(running: Running): Promise<SessionEnd> {
    const { sessionId } = running;
    this.running.delete(sessionId);
    const end: SessionEnd = running.stopping ?? ((await exitedCleanly(running.launched.userDataDir, running.browserPid)) ? 'closed' : 'crashed');
    if (!running.stopping) {
      // Not asked to stop: the user closed the browser (closed) or it died (recoverable at once).
      await this.scheduler.take(sessionId, 'shutdown');
      await transition(this.store, sessionId, end === 'closed' ? 'closed' : 'recoverable', end === 'crashed' ? 'the browser exited unexpectedly' : null);
      await running.launched.close();
    } else if (running.stopping === 'shutdown') {
      await transition(this.store, sessionId, 'recoverable', null);
    }
    this.scheduler.untrack(sessionId);
    await this.store.flush().catch(() => {});
    log('browser of', sessionId, 'ended:', end);
    return end;
  }
}
