/**
 * The companion: owns a data dir (store, lock, socket) and wires the parts that serve it — capture
 * intake (session/capture-intake.ts), snapshots (session/snapshot-scheduler.ts), the browsers it
 * launches (session/session-browsers.ts), orphan recovery at start-up (session/orphans.ts) and the
 * socket's requests (rpc.ts). The CLI and the library API (api.ts) are thin fronts over this class.
 */
import type { SequencedEvent } from '../shared/capture-events.js';
import { RestoryError } from '../shared/errors.js';
import type { MethodName } from '../shared/protocol.js';
import type { SessionState, SessionStatus, SessionSummary } from '../shared/state.js';
import { loadConfig, type Config } from './config.js';
import { dataPaths, ensureDataDir, resolveDataDir } from './data-dir.js';
import { companionHandlers, invoke, type RequestOrigin } from './rpc.js';
import { CaptureIntake } from './session/capture-intake.js';
import { importSession } from './session/import-export.js';
import { classifyOrphans } from './session/orphans.js';
import { discardPrelaunched, type Prelaunched } from './session/session-browser-spawn.js';
import { SessionBrowsers, type AttachedSession, type BrowserOptions, type RunningSession } from './session/session-browsers.js';
import { SnapshotScheduler } from './session/snapshot-scheduler.js';
import { serveConnection, type ConnectionHandlers } from './socket/connection.js';
import { SocketServer } from './socket/server.js';
import { loadOrCreateToken } from './socket/token.js';
import { openStore } from './store/open-store.js';
import type { Store } from './store/store.js';

export type { AttachedSession, BrowserOptions, RunningSession, SessionEnd } from './session/session-browsers.js';

export interface CompanionOptions {
  dataDir?: string;
  env?: NodeJS.ProcessEnv;
  /** Overrides on top of config.json and the environment. */
  config?: Partial<Config>;
  clock?: () => number;
  /** Warnings and notices for a human (the CLI prints them to stderr). */
  onNotice?: (message: string) => void;
  /**
   * A browser already started for the resume of one session (session/session-browser-spawn.ts), used
   * by that resume; ended if no resume takes it. `restory resume` passes one.
   */
  prelaunched?: Prelaunched;
}

export class Companion implements ConnectionHandlers {
  private readonly scheduler: SnapshotScheduler;
  private readonly capture: CaptureIntake;
  private readonly browsers: SessionBrowsers;
  private readonly rpc = companionHandlers(this);
  private server: SocketServer | null = null;
  private closing: Promise<void> | null = null;
  /** Socket requests being answered; shutdown lets them finish (they may need the store). */
  private readonly inflight = new Set<Promise<unknown>>();

  private constructor(
    readonly dataDir: string,
    readonly config: Config,
    readonly store: Store,
    token: string,
    clock: () => number,
    notice: (message: string) => void,
    prelaunched?: Prelaunched,
  ) {
    this.scheduler = new SnapshotScheduler(store, config.snapshotIntervalMs, (id, e) => void this.capture.failed(id, e));
    this.capture = new CaptureIntake(store, this.scheduler, notice);
    this.browsers = new SessionBrowsers(store, this.scheduler, { dataDir, token }, clock, notice, prelaunched);
  }

  static async open(opts: CompanionOptions = {}): Promise<Companion> {
    try {
      return await Companion.openWith(opts);
    } catch (e) {
      if (opts.prelaunched) await discardPrelaunched(opts.prelaunched); // idempotent: shutdown may have ended it
      throw e;
    }
  }

  private static async openWith(opts: CompanionOptions): Promise<Companion> {
    const env = opts.env ?? process.env;
    const dataDir = resolveDataDir({ flag: opts.dataDir, env });
    ensureDataDir(dataDir);
    const config = { ...loadConfig(dataDir, env), ...opts.config };
    const clock = opts.clock ?? Date.now;
    const notice = opts.onNotice ?? (() => {});
    const paths = dataPaths(dataDir);
    const store = await openStore({ dataDir, clock, config, env });
    let companion: Companion | null = null;
    try {
      const token = loadOrCreateToken(paths.token);
      const opened = (companion = new Companion(dataDir, config, store, token, clock, notice, opts.prelaunched));
      // A browser that outlived its companion keeps its session active; the rest are orphans.
      const adopted = await opened.browsers.adoptLeftovers();
      const orphans = await classifyOrphans(store, { now: clock(), maxSessionAgeMs: config.maxSessionAgeMs }, adopted);
      for (const o of orphans) notice(`session ${o.id} was left ${o.from}; now ${o.to}`);
      opened.server = new SocketServer(paths.socket, token, (conn, auth) => serveConnection(conn, auth, opened));
      await opened.server.listen();
      if (config.autoResume) {
        for (const s of await store.listSessions({ state: 'recoverable' })) {
          await opened
            .resume(s.id)
            .then(({ session }) => session.detach())
            .catch((e: Error) => notice(`auto-resume of ${s.id} failed: ${e.message}`));
        }
      }
      return companion;
    } catch (e) {
      if (companion) await companion.shutdown().catch(() => {});
      else await store.close();
      throw e;
    }
  }

