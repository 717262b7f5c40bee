/**
 * Reports one document's localStorage and sessionStorage: a full dump on start, then only deltas.
 * Diffs run on a timer, at once on `storage` events (writes by other documents of the origin), and
 * synchronously when the page is hidden or unloading so a write just before leaving is not lost.
 */
import type { StorageArea } from '../../shared/capture-events.js';
import { send } from './send.js';
import { StorageMirror } from './storage-mirror.js';

/** Diff period; a write is reported within this plus messaging (~ms), well under 1 s. */
const BASE_INTERVAL_MS = 300;
/** A diff slower than this (huge origin, slow machine) stretches the period, up to MAX_INTERVAL_MS. */
const SLOW_DIFF_MS = 8;
const MAX_INTERVAL_MS = 900;

interface Area {
  name: StorageArea;
  mirror: StorageMirror;
}

export interface StorageCapture {
  /** Send full dumps again (the background lost track). */
  dump(): void;
  stop(): void;
}

export function startStorageCapture(win: Window = window): StorageCapture {
  const areas: Area[] = [];
  for (const name of ['local', 'session'] as const) {
    const storage = openArea(win, name);
    if (storage) areas.push({ name, mirror: new StorageMirror(storage) });
  }
  const abort = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let interval = BASE_INTERVAL_MS;

  const dump = () => {
    for (const area of areas) {
      try {
        send({ type: 'restory.storage.full', area: area.name, items: area.mirror.snapshot() });
      } catch {
        // Storage became inaccessible (e.g. blocked by a settings change): skip this area this time.
      }
    }
  };

  const diffAll = () => {
    for (const area of areas) {
      try {
        const delta = area.mirror.diff();
        if (delta) send({ type: 'restory.storage.change', area: area.name, ...delta });
      } catch {
        // One bad tick must not end capture; the next tick diffs against the same baseline.
      }
    }
  };

  const tick = () => {
    const started = performance.now();
    diffAll();
    const took = performance.now() - started;
    interval = took > SLOW_DIFF_MS ? Math.min(MAX_INTERVAL_MS, interval * 2) : BASE_INTERVAL_MS;
    timer = setTimeout(tick, interval);
  };

  const options = { capture: true, passive: true, signal: abort.signal };
  win.addEventListener('storage', diffAll, options);
  win.addEventListener('pagehide', diffAll, options);
  win.addEventListener('beforeunload', diffAll, options);
  win.document.addEventListener(
    'visibilitychange',
    () => {
      if (win.document.visibilityState === 'hidden') diffAll();
    },
    options,
  );
  // Back/forward cache: the document comes back with storage possibly changed by others meanwhile.
  win.addEventListener('pageshow', (e) => (e as PageTransitionEvent).persisted && diffAll(), options);

  dump();
  timer = setTimeout(tick, interval);

  return {
    dump,
    stop() {
      abort.abort();
      clearTimeout(timer);
    },
  };
}

function openArea(win: Window, name: StorageArea): Storage | null {
  try {
    // Reading the property throws in sandboxed/opaque documents or when storage is blocked.
    return name === 'local' ? win.localStorage : win.sessionStorage;
  } catch {
    return null;
  }
}
