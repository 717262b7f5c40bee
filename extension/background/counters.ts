/**
 * Work counters of the service worker: how many content-script messages, outbox events,
 * chrome.storage writes, native frames and zod validations the capture costs. Always on (an
 * increment is a few nanoseconds) and readable from a test or the worker's console as
 * `restoryCounters`, so the per-navigation cost is a number that tests can hold down.
 */
export const counters = {
  /** runtime messages received from content scripts. */
  contentMessages: 0,
  /** Capture events pushed into the outbox. */
  outboxEvents: 0,
  /** chrome.storage.session set/remove calls made by the outbox mirror. */
  mirrorWrites: 0,
  /** chrome.storage.local writes of seq blocks. */
  seqWrites: 0,
  /** Frames posted to the native port, by type `events`. */
  eventFrames: 0,
  /** zod validations (content messages, companion messages). */
  zodParses: 0,
  /** tabs.query + windows.getAll round trips. */
  tabsReads: 0,
  /** `tabs` events emitted. */
  tabsEvents: 0,
  /** Full storage dumps received from content scripts. */
  storageFull: 0,
};

export type Counters = typeof counters;

(globalThis as { restoryCounters?: Counters }).restoryCounters = counters;
