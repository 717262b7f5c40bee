/**
 * Which restory session the browser tools act on, and getting its browser back when it is gone.
 *
 * The agent should not have to think about restarts: a browser tool call first asks `ensure()`
 * for a running browser. If the current session's browser died (crash, kill, machine restart of
 * the browser only), the session is resumed from its newest snapshot and the tool result gets one
 * line saying so. With `--resume auto` the first call takes the data dir's running (adopted) or
 * most recent recoverable session (beside a running companion: a browser it runs, e.g. the
 * session of a `restory start`); with `--resume <id>` that one; with none of them, the first
 * browser tool call starts a new session (as Playwright MCP launches a browser on first use).
 */
import { RestoryError } from '../../shared/errors.js';
import type { ResumeReport } from '../../shared/protocol.js';
import { idsNamedBy } from '../session/id-prefix.js';
import type { McpCompanion } from './mcp-companion.js';

export type ResumeMode = { kind: 'auto' } | { kind: 'none' } | { kind: 'id'; id: string };

export interface EnsuredBrowser {
  sessionId: string;
  cdpEndpoint: string;
  /** One line for the tool result when the browser had to be (re)launched; null when it just ran. */
  notice: string | null;
}

export class CurrentSession {
  private id: string | null = null;
  private pendingResume: ResumeMode;

  constructor(
    private readonly companion: McpCompanion,
    private readonly opts: { headed?: boolean; resume: ResumeMode },
  ) {
    this.pendingResume = opts.resume;
  }

  get sessionId(): string | null {
    return this.id;
  }

  /** session_start / session_resume made `id` the session the browser tools act on. */
  set(id: string | null): void {
    this.id = id;
    // An explicit choice replaces what --resume asked for at start-up.
    this.pendingResume = { kind: 'none' };
  }

  /** The full id for an id or an unambiguous prefix of one (as the CLI accepts); unknown → unknown_session. */
  async resolve(idOrPrefix: string): Promise<string> {
    const candidates = idsNamedBy((await this.companion.list()).map((s) => s.id), idOrPrefix);
    if (candidates.length === 1) return candidates[0];
    if (candidates.length > 1) {
      throw new RestoryError('unknown_session', `session id prefix "${idOrPrefix}" is ambiguous: it starts ${candidates.length} ids (${candidates.slice(0, 5).join(', ')}); give more of it`);
    }
    throw new RestoryError('unknown_session', `no session with id "${idOrPrefix}"; list_sessions shows the ids`);
  }

  /** The CDP endpoint of the session's browser while the companion runs it. */
  async runningEndpoint(id: string): Promise<string | undefined> {
    return (await this.companion.runningBrowsers()).get(id);
  }

  /**
   * Resume `sessionId` (or just take it when its browser runs already, e.g. adopted after the
   * previous server was killed) and make it current.
   */
  async resume(sessionId: string, snapshotId?: number): Promise<{ report: ResumeReport | null; cdpEndpoint: string }> {
    const running = await this.runningEndpoint(sessionId);
    if (running && snapshotId === undefined) {
      this.set(sessionId);
      return { report: null, cdpEndpoint: running };
    }
    // The browser tools open their own connection (browser-tools.ts) to the endpoint.
    const { report, cdpEndpoint } = await this.companion.resume(sessionId, { snapshotId, headed: this.opts.headed });
    this.set(sessionId);
    return { report, cdpEndpoint };
  }

  /** A running browser for the browser tools, launching or resuming one if needed. */
  async ensure(): Promise<EnsuredBrowser> {
    const pending = this.pendingResume;
    this.pendingResume = { kind: 'none' };
    if (this.id === null && pending.kind !== 'none') {
      const picked = pending.kind === 'id' ? await this.resolve(pending.id) : await this.mostRecentResumable();
      if (picked) return this.resumeForTools(picked, 'restory: --resume');
    }
    if (this.id === null) return this.startForTools('restory:');
    const running = await this.runningEndpoint(this.id);
    if (running) return { sessionId: this.id, cdpEndpoint: running, notice: null };
    // A browser window the user closed ends its session as `closed` (not a crash): nothing to
    // resume, so a new session takes its place, as Playwright MCP relaunches a closed browser.
    const state = (await this.companion.list()).find((s) => s.id === this.id)?.state;
    if (state === 'closed') return this.startForTools(`restory: session ${this.id} was closed (its browser was closed);`);
    return this.resumeForTools(this.id, `restory: the browser of session ${this.id} had ended;`);
  }

  private async startForTools(why: string): Promise<EnsuredBrowser> {
    const session = await this.companion.start({ headed: this.opts.headed });
    this.set(session.sessionId);
    return { sessionId: session.sessionId, cdpEndpoint: session.cdpEndpoint, notice: `${why} started new session ${session.sessionId}` };
  }

  /**
   * Playwright saw the browser disconnect: wait until the companion has recorded its end (so the
   * session is `recoverable`, not still `active`) before anyone resumes it.
   */
  waitGone(sessionId: string): Promise<void> {
    return this.companion.waitGone(sessionId);
  }

  private async resumeForTools(sessionId: string, why: string): Promise<EnsuredBrowser> {
    const { report, cdpEndpoint } = await this.resume(sessionId);
    const notice = report ? `${why} resumed it: ${summarizeReport(report)}` : `${why} took session ${sessionId}, whose browser was running`;
    return { sessionId, cdpEndpoint, notice };
  }

  /** A browser still running for the data dir (adopted) first, else the most recent recoverable session. */
  private async mostRecentResumable(): Promise<string | null> {
    const sessions = await this.companion.list(); // newest activity first
    const running = await this.companion.runningBrowsers();
    return sessions.find((s) => running.has(s.id))?.id ?? sessions.find((s) => s.state === 'recoverable')?.id ?? null;
  }
}

/** Counts and tab URLs only: a resume report never carries cookie or storage values. */
export function summarizeReport(r: ResumeReport): string {
  const okTabs = r.tabs.filter((t) => t.ok).length;
  const failed = r.failures.length + r.tabs.length - okTabs;
  return `session ${r.sessionId} from snapshot ${r.snapshotId} (${r.cookies} cookies, ${r.origins} origins, ${okTabs}/${r.tabs.length} tabs${failed ? `, ${failed} failures` : ''})`;
}
