/**
 * Reports the document's origin's IndexedDB, without anything the page could see (no main-world
 * hook: the isolated world shares the origin's IndexedDB but not its objects).
 *
 * Change detection: the origin's IndexedDB usage (`navigator.storage.estimate()`,
 * usageDetails.indexedDB). Measured on Chromium 156, every committed write moves it, an update of a
 * value by one of the same size included (+404 bytes per put into idb-keyval's store), and reading
 * does not; one call costs ~0.6 ms of wall time, a browser round trip, and almost no CPU in the page.
 * So a tick is one `estimate()`; only when the usage moved does the background get asked whether the
 * companion already holds that state (another document of the origin may have reported it), and only
 * then are the databases read in full (indexeddb-read.ts) and, if their fingerprint differs from
 * what the companion holds, sent: as the records that changed since what the companion holds
 * (shared/indexeddb-delta.ts; the base is this document's previous read, or the background's
 * fingerprint when another document reported since, shared/indexeddb-fingerprint.ts), else whole. An origin without IndexedDB
 * costs one `estimate()` per tick and no message at all.
 *
 * When (the RPO): at the load event and MAX_MS after it; FAST_MS after input (a write is likely),
 * then doubling while nothing changes up to MAX_MS while the document is visible; at once when it
 * becomes hidden (the read completes: the document lives on) and at pagehide (best effort: a read
 * started there may not complete before the document is gone — the next document of the origin
 * catches up at its load).
 * An origin whose usage is 0 stops ticking after its start-up checks (at load, MAX_MS later) until input.
 * A full read of R ms is not repeated within READ_DUTY × R ms (at most MAX_READ_WAIT_MS), so reading
 * an origin that changes constantly takes at most 1/READ_DUTY of the wall time unless one read
 * takes over 1.5 s, and its RPO grows accordingly, to at most 30 s + a read.
 */
import { INDEXEDDB_ORIGIN_CAP_CHARS } from '../../shared/constants.js';
import { fingerprintFromWire, fingerprintHash, fingerprintToWire, type ReadFingerprint } from '../../shared/indexeddb-fingerprint.js';
import type { IndexedDBBaseReply, IndexedDBDeltaReply, IndexedDBProbeReply } from '../../shared/messages/content.js';
import { changesSince, readOriginIndexedDB, type OriginIndexedDB } from './indexeddb-read.js';
import { request, send } from './send.js';

/** Check period right after input. */
export const FAST_MS = 1000;
/** Longest check period while visible: write → captured stays under 5 s (MAX_MS + read + send). */
export const MAX_MS = 4000;
/** A full read of R ms waits READ_DUTY × R ms before the next: at most 5% of a core. */
const READ_DUTY = 20;
/** ...but never longer than this: a huge origin's RPO stays bounded (at the price of more than 5% then). */
const MAX_READ_WAIT_MS = 30_000;
const ACTIVITY = ['pointerdown', 'keydown', 'input', 'change'] as const;

/** A store whose records' JSON took more than this at the last read is read by keys only between full reads. */
const BIG_STORE_CHARS = 256 * 1024;

/** The stores of a read that are worth reading by keys only (undefined when none are). */
function bigStores(read: ReadFingerprint): Set<string> | undefined {
  const big = new Set<string>();
  for (const [id, store] of read.stores) if (store.lengths.reduce((a, b) => a + b, 0) > BIG_STORE_CHARS) big.add(id);
  return big.size > 0 ? big : undefined;
}

export interface IndexedDBCapture {
  /** Forget what was reported and report again (the background lost track). */
  dump(): void;
  stop(): void;
}

/**
 * The top frame, and every frame of another origin than its top: a frame of the top's origin sees
 * the databases the top reports. A cross-site frame's IndexedDB is partitioned by the top-level site
 * (the background names the partition); a frame of another origin of the same site has that
 * origin's own. Each check costs one `estimate()`, ~0.2 ms of CPU across the browser's processes
 * (1000 calls: 210 ms), so even a page with a dozen third-party iframes pays a few ms per load.
 */
export function capturesIndexedDB(win: Window = window): boolean {
  if (win === win.top) return true;
  const ancestors = win.location.ancestorOrigins;
  return ancestors !== undefined && ancestors.length > 0 && ancestors[ancestors.length - 1] !== win.location.origin;
}

/** Names and versions of databases, as lastShape keeps them. */
function namesAndVersions(databases: ReadonlyArray<{ name?: string; version?: number }>): string {
  return databases
    .filter((d) => d.name)
    .map((d) => `${d.name}\u0000${d.version}`)
    .join('\u0001');
}

/** The origin's databases' names and versions now. */
async function databasesShape(factory: IDBFactory): Promise<string> {
  return namesAndVersions(await factory.databases());
}

