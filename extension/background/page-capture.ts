/**
 * Receives what content scripts report (storage, scroll, viewport) and turns it into capture events.
 * Tab id, frame id, origin and topOrigin come from the message sender as Chromium fills it in, never
 * from the message: a page cannot forge them.
 */
import { ContentMessageSchema, DUMP_REQUEST, isContentMessageType } from '../../shared/messages/content.js';
import type { CaptureSource, Emit } from './capture-source.js';
import { counters } from './counters.js';
import { warn } from './debug.js';
import { crossSiteTopOrigin } from './site.js';

function senderOrigin(sender: chrome.runtime.MessageSender): string | null {
  if (sender.origin && sender.origin !== 'null') return sender.origin;
  try {
    const origin = sender.url ? new URL(sender.url).origin : 'null';
    return origin === 'null' ? null : origin;
  } catch {
    return null;
  }
}

export function createPageCaptureSource(): CaptureSource {
  let emit: Emit | null = null;

  const onMessage = (raw: unknown, sender: chrome.runtime.MessageSender): undefined => {
    const type = (raw as { type?: unknown } | null)?.type;
    if (!emit || !isContentMessageType(type)) return;
    // Only our own content scripts, in a tab (not the popup or another extension).
    if (sender.id !== chrome.runtime.id || sender.tab?.id === undefined || sender.frameId === undefined) return;
    counters.contentMessages++;
    counters.zodParses++;
    const parsed = ContentMessageSchema.safeParse(raw);
    if (!parsed.success) {
      warn('page', `invalid ${String(type)} message from a content script`);
      return;
    }
    const message = parsed.data;
    const tabId = sender.tab.id;
    const frameId = sender.frameId;
    if (message.type === 'restory.scroll' || message.type === 'restory.viewport') {
      if (frameId !== 0) return;
      if (message.type === 'restory.scroll') emit({ kind: 'scroll', tabId, x: message.x, y: message.y });
      else emit({ kind: 'viewport', tabId, width: message.width, height: message.height });
      return;
    }
    const origin = senderOrigin(sender);
    if (!origin || !/^https?:/.test(origin)) return;
    const topOrigin = frameId === 0 ? undefined : crossSiteTopOrigin(origin, sender.tab.url);
    const scope = { tabId, frameId, origin, ...(topOrigin ? { topOrigin } : {}), area: message.area };
    if (message.type === 'restory.storage.full') {
      counters.storageFull++;
      emit({ kind: 'storage.full', ...scope, items: message.items });
    } else {
      emit({ kind: 'storage.change', ...scope, clear: message.clear, set: message.set, remove: message.remove });
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
    resync: requestDumps,
  };
}
