/**
 * The popup: asks the background for the link state, shows a screen saying how to fix a missing
 * host or companion, otherwise lists the companion's sessions and runs actions on them.
 * State lives here; model.ts decides, render.ts draws, actions.ts talks to the companion.
 * Failures arrive as `{ code, message }` (shared/messages/popup.ts); screens are chosen by code.
 * `chrome.*` directly, like the rest of the extension (no webextension-polyfill; README "Extension API").
 */
import '../zod-setup.js';
import type { SessionSummary } from '../../shared/state.js';
import { describeFailure, isUnreachable, runAction } from './actions.js';
import { linkStatus, request } from './background-client.js';
import { h } from './dom.js';
import { decideScreen, formatAge, formatElapsed, type Action, type Screen } from './model.js';
import { renderList, renderNoSessions, renderScreen, type Filter, type ListView } from './render.js';

const POLL_CONNECTING_MS = 200;
const AUTO_RETRY_MS = 2000;
const REFRESH_MS = 5000;

const app = document.getElementById('app')!;
const headerStatus = document.getElementById('link')!;
const refreshButton = document.getElementById('refresh') as HTMLButtonElement;

let screen: Screen = { kind: 'connecting' };
let connectingSince = Date.now();
let timer: ReturnType<typeof setTimeout> | undefined;
let listKey = '';
const view: ListView = {
  sessions: [],
  currentSessionId: null,
  filter: 'all',
  now: Date.now(),
  busy: new Map(),
  outcomes: new Map(),
  confirmingClose: null,
};

function schedule(fn: () => void, ms: number): void {
  clearTimeout(timer);
  timer = setTimeout(fn, ms);
}

/** Replace the page's content, keeping keyboard focus on the same control when it still exists. */
function show(content: HTMLElement): void {
  const focused = (document.activeElement as HTMLElement | null)?.dataset?.key;
  app.replaceChildren(content);
  if (focused) app.querySelector<HTMLElement>(`[data-key="${CSS.escape(focused)}"]`)?.focus();
}

function showScreen(next: Exclude<Screen, { kind: 'ready' }>): void {
  screen = next;
  refreshButton.hidden = true;
  headerStatus.textContent = next.kind === 'connecting' ? 'connecting…' : 'not connected';
  headerStatus.className = next.kind === 'connecting' ? 'link' : 'link down';
  show(renderScreen(next, retry));
}

// ------------------------------------------------------------------------------------- connection

/** Poll the link until it is ready or settles on a problem; on a problem screen, keep retrying quietly. */
async function checkLink(reconnect: boolean): Promise<void> {
  let next: Screen;
  try {
    next = decideScreen(await linkStatus(reconnect), Date.now() - connectingSince);
  } catch (e) {
    next = { kind: 'failed', title: 'The extension is not working', detail: (e as Error).message };
  }
  if (next.kind === 'ready') return loadList();
  // A quiet retry from a problem screen passes through 'connecting': keep the problem on screen.
  const onProblem = screen.kind !== 'connecting' && screen.kind !== 'ready';
  if (next.kind === 'connecting') {
    if (!onProblem) showScreen(next);
    return schedule(() => void checkLink(false), POLL_CONNECTING_MS);
  }
  if (next.kind !== screen.kind || JSON.stringify(next) !== JSON.stringify(screen)) showScreen(next);
  schedule(() => void checkLink(true), AUTO_RETRY_MS);
}

function retry(): void {
  connectingSince = Date.now();
  showScreen({ kind: 'connecting' });
  void checkLink(true);
}

function lostConnection(): void {
  connectingSince = Date.now();
  screen = { kind: 'connecting' };
  void checkLink(true);
}

// ------------------------------------------------------------------------------------- list

async function loadList(): Promise<void> {
  let result;
  try {
    result = await request('list', {});
  } catch (e) {
    if (isUnreachable(e)) return lostConnection();
    showScreen({ kind: 'failed', title: 'Could not list the sessions', detail: (e as Error).message });
    return schedule(() => void checkLink(true), AUTO_RETRY_MS);
  }
  const first = screen.kind !== 'ready';
  screen = { kind: 'ready' };
  const status = await linkStatus().catch(() => null);
  const currentSessionId = result.currentSessionId ?? status?.sessionId ?? null;
  const key = JSON.stringify([result.sessions, currentSessionId]);
  view.sessions = result.sessions;
  view.currentSessionId = currentSessionId;
  headerStatus.textContent = 'connected';
  headerStatus.className = 'link up';
  refreshButton.hidden = false;
  if (first || key !== listKey) {
    listKey = key;
    renderView();
  }
  schedule(() => void loadList(), REFRESH_MS);
}

function renderView(): void {
  if (screen.kind !== 'ready') return;
  view.now = Date.now();
  show(view.sessions.length ? renderList(view, handlers) : renderNoSessions());
}

const handlers = {
  act(action: Action, session: SessionSummary) {
    if (action === 'close') {
      view.confirmingClose = session.id;
      renderView();
      app.querySelector<HTMLElement>(`[data-key="confirm-close:${CSS.escape(session.id)}"]`)?.focus();
      return;
    }
    void perform(action, session);
  },
  confirmClose(session: SessionSummary) {
    view.confirmingClose = null;
    void perform('close', session);
  },
  cancelClose() {
    const id = view.confirmingClose;
    view.confirmingClose = null;
    renderView();
    if (id) app.querySelector<HTMLElement>(`[data-key="close:${CSS.escape(id)}"]`)?.focus();
  },
  dismiss(sessionId: string) {
    view.outcomes.delete(sessionId);
    renderView();
  },
  filter(filter: Filter) {
    view.filter = filter;
    renderView();
  },
};

async function perform(action: Action, session: SessionSummary): Promise<void> {
  view.busy.set(session.id, { action, since: Date.now() });
  view.outcomes.delete(session.id);
  renderView();
  try {
    view.outcomes.set(session.id, await runAction(action, session));
  } catch (e) {
    if (isUnreachable(e)) {
      view.busy.delete(session.id);
      return lostConnection();
    }
    view.outcomes.set(session.id, { kind: 'error', action, message: describeFailure(action, e) });
  } finally {
    view.busy.delete(session.id);
  }
  renderView();
  // Focus the outcome's Dismiss button: the result is read out and Escape-free to leave.
  app.querySelector<HTMLElement>(`[data-key="dismiss:${CSS.escape(session.id)}"]`)?.focus();
  await loadList();
}

// ------------------------------------------------------------------------------------- clocks

/** Ages and elapsed times tick without re-rendering (focus and screen readers stay undisturbed). */
setInterval(() => {
  const now = Date.now();
  for (const el of app.querySelectorAll<HTMLElement>('time[data-at]')) {
    el.textContent = formatAge(el.dataset.at ? Number(el.dataset.at) : null, now);
  }
  for (const el of app.querySelectorAll<HTMLElement>('[data-since]')) el.textContent = formatElapsed(now - Number(el.dataset.since));
}, 1000);

refreshButton.addEventListener('click', () => void loadList());
app.append(h('p', { class: 'progress' }, 'Checking the companion…'));
void checkLink(true);
