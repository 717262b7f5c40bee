/**
 * The companion: owns the data dir (store, lock, socket), receives capture streams, takes
 * snapshots, launches browsers for new and resumed sessions and notices when they end.
 * The CLI and the library API (companion/api.ts) are thin fronts over this class.
 */
import { randomUUID } from 'node:crypto';
import type { BrowserContext } from 'playwright-core';
import { ENV } from '../shared/constants.js';
import { RestoryError } from '../shared/errors.js';
import type { SequencedEvent } from '../shared/capture-events.js';
import type { MethodName, MethodParams, MethodResult, ResumeReport } from '../shared/protocol.js';
import type { SessionState, SessionStatus, SessionSummary } from '../shared/state.js';
import { loadConfig, type Config } from './config.js';
import { dataPaths, ensureDataDir, resolveDataDir } from './data-dir.js';
import { Store, toSummary } from './store/store.js';
import { SocketServer } from './socket/server.js';
import { serveConnection, type ConnectionHandlers } from './socket/connection.js';
import { SnapshotScheduler } from './session/snapshot-scheduler.js';
import { loadOrCreateToken } from './socket/token.js';
import { launchBrowser, ensureExtensionBuilt, type LaunchedBrowser } from './browser/launch.js';
import { exitedCleanly } from './browser/exit-status.js';
import { restoreSession } from './browser/rehydrate.js';
import { LiveState } from './session-state/live-state.js';
import { classifyOrphans } from './session/orphans.js';
import { importSession } from './session/import-export.js';
import { nativeHostScript, packageVersion, projectRoot } from './project-root.js';
import { debug } from './debug.js';

const log = debug('companion');

/** After a resumed browser's restore finishes, give its extension this long to report the state. */
const SETTLE_AFTER_RESTORE_MS = 1500;
/** Consecutive failures to store a session's capture before it is marked `error`. */
const MAX_CAPTURE_FAILURES = 5;

export interface CompanionOptions {
  dataDir?: string;
  env?: NodeJS.ProcessEnv;
  /** Overrides on top of config.json and the environment. */
  config?: Partial<Config>;
  clock?: () => number;
  /** Warnings and notices for a human (the CLI prints them to stderr). */
  onNotice?: (message: string) => void;
}

export interface LaunchOptions {
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
  stopping: SessionEnd | null;
}

export class Companion implements ConnectionHandlers {
  private readonly running = new Map<string, Running>();
  private readonly captureFailures = new Map<string, number>();
  /** Sessions fed by a browser this companion did not launch (extension loaded unpacked). */
  private readonly ownBrowserSessions = new Set<string>();
  private readonly scheduler: SnapshotScheduler;
  private closing: Promise<void> | null = null;

  private constructor(
    readonly dataDir: string,
    readonly config: Config,
    readonly store: Store,
    private readonly token: string,
    private readonly server: SocketServer,
    private readonly clock: () => number,
    private readonly notice: (message: string) => void,
  ) {
    this.scheduler = new SnapshotScheduler(store, config.snapshotIntervalMs, (id, e) => this.captureFailed(id, e));
  }

  static async open(opts: CompanionOptions = {}): Promise<Companion> {
    const env = opts.env ?? process.env;
    const dataDir = resolveDataDir({ flag: opts.dataDir, env });
    ensureDataDir(dataDir);
    const config = { ...loadConfig(dataDir, env), ...opts.config };
    const clock = opts.clock ?? Date.now;
    const paths = dataPaths(dataDir);
    const store = await Store.open({ dataDir, clock, config, env });
    let server: SocketServer | null = null;
    try {
      const token = loadOrCreateToken(paths.token);
      const notice = opts.onNotice ?? (() => {});
      let companion: Companion | null = null;
      server = new SocketServer(paths.socket, token, (conn, auth) => serveConnection(conn, auth, companion!));
      companion = new Companion(dataDir, config, store, token, server, clock, notice);
      const orphans = classifyOrphans(store, { now: clock(), maxSessionAgeMs: config.maxSessionAgeMs });
      for (const o of orphans) notice(`session ${o.id} was left ${o.from}; now ${o.to}`);
      await server.listen();
      if (config.autoRehydrate) {
        for (const s of store.listSessions({ status: 'recoverable' })) {
          await companion.resume(s.id).catch((e: Error) => notice(`auto-rehydrate of ${s.id} failed: ${e.message}`));
        }
      }
      return companion;
    } catch (e) {
      await server?.close().catch(() => {});
      await store.close();
      throw e;
    }
  }

