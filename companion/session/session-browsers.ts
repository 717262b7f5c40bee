/**
 * The browsers this companion runs, one per session: start a new session, resume one (launch, then
 * restore its snapshot), close one, adopt one a previous companion left running, and notice when
 * one ends — closed by the user, crashed, or stopped with the companion. Each ending is a lifecycle
 * transition (lifecycle.ts).
 *
 * A browser does not depend on the companion (browser/spawn-browser.ts): the companion holds a
 * Playwright connection to it only while someone needs one — while restoring, and for the library
 * API's caller until it calls `detach()` — because an attached Playwright client instruments every
 * page and frame and costs CPU on every page load. It notices the end from the process itself: the
 * exit of a browser it launched, the pid of one it adopted.
 *
 * (Over 300 lines on purpose: start, resume, close and adoption share one map of running browsers
 * and one way each ends; apart, each would need the others' internals.)
 */
import { randomUUID } from 'node:crypto';
import type { Browser, BrowserContext } from 'playwright-core';
import { chromium } from '../browser/playwright.js';
import { RestoryError } from '../../shared/errors.js';
import type { ResumeReport } from '../../shared/protocol.js';
import type { SessionState } from '../../shared/state.js';
import { storageLimitNote } from '../../shared/storage-limit-note.js';
import { exitedCleanly, isAlive } from '../browser/exit-status.js';
import { waitForServiceWorker } from '../browser/launch.js';
import { restoreState } from '../browser/restore/restore-state.js';
import { assertPortFree, killGroup, removeProfile, type SpawnedBrowser } from '../browser/spawn-browser.js';
import { dataPaths } from '../data-dir.js';
import { debug } from '../debug.js';
import type { Store } from '../store/store.js';
import { BrowserRecords, browserRuns, endLeftover, type BrowserRecord } from './browser-records.js';
import { canBecome, transition } from './lifecycle.js';
import { discardPrelaunched, spawnSessionBrowser, type Prelaunched } from './session-browser-spawn.js';
import type { SnapshotScheduler } from './snapshot-scheduler.js';

const log = debug('companion');

/** After a resumed browser's restore finishes, give its extension this long to report the state. */
const SETTLE_AFTER_RESTORE_MS = 1500;
/**
 * How often the pid of a browser adopted from a previous companion is checked (one this companion
 * launched is its child: its exit is an event). A dying browser usually announces itself sooner —
 * its native host's stream ends (`streamEnded`) — and every check reads /proc: polling all browsers
 * 4 times a second was most of the companion's idle CPU (issue 11).
 */
const WATCH_MS = 1000;
/** SIGTERM first (Chromium shuts down in order), SIGKILL after this. */
const STOP_GRACE_MS = 5000;

export interface BrowserOptions {
  headed?: boolean;
  cdpPort?: number;
}

/** closed: by the user or `close`; crashed; shutdown: the companion stopped; failed: a resume that restored nothing. */
export type SessionEnd = 'closed' | 'crashed' | 'shutdown' | 'failed';

/** A browser this companion runs for a session. */
export interface RunningSession {
  sessionId: string;
  /** Playwright's `chromium.connectOverCDP(cdpEndpoint)` reaches it (127.0.0.1 only). */
  cdpEndpoint: string;
  browserPid: number;
  /** Settles when the browser is gone: the user closed it, it died, or the companion stopped it. */
  ended: Promise<SessionEnd>;
}

/** A running session with the companion's Playwright connection, as start and resume return it. */
export interface AttachedSession extends RunningSession {
  context: BrowserContext;
  /** Drop the Playwright connection; the browser runs on, reachable at cdpEndpoint. */
  detach(): Promise<void>;
  /**
   * Drop it once the restore's follow-ups are over (iframes a page inserts after load get their form
   * fields for a few seconds: restore/forms.ts), at once if there are none. For callers that hand
   * the browser on through its CDP endpoint and keep no Playwright connection of their own.
   */
  release(): void;
  /** Set by resume: resolves when the restore's follow-ups end. */
  followUps: Promise<void>;
}