  // ------------------------------------------------------------------ the library API

  /** Sessions, newest activity first. */
  async list(filter: { state?: SessionStatus } = {}): Promise<SessionSummary[]> {
    const endpoints = new Map(this.runningSessions.map((r) => [r.sessionId, r.cdpEndpoint]));
    return (await this.store.listSessions(filter)).map((s) => {
      const cdpEndpoint = endpoints.get(s.id);
      return cdpEndpoint ? { ...s, cdpEndpoint } : s;
    });
  }

  /** Create a session and launch a browser for it, opening `urls` (about:blank when none). */
  start(opts: BrowserOptions & { urls?: string[]; name?: string } = {}): Promise<AttachedSession> {
    return this.browsers.start(opts);
  }

  /** Relaunch a session's browser with its newest snapshot (or `snapshotId`) restored; it is `active` again. */
  resume(sessionId: string, opts: BrowserOptions & { snapshotId?: number } = {}) {
    return this.browsers.resume(sessionId, opts);
  }

  /** Close a session: its browser (if this companion runs one) after a final snapshot; state `closed`. */
  close(sessionId: string): Promise<void> {
    return this.browsers.close(sessionId);
  }

  /** What has been captured of a session so far (its newest snapshot plus every event since). */
  async currentState(sessionId: string): Promise<SessionState> {
    return this.store.currentState(sessionId);
  }

  /** A new `recoverable` session from a Playwright storageState or a restory export. */
  importState(input: { name: string; state: SessionState }): Promise<string> {
    return importSession(this.store, input);
  }

  /** A snapshot now; null when nothing changed since the newest one. */
  async snapshot(sessionId: string): Promise<number | null> {
    await this.store.requireSession(sessionId);
    return this.scheduler.take(sessionId, 'manual');
  }

  get runningSessions(): RunningSession[] {
    return this.browsers.sessions;
  }

  /**
   * Final snapshots, browsers closed, sessions left `recoverable` (they were interrupted, not
   * finished), store folded and unlocked.
   */
  shutdown(): Promise<void> {
    this.closing ??= (async () => {
      // A `close` of the last browser ends the foreground companion while that request still has to
      // record the state and answer.
      await Promise.allSettled([...this.inflight]);
      await this.browsers.stopAll();
      await this.capture.stop();
      this.scheduler.stop();
      await this.server?.close();
      await this.store.close();
    })();
    return this.closing;
  }

  // ------------------------------------------------------------------ socket connections

  async bindCapture(auth: { sessionId?: string }, hello: { instanceId: string }) {
    if (auth.sessionId) await this.browsers.whenActivated(auth.sessionId);
    return this.capture.bind(auth, hello);
  }

  captureEvents(sessionId: string, instanceId: string, batch: SequencedEvent[]): Promise<{ seq: number; resync: boolean }> {
    return this.capture.events(sessionId, instanceId, batch);
  }

  captureEnded(sessionId: string): void {
    this.capture.ended(sessionId);
    this.browsers.streamEnded(sessionId);
  }

  request(method: MethodName, params: unknown, from: RequestOrigin): Promise<unknown> {
    // A request during shutdown would launch browsers or write into a store that is closing; it is
    // refused untouched, so the caller may ask the next companion of this data dir (restory mcp does).
    if (this.closing) return Promise.reject(new RestoryError('companion_stopping', `the companion of ${this.dataDir} is stopping; ${method} was not done`));
    const answer = invoke(this.rpc, method, params, from);
    this.inflight.add(answer);
    void answer.finally(() => this.inflight.delete(answer)).catch(() => {});
    return answer;
  }
}
