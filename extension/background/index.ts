/**
 * Service worker entry. Wires the capture sources to the outbox and the outbox to the native link.
 *
 * MV3 realities handled here:
 * - Listeners are registered synchronously at top level (every source's `start`): Chromium only
 *   delivers the event that woke a stopped worker to listeners that exist after the first turn.
 * - State lives in chrome.storage (outbox, seq, instance and session ids) and is restored on each
 *   wake; nothing important lives only in memory.
 * - The open native port keeps the worker alive (Chrome ≥ 105). While disconnected, a 30 s alarm
 *   wakes the worker to retry even if it was stopped between backoff timers.
 */
import '../zod-setup.js';
import type { CaptureSource } from './capture-source.js';
import { createCookieSource } from './cookies.js';
import { createDebug } from './debug.js';
import { NativeLink } from './native-link.js';
import { createNavigationSource } from './navigation.js';
import { Outbox } from './outbox.js';
import { createPageCaptureSource } from './page-capture.js';
import { PopupBridge } from './popup-bridge.js';
import { createTabsSource } from './tabs.js';

const RECONNECT_ALARM = 'restory.reconnect';
const debug = createDebug('main');

const outbox = new Outbox();
const sources: CaptureSource[] = [
  createPageCaptureSource(),
  createCookieSource(),
  createNavigationSource(),
  createTabsSource(),
];

const link: NativeLink = new NativeLink({
  onWelcome: (ackedSeq) => outbox.connected(ackedSeq),
  onAck: (seq) => outbox.ack(seq),
  onResync() {
    debug('resync: cookies, tabs and storage dumps');
    for (const source of sources) source.resync?.();
  },
  onResponse: (response) => popup.onResponse(response),
  onDisconnect(reason) {
    outbox.disconnected();
    popup.failAll(reason);
  },
});
const popup = new PopupBridge(link);

outbox.attach({ send: (batch) => link.post({ type: 'events', batch }) });

for (const source of sources) source.start((event) => outbox.push(event));
popup.start();

chrome.alarms.onAlarm.addListener((alarm) => {
  if (alarm.name === RECONNECT_ALARM) link.ensureConnected();
});
chrome.alarms.create(RECONNECT_ALARM, { periodInMinutes: 0.5 }).catch(() => {});

link.ensureConnected();
