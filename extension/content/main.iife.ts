/**
 * Content script entry, injected at document_start into every frame (isolated world).
 *
 * Named `*.iife.ts` so crxjs emits one classic script that runs synchronously at document_start,
 * before any page script (other names get an async ESM loader).
 *
 * Nothing here touches the page: no main-world script, no globals, no DOM nodes, no prototype
 * patches. The page cannot see the capture, and a page that breaks its own globals cannot break it
 * (the isolated world has its own copies of every built-in).
 *
 * `chrome.*` directly, no webextension-polyfill (the whole extension; README "Extension API"): in
 * this script it would run in every frame of every page: +31 KB (11.8 → 42.7 KB) and ~3.4 ms of CPU
 * per frame to compile and run, for promises chrome.* already returns on Chrome ≥ 116.
 */
import type { BackgroundToContent } from '../../shared/messages/content.js';
import { startFormCapture } from './form-capture.js';
import { documentEntryType, startHistoryEntryCapture } from './history-entry.js';
import { capturesIndexedDB, startIndexedDBCapture } from './indexeddb-capture.js';
import { isCapturableDocument } from './origin.js';
import { startScrollCapture } from './scroll.js';
import { startStorageCapture } from './storage-capture.js';
import { startViewportCapture } from './viewport.js';

function main(): void {
  if (!isCapturableDocument()) return;
  const top = window === window.top;
  const viewport = top ? startViewportCapture() : undefined;
  // One message per document start: storage digests and, in the top frame, the viewport and how
  // Chromium filed the document's history entry.
  const storage = startStorageCapture(window, top ? { viewport: viewport?.initial(), entry: documentEntryType() } : undefined);
  if (top) startScrollCapture();
  if (top) startHistoryEntryCapture();
  // Every frame: a form in an iframe (a login or checkout widget) is typed into like any other.
  startFormCapture();
  const indexedDB = capturesIndexedDB() ? startIndexedDBCapture() : undefined;
  chrome.runtime.onMessage.addListener((message: BackgroundToContent) => {
    if (message?.type === 'restory.dump') {
      storage.dump();
      indexedDB?.dump();
    }
    // No response: returning nothing closes the channel at once.
  });
}

try {
  main();
} catch {
  // Capture must never throw into the page's console or stop the page.
}
