/**
 * The popup's pure logic: which screen the connection state calls for, how a session is labelled,
 * which actions its state allows, how ages, resume reports and failures read. Decisions branch on
 * error codes, never on message text. No chrome.* and no DOM here, so
 * all of it is unit-tested in Node (test/unit/popup-model.test.ts).
 */
import type { PopupErrorCode, PopupErrorInfo, PopupStatus } from '../../shared/messages/popup.js';
import type { ResumeReport } from '../../shared/protocol.js';
import type { SessionStatus, SessionSummary } from '../../shared/state.js';

// ------------------------------------------------------------------------------------- screens

/** What the popup shows instead of (or before) the session list. */
export type Screen =
  | { kind: 'connecting' }
  | { kind: 'host-missing'; detail: string }
  | { kind: 'companion-down'; detail: string | null }
  | { kind: 'failed'; title: string; detail: string }
  | { kind: 'ready' };

/** How long a first connection may take before "connecting" becomes "not running". */
export const CONNECT_GRACE_MS = 4000;

/**
 * Decide the screen from the background's link state, by the code of its last error (the message
 * is only shown as the details):
 * - ready → the list.
 * - host_not_installed (no host manifest for this profile, or one not allowing our id) → "host not installed".
 * - version_mismatch → its own message (reload the extension / update restory).
 * - unauthorized → the companion refused this extension.
 * - otherwise a failed or dropped connection means the companion is not there: the host relays
 *   `companion_unreachable` and exits, or simply exits (`host_exited`).
 * - 'connecting' (or not yet started) is given CONNECT_GRACE_MS before it counts as "not running".
 */
export function decideScreen(status: PopupStatus, waitedMs: number): Screen {
  if (status.state === 'ready') return { kind: 'ready' };
  const error = status.lastError;
  switch (error?.code) {
    case 'host_not_installed':
      return { kind: 'host-missing', detail: error.message };
    case 'version_mismatch':
      return { kind: 'failed', title: 'restory versions do not match', detail: error.message };
    case 'unauthorized':
      return { kind: 'failed', title: 'The companion refused this extension', detail: error.message };
  }
  const settled = status.state === 'disconnected' && error !== null;
  if (!settled && waitedMs < CONNECT_GRACE_MS) return { kind: 'connecting' };
  return { kind: 'companion-down', detail: error?.message ?? null };
}

/** Codes that mean "no companion behind the link": show the connection screens again. */
const LINK_LOST: ReadonlySet<PopupErrorCode> = new Set(['companion_unreachable', 'host_not_installed', 'host_exited']);

/** Whether a failed request means the link is gone (a slow answer, request_timeout, is not). */
export function isLinkLost(code: PopupErrorCode): boolean {
  return LINK_LOST.has(code);
}

/** An action's failure as a sentence, with what to do where we know it. */
export function failureText(action: Action, error: PopupErrorInfo): string {
  if (action === 'resume' && error.code === 'request_timeout') {
    return `${error.message}. The browser may still be starting; the list shows the session as active once it is.`;
  }
  return error.message;
}

/** The `restory install-host` command for the browser the popup runs in (from its UA brands). */
export function installHostCommand(brands: readonly { brand: string }[] | undefined): string {
  const names = (brands ?? []).map((b) => b.brand.toLowerCase());
  const browser = names.some((n) => n.includes('edge'))
    ? 'edge'
    : names.some((n) => n.includes('brave'))
      ? 'brave'
      : names.some((n) => n === 'google chrome')
        ? 'chrome'
        : 'chromium';
  return `restory install-host --browser ${browser}`;
}

/**
 * The same command for a browser started with its own profile (`--user-data-dir`, as every Playwright
 * launchPersistentContext is): Chromium looks for hosts in `<that dir>/NativeMessagingHosts`. The popup
 * cannot read its profile's path, so this is a template the user completes.
 */
export function installHostProfileCommand(brands: readonly { brand: string }[] | undefined): string {
  return `${installHostCommand(brands)} --user-data-dir <this profile's dir>`;
}

/** Resume in the same mode as the asking browser: a person clicking wants a window; a headless test does not. */
export function resumeHeaded(userAgent: string): boolean {
  return !/HeadlessChrome/.test(userAgent);
}

