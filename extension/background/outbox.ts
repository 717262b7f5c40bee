/**
 * Sequencing, batching and durability of capture events until the companion acknowledges them.
 *
 * - `seq` is strictly increasing per instance and never goes backwards across service-worker
 *   restarts: seqs are handed out from blocks reserved in chrome.storage.local, and a block is
 *   written before any seq in it is used (a restart skips the rest of a block; gaps are fine).
 * - Events are coalesced: the first push arms a COALESCE_MS timer and everything pushed until it
 *   fires goes out as one `events` frame (below MAX_BATCH_BYTES). A navigation's webNavigation
 *   commit, its tabs change, its storage and viewport reports therefore cost one frame, one ack and
 *   one storage write instead of one of each per listener call.
 * - Every sequenced event stays in the outbox until `ack`/`welcome` covers it. The outbox is
 *   mirrored to chrome.storage.session (it survives a service-worker restart, not a browser restart)
 *   with one `set` per flush, one key per event (so writing a small event never rewrites a 5 MB
 *   dump). What is at risk: an event between its push and the end of that `set` — at most
 *   COALESCE_MS plus one storage round trip (~1 ms) — if the worker is stopped exactly then, and
 *   the companion has not stored it either (the frame is posted before the mirror is written).
 *   Chromium does not stop a worker that holds an open native port for idleness; what remains is an
 *   extension reload or a crash of the worker.
 * - Acknowledged events leave memory at once, but their mirror keys are removed lazily, in one call
 *   per REMOVE_DELAY_MS (sooner when they hold much data): a key left behind by a restart is dropped
 *   at the next welcome (its seq ≤ ackedSeq) and, if resent before, ignored by the companion.
 */
import type { CaptureEvent, SequencedEvent } from '../../shared/capture-events.js';
import { counters } from './counters.js';
import { createDebug, warn } from './debug.js';

const SEQ_KEY = 'restory.seqReserved';
const SEQ_BLOCK = 1000;
const OUTBOX_PREFIX = 'restory.outbox.';
/** How long the first event of a batch waits for the rest of its navigation (and the RPO it adds). */
export const COALESCE_MS = 40;
/** Acknowledged mirror keys are removed in one call at most this long after their ack... */
const REMOVE_DELAY_MS = 2_000;
/** ...or at once when they hold more than this (storage.session's quota is 10 MB). */
const REMOVE_NOW_BYTES = 1024 * 1024;
/** storage.session holds 10 MB in all; a bigger event (a large IndexedDB dump) lives in memory only. */
const MIRROR_MAX_BYTES = 8 * 1024 * 1024;
/** Chromium accepts 64 MiB browser → host; stay well below. */
export const MAX_BATCH_BYTES = 60 * 1024 * 1024;

const debug = createDebug('outbox');

interface Entry {
  seq: number;
  at: number;
  event: CaptureEvent;
  /** Upper bound of the event's UTF-8 JSON size. */
  bytes: number;
}


export interface BatchSink {
  send(batch: SequencedEvent[]): void;
}

/** Something the outbox waits for before cutting a batch (null: cut now); see NavigationHold. */
export type BatchGate = () => Promise<void> | null;

export class Outbox {
  private entries: Entry[] = [];
  private incoming: { at: number; event: CaptureEvent }[] = [];
  private nextSeq = 1;
  private reservedUpTo = 0;
  private acked = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private chain: Promise<void>;
  private sink: BatchSink | null = null;
  private gate: BatchGate = () => null;
  /** Welcomed on the current connection; flipped inside the task chain so sends never interleave. */
  private welcomed = false;
  /** Highest seq sent on the current connection. */
  private sentUpTo = 0;
  /** Mirror keys of acknowledged events, not removed yet, and their size. */
  private removable: string[] = [];
  private removableBytes = 0;
  private removeTimer: ReturnType<typeof setTimeout> | undefined;

  constructor() {
    this.chain = this.restore().catch((e) => warn('outbox', 'could not restore the outbox', e));
  }

  attach(sink: BatchSink, gate?: BatchGate): void {
    this.sink = sink;
    if (gate) this.gate = gate;
  }