async function usageSignal(win: Window): Promise<number | null> {
  const estimate = (await win.navigator.storage.estimate()) as StorageEstimate & { usageDetails?: { indexedDB?: number } };
  if (estimate.usageDetails) return estimate.usageDetails.indexedDB ?? 0;
  return estimate.usage ?? null;
}

export function startIndexedDBCapture(win: Window = window): IndexedDBCapture {
  const doc = win.document;
  const factory = win.indexedDB;
  const abort = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let interval = FAST_MS;
  /** Usage when the companion was last known to hold this origin's state; undefined before the first check. */
  let reported: number | undefined;
  let running = false;
  /** Checks asked for while one ran: run once more after it (forced if any of them was). */
  let again: 'no' | 'yes' | 'forced' = 'no';
  /** When the armed timer fires (performance.now()). */
  let due = 0;
  let nextReadAt = 0;
  /** Reads in a row that found what the companion already held (the usage moved for another reason). */
  let idleReads = 0;
  /** Names and versions of the databases at the last read, to tell a compaction from a deletion. */
  let lastShape = '';
  /** This document's last read that went to the background (whole, as a delta, or found the same). */
  let lastRead: ReadFingerprint | undefined;
  /** A keys-only read ran since the last full read: a full one is due once the wait is over. */
  let fullReadOwed = false;
  let stopped = false;

  const visible = () => doc.visibilityState !== 'hidden';
  /** Tick after `delay`; only while visible unless `always` (a read put off by the duty cycle). */
  const arm = (delay: number, always = false) => {
    clearTimeout(timer);
    timer = (visible() || always) && !stopped ? setTimeout(() => void tick(), delay) : undefined;
    due = performance.now() + delay;
  };

  /** One tick; never runs twice at once (a request during a run runs once after it). */
  const check = async (force = false): Promise<void> => {
    if (running) {
      again = force || again === 'forced' ? 'forced' : 'yes';
      return;
    }
    running = true;
    let changed = false;
    try {
      const signal = await usageSignal(win);
      if (signal === null) return;
      const owed = fullReadOwed && nextReadAt <= performance.now();
      if (!force && signal === reported && !owed) return;
      // An origin that never had IndexedDB: nothing to say (and no message to send).
      if (!force && reported === undefined && signal === 0) {
        reported = 0;
        return;
      }
      // Usage also moves without a write: LevelDB compacts (measured: −17% a while after a 1 MB
      // write, and reads can trigger it). A drop with the same databases is taken as that, not read.
      if (!force && reported !== undefined && signal < reported && lastShape === (await databasesShape(factory))) {
        reported = signal;
        return;
      }
      // Within the wait after a full read, big stores are read by their keys only: inserts and
      // deletes go out now, a value changed in place in a big store waits for the owed full read.
      const wait = nextReadAt - performance.now();
      const keysOnly = wait > 0 && !force && lastRead ? bigStores(lastRead) : undefined;
      if (wait > 0 && !force && !keysOnly) {
        changed = true;
        arm(wait, true);
        return;
      }
      const reply = (await request({ type: 'restory.idb.probe', signal })) as IndexedDBProbeReply | undefined;
      if (!reply) return;
      if (reply.fresh && !force && !owed) {
        reported = signal;
        return;
      }
      if (keysOnly) {
        // The owed full read runs at the first tick after the wait (ticks go on while visible); a
        // hidden document has no ticks, so it gets a timer for it.
        fullReadOwed = true;
        if (!visible()) arm(wait, true);
        const read = await readOriginIndexedDB(factory, INDEXEDDB_ORIGIN_CAP_CHARS, { prev: lastRead, keysOnly });
        reported = signal;
        changed = await report(read, reply, signal, false);
        return;
      }
      fullReadOwed = false;
      const started = performance.now();
      const read = await readOriginIndexedDB(factory, INDEXEDDB_ORIGIN_CAP_CHARS);
      const took = performance.now() - started;
      const same = read.hash === reply.hash;
      // A read that found nothing new makes the next one wait longer (×2 each time, up to 5 min):
      // a big origin whose usage keeps moving by itself must not be read back to back, while a
      // small one (a read of ~20 ms) still waits under 30 s after ten such reads. A document's first
      // read finding what the companion holds is expected (another document or a resume reported
      // it), not a sign of usage moving by itself.
      idleReads = same && lastRead ? idleReads + 1 : 0;
      const normal = Math.min(MAX_READ_WAIT_MS, READ_DUTY * took);
      nextReadAt = performance.now() + (idleReads === 0 ? normal : Math.max(normal, Math.min(5 * 60_000, READ_DUTY * took * 2 ** idleReads)));
      lastShape = namesAndVersions(read.databases);
      reported = signal;
      changed = await report(read, reply, signal, force);
    } catch {
      // IndexedDB unavailable or blocked right now: the next tick tries again.
    } finally {
      running = false;
      if (changed) interval = FAST_MS;
      if (again !== 'no') {
        const forced = again === 'forced';
        again = 'no';
        void check(forced);
      }
    }
  };

  /**
   * Tell the background what a read found: nothing new, what changed since what the companion holds
   * (this document's previous read when that is it, else the background's fingerprint of it), or
   * everything. A keys-only read cannot be sent whole: then the origin is read in full first.
   * Returns whether the companion's copy changed.
   */
  async function report(read: OriginIndexedDB, reply: IndexedDBProbeReply, signal: number, force: boolean): Promise<boolean> {
    const own = lastRead;
    let current = read;
    let held: { hash?: string; fingerprinted?: boolean } = reply;
    // Two tries: another document of the origin may report between this one's probe and its delta
    // (both noticed the same write); the refusal says what is held now.
    for (let attempt = 0; attempt < 2 && !force; attempt++) {
      const ownBase = own !== undefined && own.hash === held.hash;
      // A keys-only read took the hashes of the records it kept from `own`: it can be compared with
      // nothing else (against another base, a value changed in place there would be sent back).
      if (current.partial && !ownBase) current = await readOriginIndexedDB(factory, INDEXEDDB_ORIGIN_CAP_CHARS);
      lastRead = current.fingerprint;
      if (current.hash === held.hash) {
        send({ type: 'restory.idb.same', signal, hash: current.hash, ...(held.fingerprinted ? {} : { fingerprint: fingerprintToWire(current.fingerprint) }) });
        return false;
      }
      const base = ownBase ? own : held.fingerprinted ? await heldFingerprint() : undefined;
      const changes = base ? changesSince(base, current) : null;
      if (!base || !changes) break;
      const delta = { type: 'restory.idb.delta', signal, base: base.hash, hash: current.hash, stores: changes.stores, inserted: changes.inserted, warnings: current.warnings } as const;
      const answer = (await request(delta)) as IndexedDBDeltaReply | undefined;
      if (answer?.accepted) return true;
      if (answer?.hash === undefined) break;
      held = answer;
    }
    const whole = current.partial ? await readOriginIndexedDB(factory, INDEXEDDB_ORIGIN_CAP_CHARS) : current;
    lastRead = whole.fingerprint;
    send({ type: 'restory.idb.full', signal, hash: whole.hash, databases: whole.databases, warnings: whole.warnings, fingerprint: fingerprintToWire(whole.fingerprint) });
    return true;
  }

  /**
   * The background's fingerprint of what the companion holds (another document reported it), if it
   * has one that gives its own hash: a copy that does not cannot be a base (a delta on it would be
   * applied to records it does not describe).
   */
  async function heldFingerprint(): Promise<ReadFingerprint | undefined> {
    const answer = (await request({ type: 'restory.idb.base' })) as IndexedDBBaseReply | undefined;
    if (!answer?.fingerprint) return undefined;
    const fp = fingerprintFromWire(answer.fingerprint);
    return fingerprintHash(fp) === fp.hash ? fp : undefined;
  }

  /** A timer tick: check, then re-arm, faster if something changed. */
  async function tick(): Promise<void> {
    timer = undefined;
    const before = reported;
    await check();
    // An origin without IndexedDB gets no steady timer once start-up is over (the check MAX_MS
    // after load catches a database its scripts create on load): only input and visibility re-arm it.
    if (reported === 0 && interval >= MAX_MS) return;
    interval = reported !== before ? FAST_MS : Math.min(MAX_MS, interval * 2);
    if (timer === undefined) arm(interval);
  }
  /** A write is likely soon: check within FAST_MS. */
  const hurry = () => {
    interval = FAST_MS;
    if (timer === undefined || due > performance.now() + FAST_MS) arm(FAST_MS);
  };

  const options = { capture: true, passive: true, signal: abort.signal };
  for (const type of ACTIVITY) win.addEventListener(type, hurry, options);
  win.addEventListener('pagehide', () => void check(), options);
  doc.addEventListener(
    'visibilitychange',
    () => {
      void check();
      if (visible()) hurry();
      else {
        clearTimeout(timer);
        timer = undefined;
      }
    },
    options,
  );

  // The first check once the document has loaded, whether visible or not (a prerendered or
  // background tab), then MAX_MS later. Not at document start and not 1 s in: every check is a
  // round trip to the browser's quota manager, and four of them per page load (start, 1, 3, 7 s)
  // cost ~+10% CPU per load of a page with no IndexedDB at all (issue 11). A write made while the
  // page loads is still seen within MAX_MS of the load; one an old document made just before it
  // was left is seen at the load.
  const first = () => {
    interval = MAX_MS;
    void check().then(() => arm(interval));
  };
  if (doc.readyState === 'complete') first();
  else win.addEventListener('load', first, { once: true, passive: true, signal: abort.signal });

  return {
    dump() {
      void check(true);
    },
    stop() {
      stopped = true;
      abort.abort();
      clearTimeout(timer);
    },
  };
}
