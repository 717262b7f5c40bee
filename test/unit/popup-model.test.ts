import { describe, expect, it } from 'vitest';
import type { PopupErrorCode, PopupErrorInfo, PopupStatus } from '../../shared/messages/popup.js';
import type { ResumeReport } from '../../shared/protocol.js';
import type { SessionStatus, SessionSummary } from '../../shared/state.js';
import {
  BADGES,
  CONNECT_GRACE_MS,
  STATE_ORDER,
  actionsFor,
  countByState,
  decideScreen,
  failureText,
  formatAge,
  formatElapsed,
  installHostCommand,
  installHostProfileCommand,
  isLinkLost,
  locationOf,
  reportHeadline,
  reportProblems,
  resumeHeaded,
  shortUrl,
  shownError,
  sortSessions,
} from '../../extension/popup/model.js';

const session = (over: Partial<SessionSummary> = {}): SessionSummary => ({
  id: 's1',
  name: 'work',
  state: 'recoverable',
  createdAt: 1000,
  lastActivityAt: 2000,
  lastSnapshotAt: 2000,
  tabCount: 2,
  currentUrl: 'https://example.com/a',
  currentTitle: 'Example',
  lastError: null,
  ...over,
});

const status = (state: PopupStatus['state'], lastError: PopupErrorInfo | null = null): PopupStatus => ({ state, sessionId: null, lastError });
const err = (code: PopupErrorCode, message = 'whatever the text says'): PopupErrorInfo => ({ code, message });

describe('popup: screen decision', () => {
  it('decideScreen(ready) shows the list', () => {
    expect(decideScreen({ state: 'ready', sessionId: 'x', lastError: null }, 0)).toEqual({ kind: 'ready' });
  });

  it('decideScreen(host_not_installed) says the native host is not installed, the message as details', () => {
    const error = err('host_not_installed', 'Specified native messaging host not found.');
    expect(decideScreen(status('disconnected', error), 0)).toEqual({ kind: 'host-missing', detail: error.message });
    // Also while the link is retrying after that failure.
    expect(decideScreen(status('connecting', error), 0).kind).toBe('host-missing');
  });

  it('decideScreen branches on the code, not the message text', () => {
    // A message that reads like another failure does not change the screen its code calls for.
    expect(decideScreen(status('disconnected', err('host_exited', 'Specified native messaging host not found.')), 0).kind).toBe('companion-down');
    expect(decideScreen(status('disconnected', err('companion_unreachable', 'protocol version 9 mismatch')), 0).kind).toBe('companion-down');
    expect(decideScreen(status('disconnected', err('host_not_installed', '')), 0).kind).toBe('host-missing');
  });

  it('decideScreen(host_exited / companion_unreachable / anything else) says the companion is not running', () => {
    expect(decideScreen(status('disconnected', err('host_exited', 'Native host has exited.')), 0)).toEqual({
      kind: 'companion-down',
      detail: 'Native host has exited.',
    });
    for (const code of ['companion_unreachable', 'storage_failed', 'internal'] as const) {
      expect(decideScreen(status('disconnected', err(code)), 0).kind, code).toBe('companion-down');
    }
  });

  it('decideScreen(connecting) waits CONNECT_GRACE_MS before calling the companion down', () => {
    expect(decideScreen(status('connecting'), 0)).toEqual({ kind: 'connecting' });
    expect(decideScreen(status('connecting', err('host_exited')), CONNECT_GRACE_MS - 1)).toEqual({ kind: 'connecting' });
    expect(decideScreen(status('disconnected'), 10)).toEqual({ kind: 'connecting' });
    expect(decideScreen(status('connecting'), CONNECT_GRACE_MS)).toEqual({ kind: 'companion-down', detail: null });
  });

  it('decideScreen(version_mismatch / unauthorized) explains instead of blaming the companion', () => {
    const mismatch = decideScreen(status('disconnected', err('version_mismatch', 'protocol version 2 is not supported')), 0);
    expect(mismatch).toEqual({ kind: 'failed', title: 'restory versions do not match', detail: 'protocol version 2 is not supported' });
    expect(decideScreen(status('connecting', err('unauthorized')), 0)).toMatchObject({ kind: 'failed', title: 'The companion refused this extension' });
  });

  it('isLinkLost: the link codes go back to the connection screens; a timeout or a companion error does not', () => {
    for (const code of ['companion_unreachable', 'host_not_installed', 'host_exited'] as const) expect(isLinkLost(code), code).toBe(true);
    for (const code of ['request_timeout', 'launch_failed', 'unknown_session', 'invalid_state', 'internal'] as const) {
      expect(isLinkLost(code), code).toBe(false);
    }
  });

  it('failureText adds a hint to a resume that timed out, by its code', () => {
    const timeout = err('request_timeout', 'the companion did not answer resume within 60 s');
    expect(failureText('resume', timeout)).toBe(`${timeout.message}. The browser may still be starting; the list shows the session as active once it is.`);
    expect(failureText('close', timeout)).toBe(timeout.message);
    // The same words under another code get no hint.
    expect(failureText('resume', err('launch_failed', 'the companion did not answer'))).toBe('the companion did not answer');
  });

  it('installHostCommand picks --browser from the UA brands', () => {
    expect(installHostCommand(undefined)).toBe('restory install-host --browser chromium');
    expect(installHostCommand([{ brand: 'Chromium' }, { brand: 'Not.A/Brand' }])).toBe('restory install-host --browser chromium');
    expect(installHostCommand([{ brand: 'Chromium' }, { brand: 'Google Chrome' }])).toBe('restory install-host --browser chrome');
    expect(installHostCommand([{ brand: 'Microsoft Edge' }, { brand: 'Chromium' }])).toBe('restory install-host --browser edge');
    expect(installHostCommand([{ brand: 'Brave' }, { brand: 'Chromium' }])).toBe('restory install-host --browser brave');
  });

  it('installHostProfileCommand adds --user-data-dir as a template the user completes', () => {
    expect(installHostProfileCommand(undefined)).toBe("restory install-host --browser chromium --user-data-dir <this profile's dir>");
  });

  it('resumeHeaded follows whether the asking browser is headless', () => {
    expect(resumeHeaded('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36')).toBe(false);
    expect(resumeHeaded('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36')).toBe(true);
  });
});

