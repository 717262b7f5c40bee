/**
 * One companion per data dir: `restory mcp` talks to the one already running (its socket answers:
 * remote-companion.ts), or is the companion itself when none runs (in-process-companion.ts).
 *
 * A running companion may stop while the MCP server uses it — Ctrl-C on a `restory start`, or the
 * foreground companion ending with its last browser. The browsers it ran may outlive it
 * (session-browsers.ts), so the next call takes over: it connects to whichever companion answers
 * now, or opens the companion in this process, which adopts the browsers still running and finds
 * the others' sessions recoverable; the call's result says so in its first line. A call the
 * companion refused because it was stopping (`companion_stopping`: nothing was done) runs again on
 * the next companion. One in flight when the companion died — or sent just before this process
 * noticed: the two cannot be told apart — runs again only if repeating it is harmless (reads, a
 * snapshot); a start, resume or close fails with a clear error instead, since it may have been
 * done (the next call finds what it left: an adopted browser, a session's new state).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { RestoryError } from '../../shared/errors.js';
import type { SessionStatus } from '../../shared/state.js';
import type { ExportFormat } from '../cli/backend.js';
import { Companion } from '../companion.js';
import { dataPaths } from '../data-dir.js';
import { CompanionClient } from '../socket/client.js';
import { inspectLock } from '../store/data-dir-lock.js';
import { InProcessCompanion } from './in-process-companion.js';
import type { McpCompanion } from './mcp-companion.js';
import { RemoteCompanion } from './remote-companion.js';

/** A companion that is stopping holds the data dir's lock until its store is saved and its browsers ended (up to their 5 s grace). */
const ATTACH_WAIT_MS = 15_000;
const ATTACH_RETRY_MS = 200;

/** Harmless to run twice: what a call that may have been done already can be repeated with. */
const REPEATABLE = true;

export type Route = { kind: 'client'; pid: number } | { kind: 'in-process' };

export class CompanionRoute implements McpCompanion {
  private switching: Promise<McpCompanion> | null = null;
  private notices: string[] = [];

  private constructor(
    private inner: McpCompanion,
    readonly dataDir: string,
    private readonly notice: (message: string) => void,
  ) {}

  /** Attach to the data dir's running companion, or open it in this process when none runs. */
  static async open(dataDir: string, notice: (message: string) => void): Promise<CompanionRoute> {
    return new CompanionRoute(await attach(dataDir, notice), dataDir, notice);
  }

  get route(): Route {
    return this.inner instanceof RemoteCompanion ? { kind: 'client', pid: this.inner.pid } : { kind: 'in-process' };
  }

  /** Lines for the next tool result: the companion changed under the MCP server. */
  takeNotices(): string[] {
    return this.notices.splice(0);
  }

  list(filter: { state?: SessionStatus } = {}) {
    return this.through((c) => c.list(filter), REPEATABLE);
  }

  runningBrowsers() {
    return this.through((c) => c.runningBrowsers(), REPEATABLE);
  }

  start(opts: { urls?: string[]; name?: string; headed?: boolean }) {
    return this.through((c) => c.start(opts));
  }

  resume(sessionId: string, opts: { snapshotId?: number; headed?: boolean }) {
    return this.through((c) => c.resume(sessionId, opts));
  }

  close(sessionId: string) {
    return this.through((c) => c.close(sessionId));
  }

  snapshot(sessionId: string) {
    return this.through((c) => c.snapshot(sessionId), REPEATABLE);
  }

  snapshots(sessionId: string) {
    return this.through((c) => c.snapshots(sessionId), REPEATABLE);
  }

  exportSnapshot(sessionId: string, snapshotId: number | undefined, format: ExportFormat) {
    return this.through((c) => c.exportSnapshot(sessionId, snapshotId, format), REPEATABLE);
  }

  waitGone(sessionId: string) {
    return this.through((c) => c.waitGone(sessionId), REPEATABLE);
  }

  async shutdown(): Promise<void> {
    const inner = (await this.switching?.catch(() => null)) ?? this.inner;
    await inner.shutdown();
  }

  private async through<T>(call: (c: McpCompanion) => Promise<T>, repeatable = false): Promise<T> {
    const c = await this.live();
    try {
      return await call(c);
    } catch (e) {
      if (!(c instanceof RemoteCompanion)) throw e;
      if (e instanceof RestoryError && e.code === 'companion_stopping') {
        await Promise.race([c.whenClosed(), sleep(ATTACH_WAIT_MS)]);
        return call(await this.live());
      }
      if (c.isClosed && repeatable) return call(await this.live());
      if (c.isClosed) {
        throw new RestoryError('companion_unreachable', `the companion of ${this.dataDir} (pid ${c.pid}) went away during this call, which may or may not have been done; the next call takes over as the companion`, { cause: e });
      }
      throw e;
    }
  }

  /** The companion to ask now: the same, or — the running one having gone — the next one. */
  private live(): Promise<McpCompanion> {
    if (this.switching) return this.switching;
    const gone = this.inner;
    if (!(gone instanceof RemoteCompanion) || !gone.isClosed) return Promise.resolve(gone);
    const switching = attach(this.dataDir, this.notice).then((next) => {
      this.inner = next;
      const line =
        next instanceof RemoteCompanion
          ? `restory: the companion of ${this.dataDir} (pid ${gone.pid}) stopped; now working through the one running there (pid ${next.pid})`
          : `restory: the companion of ${this.dataDir} (pid ${gone.pid}) stopped; restory mcp took over as its companion (browsers still running are adopted)`;
      this.notices.push(line);
      this.notice(line);
      return next;
    });
    this.switching = switching;
    void switching.finally(() => (this.switching = null)).catch(() => {});
    return switching;
  }
}

/**
 * The companion that answers on the data dir's socket, else this process as the companion. A
 * companion that holds the lock but does not answer (starting, or stopping) is waited for.
 */
async function attach(dataDir: string, notice: (message: string) => void): Promise<McpCompanion> {
  const deadline = Date.now() + ATTACH_WAIT_MS;
  for (;;) {
    let lastError: unknown;
    const client = await CompanionClient.connect(dataDir);
    if (client) {
      try {
        const { pid } = await client.request('status', {});
        return new RemoteCompanion(client, dataDir, pid);
      } catch (e) {
        client.close(); // stopping or gone while we asked: look again
        lastError = e;
      }
    } else {
      try {
        return new InProcessCompanion(await Companion.open({ dataDir, onNotice: (m) => notice(`restory: ${m}`) }));
      } catch (e) {
        if (inspectLock(dataPaths(dataDir).lock).state !== 'held') throw e;
        lastError = e; // it names the companion holding the lock
      }
    }
    if (Date.now() > deadline) throw lastError;
    await sleep(ATTACH_RETRY_MS);
  }
}
