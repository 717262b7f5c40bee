/**
 * DOM for the popup's screens and the session list. Stateless: popup.ts owns the state and calls
 * these with it; buttons carry data-key so focus survives a re-render.
 */
import type { ResumeReport } from '../../shared/protocol.js';
import type { SessionStatus, SessionSummary } from '../../shared/state.js';
import { formatBytes } from '../../shared/storage-limit-note.js';
import { commandBlock, h } from './dom.js';
import {
  BADGES,
  STATE_ORDER,
  actionsFor,
  countByState,
  formatAge,
  formatElapsed,
  installHostCommand,
  installHostProfileCommand,
  locationOf,
  shortUrl,
  plural,
  reportHeadline,
  reportProblems,
  shownError,
  sortSessions,
  type Action,
  type Screen,
} from './model.js';

export type Filter = SessionStatus | 'all';

/** What happened to a session's last action, shown under it until dismissed. */
export type Outcome =
  | { kind: 'report'; report: ResumeReport }
  | { kind: 'error'; action: Action; message: string }
  | { kind: 'info'; message: string };

export interface ListView {
  sessions: SessionSummary[];
  currentSessionId: string | null;
  filter: Filter;
  now: number;
  busy: Map<string, { action: Action; since: number }>;
  outcomes: Map<string, Outcome>;
  confirmingClose: string | null;
}

export interface ListHandlers {
  act(action: Action, session: SessionSummary): void;
  confirmClose(session: SessionSummary): void;
  cancelClose(): void;
  dismiss(sessionId: string): void;
  filter(filter: Filter): void;
}

const ACTION_LABEL: Record<Action, string> = { resume: 'Resume', snapshot: 'Snapshot now', close: 'Close' };
const BUSY_LABEL: Record<Action, string> = {
  resume: 'Launching a browser and restoring',
  snapshot: 'Taking a snapshot',
  close: 'Closing',
};

// ------------------------------------------------------------------------------------- screens

export function renderScreen(screen: Exclude<Screen, { kind: 'ready' }>, retry: () => void): HTMLElement {
  const retryButton = () => h('button', { type: 'button', 'data-key': 'retry', onclick: retry }, 'Retry');
  const detail = (text: string | null) => (text ? h('p', { class: 'detail' }, 'Details: ', text) : null);
  switch (screen.kind) {
    case 'connecting':
      return h('section', { class: 'screen', 'aria-busy': 'true' }, h('p', { class: 'progress' }, spinner(), 'Connecting to the restory companion…'));
    case 'host-missing': {
      const brands = (navigator as Navigator & { userAgentData?: { brands: { brand: string }[] } }).userAgentData?.brands;
      return h(
        'section',
        { class: 'screen', 'data-screen': 'host-missing' },
        h('h2', {}, 'Native host not installed'),
        h('p', {}, 'This browser cannot reach restory: its native messaging host is not registered. Run this in a terminal:'),
        commandBlock(installHostCommand(brands)),
        h(
          'p',
          { class: 'hint' },
          'Browser started with its own profile (',
          h('code', {}, '--user-data-dir'),
          ', as Playwright’s launchPersistentContext does)? Register the host in that profile: ',
          h('code', {}, installHostProfileCommand(brands)),
        ),
        h('p', {}, 'Then start the companion with ', h('code', {}, 'restory start'), ' and press Retry.'),
        detail(screen.detail),
        retryButton(),
      );
    }
    case 'companion-down':
      return h(
        'section',
        { class: 'screen', 'data-screen': 'companion-down' },
        h('h2', {}, 'Companion not running'),
        h('p', {}, 'The restory companion stores and resumes sessions. Start it in a terminal:'),
        commandBlock('restory start'),
        h('p', {}, 'This popup connects on its own once the companion runs.'),
        detail(screen.detail),
        retryButton(),
      );
    case 'failed':
      return h('section', { class: 'screen', 'data-screen': 'failed' }, h('h2', {}, screen.title), detail(screen.detail), retryButton());
  }
}

export function renderNoSessions(): HTMLElement {
  return h(
    'section',
    { class: 'screen', 'data-screen': 'empty' },
    h('h2', {}, 'No sessions yet'),
    h('p', {}, 'Start a browser session that restory keeps:'),
    commandBlock('restory start --url https://example.com'),
    h('p', {}, 'It appears here as soon as the companion tracks it.'),
  );
}

// ------------------------------------------------------------------------------------- list

export function renderList(view: ListView, on: ListHandlers): HTMLElement {
  const counts = countByState(view.sessions);
  const select = h(
    'select',
    { id: 'filter', 'data-key': 'filter' },
    h('option', { value: 'all' }, `All (${view.sessions.length})`),
    ...STATE_ORDER.map((s) => h('option', { value: s }, `${s} (${counts[s]})`)),
  );
  select.value = view.filter;
  select.addEventListener('change', () => on.filter(select.value as Filter));

  const shown = sortSessions(view.sessions, view.currentSessionId).filter((s) => view.filter === 'all' || s.state === view.filter);
  const list = shown.length
    ? h('ul', { class: 'sessions', 'aria-label': 'Sessions' }, ...shown.map((s) => renderSession(s, view, on)))
    : h('p', { class: 'empty' }, `No ${view.filter} sessions.`);
  return h('section', {}, h('div', { class: 'toolbar' }, h('label', { for: 'filter' }, 'Show'), select), list);
}