  /** Queue an event; `at` is taken now, `seq` when the batch is cut. Never throws. */
  push(event: CaptureEvent): void {
    counters.outboxEvents++;
    this.incoming.push({ at: Date.now(), event });
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      const gate = this.gate();
      if (gate) void gate.then(() => this.run(() => this.flush()));
      else this.run(() => this.flush());
    }, COALESCE_MS);
  }

  /** Everything with seq ≤ `seq` is durable at the companion. */
  ack(seq: number): void {
    this.run(async () => {
      if (seq <= this.acked) return;
      this.acked = seq;
      const dropped = this.entries.filter((e) => e.seq <= seq);
      if (dropped.length === 0) return;
      this.entries = this.entries.filter((e) => e.seq > seq);
      debug(`ack ${seq}: dropped ${dropped.length}, ${this.entries.length} left`);
      for (const e of dropped) {
        this.removable.push(OUTBOX_PREFIX + e.seq);
        this.removableBytes += e.bytes;
      }
      if (this.removableBytes > REMOVE_NOW_BYTES) this.run(() => this.removeAcked());
      else this.removeTimer ??= setTimeout(() => this.run(() => this.removeAcked()), REMOVE_DELAY_MS);
    });
  }

  /** Highest seq the companion acknowledged (on this or an earlier connection). */
  get ackedSeq(): number {
    return this.acked;
  }

  private async removeAcked(): Promise<void> {
    clearTimeout(this.removeTimer);
    this.removeTimer = undefined;
    if (this.removable.length === 0) return;
    const keys = this.removable;
    this.removable = [];
    this.removableBytes = 0;
    counters.mirrorWrites++;
    await chrome.storage.session.remove(keys).catch(() => {});
  }

  /**
   * Handshake done on a new connection: drop what the companion already has, then send every
   * unacknowledged event again (the companion dedups by seq) and everything new after it.
   */
  connected(ackedSeq: number): void {
    this.ack(ackedSeq);
    this.run(async () => {
      debug(`connected: resending ${this.entries.length} events`);
      this.welcomed = true;
      this.sentUpTo = 0;
      this.pump();
    });
  }

  disconnected(): void {
    this.welcomed = false;
  }

  private run(task: () => Promise<void>): void {
    this.chain = this.chain.then(task).catch((e) => warn('outbox', 'outbox task failed', e));
  }

  private async restore(): Promise<void> {
    const reserved = (await chrome.storage.local.get(SEQ_KEY))[SEQ_KEY];
    this.reservedUpTo = typeof reserved === 'number' ? reserved : 0;
    this.nextSeq = this.reservedUpTo + 1;
    const all = await chrome.storage.session.get(null);
    for (const [key, value] of Object.entries(all)) {
      if (!key.startsWith(OUTBOX_PREFIX)) continue;
      const entry = value as SequencedEvent;
      this.entries.push({ ...entry, bytes: estimateBytes(entry.event) });
    }
    this.entries.sort((a, b) => a.seq - b.seq);
    debug(`restored: next seq ${this.nextSeq}, ${this.entries.length} unacked`);
  }

  private async flush(): Promise<void> {
    if (this.incoming.length === 0) return;
    const incoming = this.incoming;
    this.incoming = [];
    const fresh: Entry[] = [];
    for (const { at, event } of incoming) {
      if (this.nextSeq > this.reservedUpTo) {
        // Written before use: after a restart the counter continues above everything handed out.
        this.reservedUpTo = this.nextSeq + SEQ_BLOCK - 1;
        counters.seqWrites++;
        await chrome.storage.local.set({ [SEQ_KEY]: this.reservedUpTo });
      }
      const bytes = estimateBytes(event);
      if (bytes > MAX_BATCH_BYTES) {
        warn('outbox', `dropping a ${event.kind} event of ~${bytes} bytes: over the frame limit`);
        continue;
      }
      fresh.push({ seq: this.nextSeq++, at, event, bytes });
    }
    this.entries.push(...fresh);
    this.pump();
    const mirror: Record<string, SequencedEvent> = {};
    for (const { seq, at, event, bytes } of fresh) {
      // One event over storage.session's whole quota cannot be mirrored: do not pay to try.
      if (bytes > MIRROR_MAX_BYTES) continue;
      mirror[OUTBOX_PREFIX + seq] = { seq, at, event };
    }
    // Best effort: over the 10 MB session quota the events still live in memory and get sent.
    counters.mirrorWrites++;
    await chrome.storage.session.set(mirror).catch((e) => warn('outbox', 'could not mirror the outbox', e));
  }

  /** Send, in seq order, every entry not yet sent on this connection. */
  private pump(): void {
    const sink = this.sink;
    if (!sink || !this.welcomed) return;
    let batch: SequencedEvent[] = [];
    let bytes = 0;
    let count = 0;
    for (const entry of this.entries) {
      if (entry.seq <= this.sentUpTo || entry.seq <= this.acked) continue;
      if (batch.length > 0 && bytes + entry.bytes > MAX_BATCH_BYTES) {
        sink.send(batch);
        batch = [];
        bytes = 0;
      }
      batch.push({ seq: entry.seq, at: entry.at, event: entry.event });
      bytes += entry.bytes + 64;
      this.sentUpTo = entry.seq;
      count++;
    }
    if (batch.length > 0) sink.send(batch);
    if (count > 0) debug(`sent ${count} events`);
  }
}

/**
 * Upper bound of an event's UTF-8 JSON size without serialising it: a UTF-16 unit is at most 3 bytes
 * in UTF-8 (6 when JSON escapes a control character; those are rare enough to ignore here, and the
 * frame limit has 4 MiB of slack).
 */
export function estimateBytes(event: CaptureEvent): number {
  if (event.kind === 'storage.full' || event.kind === 'storage.change') {
    let chars = 256 + event.origin.length + (event.topOrigin?.length ?? 0);
    const items = event.kind === 'storage.full' ? event.items : event.set;
    for (const key in items) chars += key.length + items[key].length + 6;
    for (const key of event.kind === 'storage.change' ? event.remove : []) chars += key.length + 3;
    return chars * 3;
  }
  if (event.kind === 'indexeddb' || event.kind === 'indexeddb.delta') {
    // Mostly ASCII (base64, tags, keys): ×3 would turn a 25 MB dump into one over the frame limit.
    const text = JSON.stringify(event);
    let bytes = text.length;
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) bytes += 2;
    return bytes;
  }
  return JSON.stringify(event).length * 3;
}

