/**
 * Reports one document's localStorage and sessionStorage.
 *
 * Start: a digest per area (count + hash, extension/storage-digest.ts) goes to the background,
 * which compares it with what the companion already holds and answers with the areas it needs in
 * full; an unchanged or empty origin costs one small message and no dump. After that, only deltas.
 *
 * Deltas come from diffing the Storage objects (see storage-mirror.ts for why) on an adaptive
 * timer, which costs a renderer wake-up per tick even when nothing changes, so it only runs fast
 * when a write is likely:
 * - at the window's load event, and FAST_MS after a change was seen, a `storage` event (another document of the origin wrote),
 *   input (keys, pointer, form edits) or the page becoming visible;
 * - then doubling while nothing changes, up to MAX_MS: the worst case from a write to its diff
 *   while the page is visible. With the outbox's coalescing and the companion's fsync that keeps
 *   write → durable under 1 s (MAX_MS + COALESCE_MS 40 + ~10–50 ms);
 * - no timer at all while the document is hidden: a diff runs when it becomes hidden, when it
 *   becomes visible again, on `storage` events, and synchronously on pagehide/beforeunload, so a
 *   write just before leaving is not lost. A hidden tab's own writes are reported when it is shown
 *   or unloaded (or, for localStorage, as soon as a visible document of the origin sees them).
 */
import type { StorageArea } from '../../shared/capture-events.js';
import type { ContentMessage, StartReply } from '../../shared/messages/content.js';
import { request, send } from './send.js';
import { StorageMirror } from './storage-mirror.js';

/** Diff period right after activity. */
export const FAST_MS = 250;
/** Longest diff period while visible: the worst-case write → diff delay (500 ms leaves a loaded 2-core machine room under the 1 s RPO). */
export const MAX_MS = 500;
/** A diff slower than this (huge origin, slow machine) backs off even while writes keep coming. */
const SLOW_DIFF_MS = 8;
/** Events after which a write is likely: the period drops to FAST_MS. */
const ACTIVITY = ['pointerdown', 'keydown', 'input', 'change'] as const;

interface Area {
  name: StorageArea;
  mirror: StorageMirror;
}

export interface StorageCapture {
  /** Send full dumps again (the background lost track). */
  dump(): void;
  stop(): void;
}

/** What only the top frame adds to its start message. */
export type TopFrameStart = Pick<Extract<ContentMessage, { type: 'restory.start' }>, 'viewport' | 'entry'>;

export function startStorageCapture(win: Window = window, top?: TopFrameStart): StorageCapture {
  const doc = win.document;
  const areas: Area[] = [];
  for (const name of ['local', 'session'] as const) {
    const storage = openArea(win, name);
    if (storage) areas.push({ name, mirror: new StorageMirror(storage) });
  }
  const abort = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  /** When the armed timer fires (performance.now()). */
  let due = 0;
  let interval = FAST_MS;

  const sendFull = (area: Area) => {
    try {
      send({ type: 'restory.storage.full', area: area.name, items: area.mirror.snapshot() });
    } catch {
      // Storage became inaccessible (e.g. blocked by a settings change): skip this area this time.
    }
  };
  const dump = () => areas.forEach(sendFull);

  /** True if anything changed (and was sent). */
  const diffAll = (): boolean => {
    let changed = false;
    for (const area of areas) {
      try {
        const delta = area.mirror.diff();
        if (delta) {
          send({ type: 'restory.storage.change', area: area.name, ...delta });
          changed = true;
        }
      } catch {
        // One bad tick must not end capture; the next tick diffs against the same baseline.
      }
    }
    return changed;
  };

  const visible = () => doc.visibilityState !== 'hidden';
  const arm = (delay: number) => {
    clearTimeout(timer);
    due = performance.now() + delay;
    timer = setTimeout(tick, delay);
  };
  const disarm = () => {
    clearTimeout(timer);
    timer = undefined;
  };
  const tick = () => {
    timer = undefined;
    const started = performance.now();
    const changed = diffAll();
    const took = performance.now() - started;
    if (!visible()) return;
    interval = changed && took <= SLOW_DIFF_MS ? FAST_MS : Math.min(MAX_MS, interval * 2);
    arm(interval);
  };
  /** A write is likely soon: diff within FAST_MS. */
  const hurry = () => {
    interval = FAST_MS;
    if (!visible()) return;
    if (timer === undefined || due > performance.now() + FAST_MS) arm(FAST_MS);
  };
  /** Diff now (others' writes, or the document is about to be hidden or gone). */
  const diffNow = () => {
    if (diffAll()) interval = FAST_MS;
  };

  const options = { capture: true, passive: true, signal: abort.signal };
  win.addEventListener(
    'storage',
    () => {
      diffNow();
      hurry();
    },
    options,
  );
  for (const type of ACTIVITY) win.addEventListener(type, hurry, options);
  // Synchronous: the messages are posted before the document goes away.
  win.addEventListener(
    'pagehide',
    () => {
      diffNow();
      disarm();
    },
    options,
  );
  win.addEventListener('beforeunload', diffNow, options);
  // What the page wrote while loading goes out at once, so it joins the batch of the navigation
  // whose tab is just completing (NavigationHold): one frame per page load rather than two. Not
  // capturing: on window, a capturing listener would also get every image's and script's load.
  win.addEventListener('load', diffNow, { once: true, passive: true, signal: abort.signal });
  doc.addEventListener(
    'visibilitychange',
    () => {
      diffNow();
      if (visible()) hurry();
      else disarm();
    },
    options,
  );
  // Back/forward cache: the document comes back with storage possibly changed by others meanwhile.
  win.addEventListener(
    'pageshow',
    (e) => {
      if (!(e as PageTransitionEvent).persisted) return;
      diffNow();
      hurry();
    },
    options,
  );

  start(areas, top, sendFull);
  if (visible()) arm(FAST_MS);

  return {
    dump,
    stop() {
      abort.abort();
      disarm();
    },
  };
}

/** The document-start report: digests (and the top frame's extras); full dumps only of the areas asked for. */
function start(areas: Area[], top: TopFrameStart | undefined, sendFull: (area: Area) => void): void {
  const storage = [];
  for (const area of areas) {
    try {
      const { n, lo, hi } = area.mirror.load();
      storage.push({ area: area.name, n, lo, hi });
    } catch {
      // Inaccessible now: no baseline, no report; diffs start from empty if it comes back.
    }
  }
  if (storage.length === 0 && !top?.viewport && !top?.entry) return;
  const extras = { ...(top?.viewport ? { viewport: top.viewport } : {}), ...(top?.entry ? { entry: top.entry } : {}) };
  void request({ type: 'restory.start', storage, ...extras }).then((reply) => {
    const full = (reply as StartReply | undefined)?.full;
    if (!Array.isArray(full)) return;
    for (const area of areas) if (full.includes(area.name)) sendFull(area);
  });
}

function openArea(win: Window, name: StorageArea): Storage | null {
  try {
    // Reading the property throws in sandboxed/opaque documents or when storage is blocked.
    return name === 'local' ? win.localStorage : win.sessionStorage;
  } catch {
    return null;
  }
}