  // ------------------------------------------------------------------ sessions

  list(filter: { state?: SessionStatus } = {}): SessionSummary[] {
    return this.store
      .listSessions(filter.state ? { status: filter.state } : undefined)
      .map((r) => toSummary(r, this.store.live(r.id)));
  }

  /** Create a session and launch a browser for it, opening `urls` (about:blank when none). */
  async start(opts: LaunchOptions & { urls?: string[]; name?: string } = {}): Promise<RunningSession> {
    const id = randomUUID();
    const name = opts.name ?? `session ${new Date(this.clock()).toISOString().slice(0, 16).replace('T', ' ')}`;
    this.store.createSession({ id, name, status: 'active' });
    await this.store.flush();
    let running: Running;
    try {
      running = await this.launchFor(id, opts);
    } catch (e) {
      this.store.setStatus(id, 'failed', (e as Error).message);
      await this.store.flush();
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
  async resume(
    sessionId: string,
    opts: LaunchOptions & { snapshotId?: number } = {},
  ): Promise<{ session: RunningSession; report: ResumeReport }> {
    const record = this.store.requireSession(sessionId);
    if (record.status === 'active') {
      throw new RestoryError(
        'invalid_state',
        `session ${sessionId} is active${this.running.has(sessionId) ? ' in this companion' : ''}; close it first (restory close ${sessionId})`,
      );
    }
    const snapshot = this.store.requireSnapshot(sessionId, opts.snapshotId);
    const warnings: string[] = [];
    if (record.status === 'stale') {
      warnings.push(`session ${sessionId} is stale: its newest snapshot is older than the max session age; cookies may have expired`);
    }
    for (const w of warnings) this.notice(w);

    // Capture into the resumed browser starts from the restored state, not from what the old browser
    // last streamed after this snapshot (for an older --snapshot) and not from an empty state.
    this.store.resetLive(sessionId, LiveState.fromState(snapshot.state).toData());
    this.store.setStatus(sessionId, 'active', null);
    await this.store.flush();

    let settle!: () => void;
    const settled = new Promise<void>((r) => (settle = r));
    this.scheduler.holdWhile(sessionId, settled);
    let running: Running;
    try {
      running = await this.launchFor(sessionId, opts, snapshot.state);
    } catch (e) {
      settle();
      this.store.setStatus(sessionId, 'failed', `launch failed: ${(e as Error).message}`);
      await this.store.flush();
      throw e;
    }
    try {
      const outcome = await restoreSession(running.context, snapshot.state);
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
      const restoredAnything = snapshot.state.tabs.length === 0 || outcome.tabs.some((t) => t.ok);
      if (!restoredAnything) {
        const reason = `nothing could be restored: ${outcome.tabs.map((t) => `${t.url}: ${t.error ?? 'failed'}`).join('; ')}`;
        running.stopping = 'shutdown';
        await running.launched.close();
        this.store.setStatus(sessionId, 'failed', reason);
        await this.store.flush();
        throw new RestoryError('launch_failed', reason);
      }
      setTimeout(settle, SETTLE_AFTER_RESTORE_MS).unref();
      return { session: running, report };
    } catch (e) {
      settle();
      if (!(e instanceof RestoryError)) {
        running.stopping = 'shutdown';
        await running.launched.close();
        this.store.setStatus(sessionId, 'failed', `restore failed: ${(e as Error).message}`);
        await this.store.flush();
      }
      throw e;
    }
  }

  /** Close a session: its browser (if this companion runs one) after a final snapshot; state `closed`. */
  async close(sessionId: string): Promise<void> {
    this.store.requireSession(sessionId);
    const running = this.running.get(sessionId);
    if (running) {
      this.scheduler.take(sessionId, 'shutdown');
      running.stopping = 'closed';
      await running.launched.close();
      await running.ended;
    }
    this.store.setStatus(sessionId, 'closed', null);
    await this.store.flush();
  }

  /** What has been captured of a session so far (its live state, newer than its newest snapshot). */
  currentState(sessionId: string): SessionState {
    this.store.requireSession(sessionId);
    return this.store.live(sessionId).toState();
  }

  /** A new `recoverable` session from a Playwright storageState or a restory export. */
  importState(input: { name: string; state: SessionState }): string {
    return importSession(this.store, input);
  }

  snapshot(sessionId: string): number | null {
    this.store.requireSession(sessionId);
    return this.scheduler.take(sessionId, 'manual');
  }

  get runningSessions(): RunningSession[] {
    return [...this.running.values()];
  }

  /**
   * Final snapshots, browsers closed, sessions left `recoverable` (they were interrupted, not
   * finished), store folded and unlocked.
   */
  shutdown(): Promise<void> {
    this.closing ??= (async () => {
      for (const r of this.running.values()) {
        this.scheduler.take(r.sessionId, 'shutdown');
        r.stopping = 'shutdown';
      }
      await Promise.all([...this.running.values()].map((r) => r.launched.close().then(() => r.ended)));
      // Own-profile browsers keep running without us: their sessions wait to be resumed or rejoined.
      for (const id of this.ownBrowserSessions) this.releaseOwnBrowserSession(id);
      this.scheduler.stop();
      await this.server.close();
      await this.store.close();
    })();
    return this.closing;
  }

  // ------------------------------------------------------------------ browsers

  private async launchFor(sessionId: string, opts: LaunchOptions, state?: SessionState): Promise<Running> {
    const paths = dataPaths(this.dataDir);
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
        [ENV.dataDir]: this.dataDir,
        [ENV.socket]: paths.socket,
        [ENV.token]: this.token,
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
      this.scheduler.take(sessionId, 'shutdown');
      this.store.setStatus(sessionId, end === 'closed' ? 'closed' : 'recoverable', end === 'crashed' ? 'the browser exited unexpectedly' : null);
      await running.launched.close();
    } else if (running.stopping === 'shutdown') {
      this.store.setStatus(sessionId, 'recoverable', null);
    }
    this.scheduler.untrack(sessionId);
    await this.store.flush().catch(() => {});
    log('browser of', sessionId, 'ended:', end);
    return end;
  }

  // ------------------------------------------------------------------ socket handlers

  bindCapture(
    auth: { sessionId?: string },
    hello: { instanceId: string },
  ): { sessionId: string; ackedSeq: number } {
    const sessionId = auth.sessionId ? this.launchedSession(auth.sessionId) : this.ownBrowserSession(hello.instanceId);
    const live = this.store.live(sessionId);
    return { sessionId, ackedSeq: live.instanceId === hello.instanceId ? live.lastSeq : 0 };
  }

  private launchedSession(sessionId: string): string {
    const record = this.store.requireSession(sessionId);
    // `error` is a capture that kept failing (e.g. a full disk): its host may reconnect and retry.
    if (record.status !== 'active' && record.status !== 'error') {
      throw new RestoryError('invalid_state', `session ${sessionId} is ${record.status}, not active; capture refused`);
    }
    return sessionId;
  }

  /**
   * A browser the companion did not launch (the extension loaded unpacked in the user's own
   * profile) is identified by its extension instance id and gets a session of its own.
   */
  private ownBrowserSession(instanceId: string): string {
    const existing = this.store.listSessions().find((r) => this.store.live(r.id).instanceId === instanceId);
    let sessionId: string;
    if (existing) {
      sessionId = existing.id;
      if (existing.status !== 'active') this.store.setStatus(sessionId, 'active', null);
    } else {
      sessionId = randomUUID();
      this.store.createSession({ id: sessionId, name: 'own browser', status: 'active' });
    }
    this.scheduler.track(sessionId);
    this.ownBrowserSessions.add(sessionId);
    return sessionId;
  }

  async captureEvents(
    sessionId: string,
    instanceId: string,
    batch: SequencedEvent[],
  ): Promise<number> {
    try {
      const { lastSeq } = this.store.applyEvents(sessionId, instanceId, batch);
      await this.store.flush();
      if (this.captureFailures.delete(sessionId) && this.store.getSession(sessionId)?.status === 'error') {
        // Capture works again (space came back): the session is no longer in error.
        this.store.setStatus(sessionId, 'active', null);
      }
      if (batch.some((e) => e.event.kind === 'navigation' || e.event.kind === 'tabs')) this.scheduler.noteNavigation(sessionId);
      return lastSeq;
    } catch (e) {
      this.captureFailed(sessionId, e);
      throw e;
    }
  }

  captureEnded(sessionId: string): void {
    // An own-profile browser went away (closed, or its extension was reloaded): keep what we have.
    if (!this.closing && this.ownBrowserSessions.has(sessionId)) this.releaseOwnBrowserSession(sessionId);
  }

  private releaseOwnBrowserSession(sessionId: string): void {
    this.ownBrowserSessions.delete(sessionId);
    this.scheduler.take(sessionId, 'shutdown');
    this.scheduler.untrack(sessionId);
    if (this.store.getSession(sessionId)?.status === 'active') this.store.setStatus(sessionId, 'recoverable', null);
  }

  private captureFailed(sessionId: string, error: unknown): void {
    const count = (this.captureFailures.get(sessionId) ?? 0) + 1;
    this.captureFailures.set(sessionId, count);
    const message = error instanceof Error ? error.message : String(error);
    this.notice(`capture of ${sessionId} failed (${count}/${MAX_CAPTURE_FAILURES}): ${message}`);
    if (count >= MAX_CAPTURE_FAILURES) {
      try {
        this.store.setStatus(sessionId, 'error', `capture failed ${count} times: ${message}`);
      } catch {
        // The store itself is failing; the status will be set by the next successful write.
      }
    }
  }

  async request(method: MethodName, params: unknown, from: { sessionId: string | null }): Promise<unknown> {
    return this.handle(method, params as never, from);
  }

  private async handle<M extends MethodName>(method: M, params: MethodParams<M>, from: { sessionId: string | null }): Promise<MethodResult<M>> {
    type R = MethodResult<M>;
    switch (method) {
      case 'list': {
        const p = params as MethodParams<'list'>;
        return { sessions: this.list({ state: p.state }), currentSessionId: from.sessionId ?? undefined } as R;
      }
      case 'resume': {
        const p = params as MethodParams<'resume'>;
        const { report } = await this.resume(p.sessionId, { snapshotId: p.snapshotId, headed: p.headed });
        return report as R;
      }
      case 'close':
        await this.close((params as MethodParams<'close'>).sessionId);
        return {} as R;
      case 'snapshot':
        return { snapshotId: this.snapshot((params as MethodParams<'snapshot'>).sessionId) } as R;
      case 'import':
        return { sessionId: this.importState(params as MethodParams<'import'>) } as R;
      case 'status':
        return {
          pid: process.pid,
          dataDir: this.dataDir,
          version: packageVersion(),
          activeSessions: [...this.running.keys()],
        } as R;
    }
    throw new RestoryError('bad_message', `unknown method ${String(method)}`);
  }
}
