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
 * - `chrome.*` directly, typed by @types/chrome, as everywhere in the extension; no
 *   webextension-polyfill: +30 KB to parse at every worker start for promises chrome.* already
 *   returns on Chrome ≥ 116, with types from Firefox's schemas (README "Extension API").
 */
import '../zod-setup.js';
import type { CaptureEvent } from '../../shared/capture-events.js';
import type { CaptureSource } from './capture-source.js';
import { createCookieSource } from './cookies.js';
import { createDebug } from './debug.js';
import { IndexedDBLedger } from './indexeddb-capture.js';
import { NativeLink } from './native-link.js';
import { createNavigationSource } from './navigation.js';
import { NavigationHold } from './navigation-hold.js';
import { Outbox } from './outbox.js';
import { createPageCaptureSource } from './page-capture.js';
import { PopupBridge } from './popup-bridge.js';
import { StorageLedger } from './storage-ledger.js';
import { createTabsSource } from './tabs.js';

const RECONNECT_ALARM = 'restory.reconnect';
const debug = createDebug('main');

const outbox = new Outbox();
const ledger = new StorageLedger();
/** Every capture event goes through here: folded into the ledger in the outbox's order, then queued. */
const emit = (event: CaptureEvent) => {
  ledger.fold(event);
  outbox.push(event);
};
const hold = new NavigationHold(() => emit);
const indexedDBLedger = new IndexedDBLedger();
// Called by the companion over CDP after a resume wrote IndexedDB into this profile (no page can
// reach a service worker's globals).
(globalThis as unknown as { restorySeedIndexedDB: IndexedDBLedger['seed'] }).restorySeedIndexedDB = (origins) => indexedDBLedger.seed(origins);
const sources: CaptureSource[] = [
  createPageCaptureSource(ledger, (navigation) => hold.push(navigation), indexedDBLedger),
  createCookieSource(),
  createNavigationSource(hold),
  createTabsSource(hold),
];

const resync = () => {
  debug('resync: cookies, tabs and storage dumps');
  for (const source of sources) source.resync?.();
};

const link: NativeLink = new NativeLink({
  onWelcome(ackedSeq, previousSessionId) {
    // The sources send only what changed since what the companion holds (storage ledger, last tabs
    // and viewport). If the companion now holds something else — another session, or it lost
    // events it had acknowledged — send everything again.
    const lostTrack = (previousSessionId !== null && previousSessionId !== link.sessionId) || ackedSeq < outbox.ackedSeq;
    outbox.connected(ackedSeq);
    if (lostTrack) resync();
  },
  onAck: (seq) => outbox.ack(seq),
  onResync: resync,
  onResponse: (response) => popup.onResponse(response),
  onDisconnect(reason) {
    outbox.disconnected();
    popup.failAll(reason);
  },
});
const popup = new PopupBridge(link);

// A batch is cut once any held navigation is out: a page load's storage writes join its navigation.
outbox.attach({ send: (batch) => link.post({ type: 'events', batch }) }, () => hold.whenReleased());

for (const source of sources) source.start(emit);
popup.start();

chrome.alarms.onAlarm.addListener((alarm) => {
  if (alarm.name === RECONNECT_ALARM) link.ensureConnected();
});
chrome.alarms.create(RECONNECT_ALARM, { periodInMinutes: 0.5 }).catch(() => {});

link.ensureConnected();