interface Running extends RunningSession {
  userDataDir: string;
  browser: Browser | null;
  /** Why the companion is ending it; null while nobody asked (so an ending is the user's or a crash). */
  stopping: SessionEnd | null;
  /** Polls the pid of an adopted browser; none for one this companion launched (its exit is an event). */
  watch: NodeJS.Timeout | undefined;
  /** Look at the browser's pid now; `gone()` if it is no longer running. */
  look(): void;
  gone(): void;
}

/** What a launched browser needs to reach this companion. */
export interface CompanionEndpoint {
  dataDir: string;
  token: string;
}

export class SessionBrowsers {
  private readonly running = new Map<string, Running>();
  /**
   * Browsers found gone whose session has not yet moved on (browserGone is between taking them out
   * of `running` and the state transition): a resume waits for that instead of finding the session
   * still `active`.
   */
  private readonly ending = new Map<string, Promise<SessionEnd>>();
  private readonly records: BrowserRecords;

  constructor(
    private readonly store: Store,
    private readonly scheduler: SnapshotScheduler,
    private readonly endpoint: CompanionEndpoint,
    private readonly clock: () => number,
    private readonly notice: (message: string) => void,
    /** A browser the CLI started for a resume before this companion opened (session-browser-spawn.ts). */
    private prelaunched: Prelaunched | null = null,
  ) {
    this.records = new BrowserRecords(dataPaths(endpoint.dataDir).browsers);
    if (prelaunched) {
      let settle!: () => void;
      const activated = new Promise<void>((r) => (settle = r));
      this.activation = { sessionId: prelaunched.sessionId, activated, settle };
    }
  }

  /**
   * A prelaunched browser's extension says hello as soon as the socket is up, which can be before its
   * resume has made the session `active`: its capture waits for that (or for the resume to give up)
   * instead of being refused and retried.
   */
  private activation: { sessionId: string; activated: Promise<void>; settle: () => void } | null = null;

  whenActivated(sessionId: string): Promise<void> {
    return this.activation?.sessionId === sessionId ? this.activation.activated : Promise.resolve();
  }

  private settleActivation(sessionId: string): void {
    if (this.activation?.sessionId !== sessionId) return;
    this.activation.settle();
    this.activation = null;
  }

  get sessions(): RunningSession[] {
    return [...this.running.values()];
  }

  /**
   * At start-up: browsers a previous companion left running keep their sessions `active` and are
   * adopted (their extension reconnects and resends what it holds); records of browsers that are
   * gone are cleared, with the profiles they left. Returns the adopted session ids.
   */
  async adoptLeftovers(): Promise<Set<string>> {
    const adopted = new Set<string>();
    for (const record of this.records.all()) {
      if (record.sessionId === this.prelaunched?.sessionId) continue; // ours, for the resume to come
      const session = await this.store.getSession(record.sessionId);
      if (browserRuns(record) && (session?.state === 'active' || session?.state === 'error')) {
        this.track(record, null);
        adopted.add(record.sessionId);
        this.notice(`session ${record.sessionId}: adopted its running browser (${record.cdpEndpoint})`);
        continue;
      }
      await endLeftover(this.records, record); // gone, or its session ended meanwhile
    }
    return adopted;
  }

  /** Create a session and launch a browser for it, opening `urls` (about:blank when none). */
  async start(opts: BrowserOptions & { urls?: string[]; name?: string } = {}): Promise<AttachedSession> {
    if (opts.cdpPort) await assertPortFree(opts.cdpPort);
    const id = randomUUID();
    const name = opts.name ?? `session ${new Date(this.clock()).toISOString().slice(0, 16).replace('T', ' ')}`;
    await this.store.createSession({ id, name, state: 'active' });
    await this.store.flush();
    let session: AttachedSession;
    try {
      session = await this.launch(id, opts);
    } catch (e) {
      await this.fail(id, (e as Error).message);
      throw e;
    }
    const pages = session.context.pages();
    const urls = opts.urls ?? [];
    let opened = 0;
    for (let i = 0; i < urls.length; i++) {
      const page = i === 0 && pages[0] ? pages[0] : await session.context.newPage();
      await page.goto(urls[i]).then(
        () => opened++,
        (e: Error) => this.notice(`could not open ${urls[i]}: ${e.message}`),
      );
    }
    // A library caller may shut down right away: resolve once what was opened is stored durably.
    if (opened > 0) await this.captured(id, opened);
    return session;
  }