function renderSession(s: SessionSummary, view: ListView, on: ListHandlers): HTMLElement {
  const isCurrent = s.id === view.currentSessionId;
  const badge = BADGES[s.state];
  const location = locationOf(s);
  const error = shownError(s);
  const busy = view.busy.get(s.id);
  const outcome = view.outcomes.get(s.id);
  const nameId = `name-${s.id}`;
  return h(
    'li',
    { class: `session${isCurrent ? ' current' : ''}`, 'aria-labelledby': nameId, 'data-session': s.id, 'data-state': s.state },
    h(
      'div',
      { class: 'row' },
      h('span', { class: 'name', id: nameId, title: s.id }, s.name),
      h('span', { class: `badge ${badge.tone}`, title: badge.hint }, badge.label),
      isCurrent ? h('span', { class: 'current-tag', title: 'The session of this browser' }, 'this browser') : null,
    ),
    location
      ? h(
          'div',
          { class: 'location', title: s.currentUrl ?? location },
          location,
          s.currentUrl && s.currentUrl !== location ? h('span', { class: 'url' }, ` — ${shortUrl(s.currentUrl)}`) : null,
        )
      : null,
    h(
      'div',
      { class: 'meta' },
      `${plural(s.tabCount, 'tab')} · snapshot `,
      h('time', { 'data-at': s.lastSnapshotAt ?? '', title: s.lastSnapshotAt ? new Date(s.lastSnapshotAt).toLocaleString() : '' }, formatAge(s.lastSnapshotAt, view.now)),
    ),
    error ? h('div', { class: 'last-error' }, h('span', { class: 'label' }, 'Last error: '), error) : null,
    s.storageLimit
      ? h('div', { class: 'storage-limit', role: 'note' }, h('span', { class: 'label' }, 'Storage limit reached: '), `storage beyond ${formatBytes(s.storageLimit.bytes)} was not saved`)
      : null,
    busy ? h('div', { class: 'progress', role: 'status' }, spinner(), `${BUSY_LABEL[busy.action]}… `, h('span', { 'data-since': busy.since }, formatElapsed(view.now - busy.since))) : null,
    outcome ? renderOutcome(s.id, outcome, on) : null,
    renderActions(s, view, on, Boolean(busy)),
  );
}

function renderActions(s: SessionSummary, view: ListView, on: ListHandlers, busy: boolean): HTMLElement | null {
  if (view.confirmingClose === s.id) {
    return h(
      'div',
      { class: 'actions confirm', role: 'group', 'aria-label': 'Confirm close' },
      h('span', {}, s.state === 'active' ? 'Close its browser and the session?' : 'Close this session?'),
      h('button', { type: 'button', class: 'danger', 'data-key': `confirm-close:${s.id}`, onclick: () => on.confirmClose(s) }, 'Close session'),
      h('button', { type: 'button', class: 'secondary', 'data-key': `cancel-close:${s.id}`, onclick: () => on.cancelClose() }, 'Cancel'),
    );
  }
  const actions = actionsFor(s, view.currentSessionId);
  if (!actions.length) return null;
  return h(
    'div',
    { class: 'actions' },
    ...actions.map((a) =>
      h(
        'button',
        {
          type: 'button',
          class: a === 'close' ? 'secondary' : '',
          'data-key': `${a}:${s.id}`,
          'aria-label': `${ACTION_LABEL[a]} ${s.name}`,
          disabled: busy,
          onclick: () => on.act(a, s),
        },
        ACTION_LABEL[a],
      ),
    ),
  );
}

function renderOutcome(sessionId: string, outcome: Outcome, on: ListHandlers): HTMLElement {
  const dismiss = h('button', { type: 'button', class: 'secondary small', 'data-key': `dismiss:${sessionId}`, onclick: () => on.dismiss(sessionId) }, 'Dismiss');
  if (outcome.kind === 'info') return h('div', { class: 'outcome info', role: 'status' }, h('span', {}, outcome.message), dismiss);
  if (outcome.kind === 'error') {
    return h('div', { class: 'outcome bad', role: 'alert' }, h('strong', {}, `${ACTION_LABEL[outcome.action]} failed: `), outcome.message, dismiss);
  }
  const { report } = outcome;
  const { failures, warnings } = reportProblems(report);
  const list = (cls: string, title: string, lines: string[]) =>
    lines.length ? h('div', { class: cls }, h('strong', {}, title), h('ul', {}, ...lines.map((l) => h('li', {}, l)))) : null;
  return h(
    'div',
    { class: `outcome report ${failures.length ? 'warn' : 'ok'}`, role: 'status', 'data-report': report.sessionId },
    h('div', {}, h('strong', {}, 'Resumed: '), reportHeadline(report), ` (snapshot ${report.snapshotId}).`),
    list('tabs', 'Tabs', report.tabs.map((t) => `${t.ok ? '✓' : '✗'} ${t.url}${t.error ? ` — ${t.error}` : ''}`)),
    list('failures', 'Not restored', failures),
    list('warnings', 'Warnings', warnings),
    dismiss,
  );
}

function spinner(): HTMLElement {
  return h('span', { class: 'spinner', 'aria-hidden': 'true' });
}
