/**
 * Receives what content scripts report (storage, scroll, form fields, viewport, history entry types) and turns it
 * into capture events.
 * Tab id, frame id, origin and topOrigin come from the message sender as Chromium fills it in, never
 * from the message: a page cannot forge them.
 */
import type { CaptureEvent, HistoryEntryType, StorageArea } from '../../shared/capture-events.js';
import { asContentMessage, DUMP_REQUEST, type IndexedDBBaseReply, type IndexedDBDeltaReply, type IndexedDBProbeReply, type StartReply } from '../../shared/messages/content.js';
import type { CaptureSource, Emit } from './capture-source.js';
import { counters } from './counters.js';
import { warn } from './debug.js';
import { IndexedDBLedger } from './indexeddb-capture.js';
import { crossSiteTopOrigin } from './site.js';
import { ledgerKey, type StorageLedger } from './storage-ledger.js';

function senderOrigin(sender: chrome.runtime.MessageSender): string | null {
  if (sender.origin && sender.origin !== 'null') return sender.origin;
  try {
    const origin = sender.url ? new URL(sender.url).origin : 'null';
    return origin === 'null' ? null : origin;
  } catch {
    return null;
  }
}

/**
 * `navigation` takes the page's report of how Chromium filed a top-frame entry (a `navigation` event
 * with `entry`), to pair it with webNavigation's (navigation-hold.ts); without it it is emitted as is.
 */
export function createPageCaptureSource(ledger: StorageLedger, navigation?: (event: CaptureEvent) => void, indexedDB = new IndexedDBLedger()): CaptureSource {
  let emit: Emit | null = null;
  /** The companion holds a single viewport: re-sending an unchanged one is pure cost. */
  let lastViewport = '';

  const viewport = (tabId: number, width: number, height: number) => {
    const key = `${width}x${height}`;
    if (key === lastViewport) return;
    lastViewport = key;
    emit?.({ kind: 'viewport', tabId, width, height });
  };

  const onMessage = (raw: unknown, sender: chrome.runtime.MessageSender, sendResponse: (reply: StartReply | IndexedDBProbeReply | IndexedDBDeltaReply | IndexedDBBaseReply) => void): undefined => {
    // Only our own content scripts, in a tab (not the popup or another extension).
    if (!emit || sender.id !== chrome.runtime.id || sender.tab?.id === undefined || sender.frameId === undefined) return;
    const message = asContentMessage(raw);
    if (!message) {
      const type = (raw as { type?: unknown } | null)?.type;
      if (typeof type === 'string' && type.startsWith('restory.')) warn('page', `invalid ${type} message from a content script`);
      return;
    }
    counters.contentMessages++;
    const tabId = sender.tab.id;
    const frameId = sender.frameId;
    if (message.type === 'restory.scroll') {
      if (frameId === 0) emit({ kind: 'scroll', tabId, x: message.x, y: message.y });
      return;
    }
    if (message.type === 'restory.form') {
      // Any frame: fields are kept per document URL, an iframe's as its own page of the tab.
      if (message.fields.length > 0) emit({ kind: 'form', tabId, url: message.url, fields: message.fields });
      return;
    }
    const entryReport = (url: string | undefined, how: 'commit' | 'history', entry: HistoryEntryType) => {
      if (frameId !== 0 || !url) return;
      const event: CaptureEvent = { kind: 'navigation', tabId, url, how, qualifiers: [], entry };
      if (navigation) navigation(event);
      else emit?.(event);
    };
    if (message.type === 'restory.entry') {
      entryReport(message.url, message.how, message.entry);
      return;
    }
    if (message.type === 'restory.start' && message.entry) entryReport(sender.url, 'commit', message.entry);
    if (message.type === 'restory.viewport') {
      if (frameId === 0) viewport(tabId, message.width, message.height);
      return;
    }
    if (message.type === 'restory.start' && message.viewport && frameId === 0) {
      viewport(tabId, message.viewport.width, message.viewport.height);
    }
    const origin = senderOrigin(sender);
    if (!origin || !/^https?:/.test(origin)) {
      if (message.type === 'restory.start') sendResponse({ full: [] });
      return;
    }
    const topOrigin = frameId === 0 ? undefined : crossSiteTopOrigin(origin, sender.tab.url);
    const scope = { tabId, frameId, origin, ...(topOrigin ? { topOrigin } : {}) };
    switch (message.type) {
      case 'restory.start': {
        // Work proportional to what changed: an area the companion already holds as is costs
        // nothing; an empty one is its own full dump; only the rest is asked for in full.
        const full: StorageArea[] = [];
        for (const digest of message.storage) {
          if (ledger.matches(ledgerKey(digest.area, tabId, origin, topOrigin), digest)) continue;
          if (digest.n === 0) emit({ kind: 'storage.full', ...scope, area: digest.area, items: {} });
          else full.push(digest.area);
        }
        sendResponse({ full });
        return;
      }
      case 'restory.storage.full':
        counters.storageFull++;
        emit({ kind: 'storage.full', ...scope, area: message.area, items: message.items });
        return;
      case 'restory.storage.change':
        emit({ kind: 'storage.change', ...scope, area: message.area, clear: message.clear, set: message.set, remove: message.remove });
        return;
      case 'restory.idb.probe':
      case 'restory.idb.same':
      case 'restory.idb.full':
      case 'restory.idb.delta':
      case 'restory.idb.base':
        // A top frame, or an iframe of another origin than its top (the content script sends from
        // nowhere else); a cross-site one's storage is partitioned under the top's origin.
        indexedDB.handle(message, { tabId, origin, ...(topOrigin ? { topOrigin } : {}) }, emit, sendResponse);
        return;
    }
  };

  /** Ask every frame of every tab for full storage dumps (resync). */
  const requestDumps = () => {
    chrome.tabs.query({}).then(
      (tabs) => {
        for (const tab of tabs) {
          if (tab.id === undefined) continue;
          // Without frameId the message reaches every frame; tabs without our script reject: fine.
          chrome.tabs.sendMessage(tab.id, DUMP_REQUEST).catch(() => {});
        }
      },
      (e) => warn('page', 'could not list tabs for a resync', e),
    );
  };

  return {
    name: 'page',
    start(e) {
      emit = e;
      chrome.runtime.onMessage.addListener(onMessage);
    },
    stop() {
      chrome.runtime.onMessage.removeListener(onMessage);
      emit = null;
    },
    resync() {
      lastViewport = '';
      ledger.forget();
      indexedDB.forget();
      requestDumps();
    },
  };
}