  /** Wait (5 s at most) until the session's captured state holds `tabs` web pages, and is on disk. */
  private async captured(sessionId: string, tabs: number, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (((await this.store.getSession(sessionId))?.tabCount ?? 0) >= tabs) return this.store.flush();
      await new Promise((r) => setTimeout(r, 50));
    }
    this.notice(`session ${sessionId}: the pages opened were not captured within ${timeoutMs / 1000} s; capture goes on`);
  }

  /**
   * Relaunch a session's browser and restore its newest snapshot (or `snapshotId`). The same session
   * id becomes `active` again and capture continues into it.
   */
  async resume(sessionId: string, opts: BrowserOptions & { snapshotId?: number } = {}): Promise<{ session: AttachedSession; report: ResumeReport }> {
    const early = this.takePrelaunched(sessionId, opts);
    try {
      return await this.resumeWith(sessionId, opts, early);
    } finally {
      this.settleActivation(sessionId);
      if (early && !early.taken) await discardPrelaunched(early.browser);
    }
  }

  /** The prelaunched browser when it was started for this session with these options; started with others, it is ended. */
  private takePrelaunched(sessionId: string, opts: BrowserOptions): { browser: Prelaunched; taken: boolean } | null {
    const p = this.prelaunched;
    if (!p || p.sessionId !== sessionId) return null;
    this.prelaunched = null;
    if (!!p.options.headed === !!opts.headed && p.options.cdpPort === opts.cdpPort) return { browser: p, taken: false };
    this.settleActivation(sessionId);
    void discardPrelaunched(p);
    return null;
  }

  /** A prelaunched browser no resume took before the companion stopped: ended. */
  private async discardUnused(): Promise<void> {
    const p = this.prelaunched;
    this.prelaunched = null;
    if (!p) return;
    this.settleActivation(p.sessionId);
    await discardPrelaunched(p);
  }

  private async resumeWith(
    sessionId: string,
    opts: BrowserOptions & { snapshotId?: number },
    early: { browser: Prelaunched; taken: boolean } | null,
  ): Promise<{ session: AttachedSession; report: ResumeReport }> {
    await this.ending.get(sessionId); // its last browser was just found gone: let its state settle first
    // The shared store: take the session's lease first (of companions racing, one wins; the others
    // hear it is in use elsewhere), recovering what a dead owner captured after its newest snapshot.
    await this.store.claimSession?.(sessionId);
    const record = await this.store.requireSession(sessionId);
    if (record.state === 'active' || !canBecome(record.state, 'active')) {
      const where = this.running.has(sessionId) ? ' in this companion' : '';
      throw new RestoryError('invalid_state', `session ${sessionId} is ${record.state}${where}; close it first (restory close ${sessionId})`);
    }
    const snapshot = await this.store.requireSnapshot(sessionId, opts.snapshotId);
    this.notice(`resume ${sessionId}: snapshot ${snapshot.id} read from the store`);
    // A browser that cannot start (a --cdp-port in use, say) is refused before the session is touched.
    if (early) await early.browser.spawned;
    else if (opts.cdpPort) await assertPortFree(opts.cdpPort);
    const warnings: string[] = [];
    if (record.state === 'stale') {
      warnings.push(`session ${sessionId} is stale: its newest snapshot is older than the max session age; cookies may have expired`);
    }
    if (record.storageLimit) warnings.push(`session ${sessionId}: ${storageLimitNote(record.storageLimit)}; what was captured is restored`);
    for (const w of warnings) this.notice(w);

    // Capture into the resumed browser starts from the restored state, not from what the old browser
    // last streamed after this snapshot (for an older --snapshot) and not from an empty state.
    await this.store.resetLive(sessionId, snapshot.state);
    await transition(this.store, sessionId, 'active');
    await this.store.flush();
    this.settleActivation(sessionId);

    // Until the resumed browser has reported its state, the live state is a half-restored mix that
    // must not become the newest snapshot.
    let settle!: () => void;
    this.scheduler.holdWhile(sessionId, new Promise<void>((r) => (settle = r)));
    let session: AttachedSession | null = null;
    let nothingRestored: string | null = null;
    const started = Date.now();
    const progress = (line: string) => this.notice(`resume ${sessionId}: ${line}`);
    try {
      if (early) early.taken = true;
      session = await this.launch(sessionId, opts, snapshot.state, (phase) => progress(`${phase} at ${Date.now() - started} ms`), early?.browser.spawned);
      progress(`browser ready at ${Date.now() - started} ms (${session.cdpEndpoint})`);
      const restoreStarted = Date.now() - started;
      const outcome = await restoreState(session.context, snapshot.state, { onProgress: (line) => progress(`${line} (restore started at ${restoreStarted} ms)`) });
      if (snapshot.state.tabs.length > 0 && !outcome.tabs.some((t) => t.ok)) {
        nothingRestored = `nothing could be restored: ${outcome.tabs.map((t) => `${t.url}: ${t.error ?? 'failed'}`).join('; ')}`;
        throw new RestoryError('launch_failed', nothingRestored);
      }
      setTimeout(settle, SETTLE_AFTER_RESTORE_MS).unref();
      session.followUps = Promise.all(outcome.followUps).then(() => {});
      const report: ResumeReport = {
        sessionId,
        snapshotId: snapshot.id,
        warnings: [...warnings, ...outcome.warnings],
        cookies: outcome.cookies,
        origins: outcome.origins,
        tabs: outcome.tabs,
        failures: outcome.failures,
        cdpEndpoint: session.cdpEndpoint,
      };
      return { session, report };
    } catch (e) {
      settle();
      const message = (e as Error).message;
      if (session) await this.stop(this.running.get(sessionId), 'failed');
      await this.fail(sessionId, nothingRestored ?? `${session ? 'restore' : 'launch'} failed: ${message}`);
      throw e;
    }
  }

  /** Close a session: its browser (if this companion runs one) after a final snapshot; state `closed`. */
  async close(sessionId: string): Promise<void> {
    await this.store.requireSession(sessionId);
    const running = this.running.get(sessionId);
    if (running) {
      await this.scheduler.take(sessionId, 'shutdown');
      await this.stop(running, 'closed');
    }
    await transition(this.store, sessionId, 'closed');
    await this.store.flush();
  }

  /** A session's capture stream ended: its browser may be gone; look now rather than at the next poll. */
  streamEnded(sessionId: string): void {
    const running = this.running.get(sessionId);
    running?.look();
  }

  /** Companion shutdown: final snapshots, browsers stopped, their sessions left `recoverable`. */
  async stopAll(): Promise<void> {
    await this.discardUnused();
    const all = [...this.running.values()];
    for (const r of all) await this.scheduler.take(r.sessionId, 'shutdown');
    await Promise.all(all.map((r) => this.stop(r, 'shutdown')));
  }

  private async fail(sessionId: string, reason: string): Promise<void> {
    await transition(this.store, sessionId, 'failed', reason);
    await this.store.flush();
  }

  /** `prelaunched`: the session's browser, already spawned (resume); else one is spawned here. */
  private async launch(
    sessionId: string,
    opts: BrowserOptions,
    state?: SessionState,
    phase: (what: string) => void = () => {},
    prelaunched?: Promise<SpawnedBrowser>,
  ): Promise<AttachedSession> {
    const spawned = await (prelaunched ?? spawnSessionBrowser(this.endpoint, sessionId, opts, state));
    phase(prelaunched ? 'Chromium (started before the store opened) answering on its CDP port' : 'Chromium answering on its CDP port');
    const { exited, ...where } = spawned;
    const record: BrowserRecord = { sessionId, ...where, startedAt: this.clock() };
    if (!prelaunched) this.records.write(record); // a prelaunched browser was recorded as soon as it answered
    let browser: Browser | null = null;
    try {
      browser = await chromium.connectOverCDP(spawned.cdpEndpoint);
      phase('connected over CDP');
      const context = browser.contexts()[0];
      if (!context) throw new RestoryError('launch_failed', `Chromium at ${spawned.cdpEndpoint} has no default context`);
      await waitForServiceWorker(context, 10_000);
      phase("the extension's service worker running");
      const running = this.track(record, browser, exited);
      const detach = async () => {
        const attached = running.browser;
        running.browser = null;
        await attached?.close().catch(() => {}); // connectOverCDP: close() only disconnects
      };
      const session: AttachedSession = {
        ...this.publicView(running),
        context,
        detach,
        release: () => void session.followUps.then(detach),
        followUps: Promise.resolve(),
      };
      return session;
    } catch (e) {
      await browser?.close().catch(() => {});
      killGroup(spawned.pid, 'SIGKILL');
      this.records.remove(sessionId);
      await removeProfile(spawned.userDataDir);
      throw e;
    }
  }

  /** Watch a browser until it is gone; then its session's lifecycle moves on (browserGone). */
  private track(record: BrowserRecord, browser: Browser | null, exited?: Promise<void>): Running {
    let resolveEnded!: (end: SessionEnd) => void;
    const running: Running = {
      sessionId: record.sessionId,
      cdpEndpoint: record.cdpEndpoint,
      browserPid: record.pid,
      userDataDir: record.userDataDir,
      browser,
      stopping: null,
      ended: new Promise<SessionEnd>((r) => (resolveEnded = r)),
      watch: exited ? undefined : setInterval(() => running.look(), WATCH_MS),
      look: () => isAlive(record.pid) || running.gone(),
      gone: () => {
        running.gone = () => {};
        clearInterval(running.watch);
        this.ending.set(running.sessionId, running.ended);
        void this.browserGone(running)
          .then(resolveEnded, () => resolveEnded('crashed'))
          .finally(() => {
            if (this.ending.get(running.sessionId) === running.ended) this.ending.delete(running.sessionId);
          });
      },
    };
    running.watch?.unref();
    void exited?.then(() => running.gone());
    // A dropped CDP connection is the first sign of a dead browser: look at once.
    browser?.on('disconnected', () => running.look());
    this.running.set(record.sessionId, running);
    this.scheduler.track(record.sessionId);
    return running;
  }

  private publicView(r: Running): RunningSession {
    return { sessionId: r.sessionId, cdpEndpoint: r.cdpEndpoint, browserPid: r.browserPid, ended: r.ended };
  }

  /** End a browser: SIGTERM to its process group (an orderly Chromium shutdown), SIGKILL after a grace period. */
  private async stop(running: Running | undefined, why: SessionEnd): Promise<void> {
    if (!running) return;
    running.stopping ??= why;
    const attached = running.browser;
    running.browser = null;
    await attached?.close().catch(() => {});
    killGroup(running.browserPid, 'SIGTERM');
    const killer = setTimeout(() => killGroup(running.browserPid, 'SIGKILL'), STOP_GRACE_MS);
    await running.ended;
    clearTimeout(killer);
  }

  private async browserGone(running: Running): Promise<SessionEnd> {
    const { sessionId } = running;
    this.running.delete(sessionId);
    await running.browser?.close().catch(() => {});
    running.browser = null;
    const end: SessionEnd = running.stopping ?? ((await exitedCleanly(running.userDataDir, running.browserPid)) ? 'closed' : 'crashed');
    // The profile held only what the store already has; the next launch gets a fresh one.
    killGroup(running.browserPid, 'SIGKILL'); // renderers or the host may outlive the browser process
    this.records.remove(sessionId);
    await removeProfile(running.userDataDir);
    if (!running.stopping) {
      // Not asked to stop: the user closed the browser (closed) or it died (recoverable at once).
      await this.scheduler.take(sessionId, 'shutdown');
      await transition(this.store, sessionId, end === 'closed' ? 'closed' : 'recoverable', end === 'crashed' ? 'the browser exited unexpectedly' : null);
    } else if (running.stopping === 'shutdown') {
      await transition(this.store, sessionId, 'recoverable', null);
    }
    this.scheduler.untrack(sessionId);
    await this.store.flush().catch(() => {});
    log('browser of', sessionId, 'ended:', end);
    return end;
  }
}