// ------------------------------------------------------------------------------------- sessions

export type BadgeTone = 'ok' | 'info' | 'warn' | 'bad' | 'muted';

export const BADGES: Record<SessionStatus, { label: string; tone: BadgeTone; hint: string }> = {
  active: { label: 'active', tone: 'ok', hint: 'A browser is capturing this session now' },
  recoverable: { label: 'recoverable', tone: 'info', hint: 'Interrupted; can be resumed' },
  stale: { label: 'stale', tone: 'warn', hint: 'Older than the max session age; cookies may have expired' },
  failed: { label: 'failed', tone: 'bad', hint: 'The last resume failed' },
  error: { label: 'error', tone: 'bad', hint: 'Capture is failing' },
  closed: { label: 'closed', tone: 'muted', hint: 'Closed' },
};

/** Filter order in the popup: the states a user acts on first. */
export const STATE_ORDER: readonly SessionStatus[] = ['active', 'recoverable', 'stale', 'failed', 'error', 'closed'];

export type Action = 'resume' | 'snapshot' | 'close';

/** Resume what is resumable; snapshot the current session; close the others (not already closed). */
export function actionsFor(session: SessionSummary, currentSessionId: string | null): Action[] {
  if (session.id === currentSessionId) return ['snapshot'];
  const actions: Action[] = [];
  if (session.state === 'recoverable' || session.state === 'stale' || session.state === 'failed') actions.push('resume');
  if (session.state !== 'closed') actions.push('close');
  return actions;
}

/** Show the last error only where it explains the state. */
export function shownError(session: SessionSummary): string | null {
  return session.state === 'failed' || session.state === 'error' ? session.lastError : null;
}

/** Title when the page has one, else the URL; null when the session has no tab. */
export function locationOf(session: SessionSummary): string | null {
  return session.currentTitle?.trim() || session.currentUrl || null;
}

/** A URL without its scheme and trailing slash, for a narrow line: "example.com/a?b". */
export function shortUrl(url: string): string {
  return url.replace(/^https?:\/\//, '').replace(/\/$/, '');
}

/** The current session first, then the most recently active. */
export function sortSessions(sessions: readonly SessionSummary[], currentSessionId: string | null): SessionSummary[] {
  return [...sessions].sort(
    (a, b) => Number(b.id === currentSessionId) - Number(a.id === currentSessionId) || b.lastActivityAt - a.lastActivityAt,
  );
}

export function countByState(sessions: readonly SessionSummary[]): Record<SessionStatus, number> {
  const counts = Object.fromEntries(STATE_ORDER.map((s) => [s, 0])) as Record<SessionStatus, number>;
  for (const s of sessions) counts[s.state]++;
  return counts;
}

// ------------------------------------------------------------------------------------- formatting

/** "just now", "12 s ago", "5 min ago", "3 h ago", "4 d ago"; "no snapshot yet" for null. */
export function formatAge(at: number | null, now: number): string {
  if (at === null) return 'no snapshot yet';
  const s = Math.floor((now - at) / 1000);
  if (s < 1) return 'just now';
  if (s < 60) return `${s} s ago`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min ago`;
  const h = Math.floor(min / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.floor(h / 24)} d ago`;
}

/** Seconds an action has been running: "7 s". */
export function formatElapsed(ms: number): string {
  return `${Math.max(0, Math.floor(ms / 1000))} s`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** One-line headline of a resume, e.g. "2 of 3 tabs restored, 4 cookies, 1 origin". */
export function reportHeadline(report: ResumeReport): string {
  const ok = report.tabs.filter((t) => t.ok).length;
  const tabs = report.tabs.length === ok ? `${plural(ok, 'tab')} restored` : `${ok} of ${report.tabs.length} tabs restored`;
  return `${tabs}, ${plural(report.cookies, 'cookie')}, ${plural(report.origins, 'origin')}`;
}

/** Every problem a resume reported, as lines for a list. */
export function reportProblems(report: ResumeReport): { failures: string[]; warnings: string[] } {
  return {
    failures: [
      ...report.tabs.filter((t) => !t.ok).map((t) => `${t.url}: ${t.error ?? 'not restored'}`),
      ...report.failures.map((f) => `${f.what}: ${f.error}`),
    ],
    warnings: [...report.warnings],
  };
}