describe('popup: sessions', () => {
  it('actionsFor: resume for recoverable, stale and failed; snapshot for the current one; close for the others', () => {
    const expected: Record<SessionStatus, string[]> = {
      active: ['close'],
      recoverable: ['resume', 'close'],
      stale: ['resume', 'close'],
      failed: ['resume', 'close'],
      error: ['close'],
      closed: [],
    };
    for (const state of STATE_ORDER) expect(actionsFor(session({ state }), 'other'), state).toEqual(expected[state]);
    expect(actionsFor(session({ id: 'me', state: 'active' }), 'me')).toEqual(['snapshot']);
    expect(actionsFor(session({ id: 'me', state: 'error' }), 'me')).toEqual(['snapshot']);
  });

  it('every state has a badge with a text label (colour is not the only cue)', () => {
    for (const state of STATE_ORDER) expect(BADGES[state].label).toBe(state);
  });

  it('shownError only for failed and error sessions', () => {
    expect(shownError(session({ state: 'failed', lastError: 'launch failed' }))).toBe('launch failed');
    expect(shownError(session({ state: 'error', lastError: 'disk full' }))).toBe('disk full');
    expect(shownError(session({ state: 'recoverable', lastError: 'the companion stopped' }))).toBeNull();
  });

  it('locationOf prefers the title, then the URL', () => {
    expect(locationOf(session())).toBe('Example');
    expect(locationOf(session({ currentTitle: '  ' }))).toBe('https://example.com/a');
    expect(locationOf(session({ currentTitle: null, currentUrl: null }))).toBeNull();
  });

  it('shortUrl drops the scheme and a trailing slash', () => {
    expect(shortUrl('https://example.com/')).toBe('example.com');
    expect(shortUrl('http://127.0.0.1:8080/a?b=1')).toBe('127.0.0.1:8080/a?b=1');
    expect(shortUrl('file:///tmp/x.html')).toBe('file:///tmp/x.html');
  });

  it('sortSessions puts the current session first, then the most recently active', () => {
    const list = [session({ id: 'a', lastActivityAt: 1 }), session({ id: 'b', lastActivityAt: 3 }), session({ id: 'c', lastActivityAt: 2 })];
    expect(sortSessions(list, 'a').map((s) => s.id)).toEqual(['a', 'b', 'c']);
    expect(sortSessions(list, null).map((s) => s.id)).toEqual(['b', 'c', 'a']);
  });

  it('countByState counts every state, zero included', () => {
    const counts = countByState([session({ state: 'active' }), session({ state: 'active' }), session({ state: 'failed' })]);
    expect(counts).toEqual({ active: 2, recoverable: 0, stale: 0, failed: 1, error: 0, closed: 0 });
  });
});

describe('popup: formatting', () => {
  it('formatAge reads like "12 s ago"', () => {
    const now = 10_000_000;
    expect(formatAge(null, now)).toBe('no snapshot yet');
    expect(formatAge(now + 5000, now)).toBe('just now'); // clock skew
    expect(formatAge(now - 400, now)).toBe('just now');
    expect(formatAge(now - 12_000, now)).toBe('12 s ago');
    expect(formatAge(now - 59_999, now)).toBe('59 s ago');
    expect(formatAge(now - 60_000, now)).toBe('1 min ago');
    expect(formatAge(now - 59 * 60_000, now)).toBe('59 min ago');
    expect(formatAge(now - 3 * 3600_000, now)).toBe('3 h ago');
    expect(formatAge(now - 47 * 3600_000, now)).toBe('47 h ago');
    expect(formatAge(now - 4 * 86_400_000, now)).toBe('4 d ago');
  });

  it('formatElapsed counts whole seconds', () => {
    expect(formatElapsed(7400)).toBe('7 s');
    expect(formatElapsed(-5)).toBe('0 s');
  });

  it('reportHeadline and reportProblems summarise a resume', () => {
    const report: ResumeReport = {
      sessionId: 's1',
      snapshotId: 4,
      warnings: ['session s1 is stale'],
      cookies: 1,
      origins: 2,
      tabs: [
        { url: 'https://a.test/', ok: true },
        { url: 'https://b.test/', ok: false, error: 'net::ERR_NAME_NOT_RESOLVED' },
      ],
      failures: [{ what: 'cookie x', error: 'rejected' }],
    };
    expect(reportHeadline(report)).toBe('1 of 2 tabs restored, 1 cookie, 2 origins');
    expect(reportProblems(report)).toEqual({
      failures: ['https://b.test/: net::ERR_NAME_NOT_RESOLVED', 'cookie x: rejected'],
      warnings: ['session s1 is stale'],
    });
    expect(reportHeadline({ ...report, tabs: [report.tabs[0]] })).toBe('1 tab restored, 1 cookie, 2 origins');
  });
});
