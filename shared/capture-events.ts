/**
 * Capture events (extension → companion). The companion folds them into the live session state
 * (companion/session-state/live-state.ts); they are also what the durability journal records.
 * Every kind has a producer in extension/background/ and a case in that reducer
 * (test/unit/capture-events-meta.test.ts checks both).
 */
import { z } from 'zod';
import { IndexedDBDatabaseSchema, IndexedDBStoreChangeSchema } from './indexeddb.js';
import { FORM_FIELDS_PER_PAGE } from './form-field-identity.js';
import { CookieSchema, FormFieldSchema, FormFieldValueSchema, WindowShowStateSchema } from './state.js';

/** NavigationType of the Navigation API: a new entry, the current one replaced or reloaded, or a move to another. */
export const HistoryEntryTypeSchema = z.enum(['push', 'replace', 'reload', 'traverse']);
export type HistoryEntryType = z.infer<typeof HistoryEntryTypeSchema>;

export const StorageAreaSchema = z.enum(['local', 'session']);
export type StorageArea = z.infer<typeof StorageAreaSchema>;

/**
 * Storage items, key → value. Not z.record: it copies the object key by key and silently drops a
 * `__proto__` key, which a page may store like any other. Validated in place instead (own keys, as
 * Object.keys sees them, each with a string value) and passed on as it came: JSON.parse gives
 * `__proto__` an own property, which Object.entries reads back. Whoever builds such an object must
 * use Object.create(null) or defineProperty, since assigning `__proto__` on `{}` sets no key.
 */
const StorageItemsSchema = z.custom<Record<string, string>>(
  (v) => isPlainObject(v) && Object.keys(v).every((k) => typeof v[k] === 'string'),
  { message: 'expected an object of string values' },
);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Where a storage write happened. `topOrigin` only for frames whose top-level site differs (partitioned storage). */
const StorageScope = {
  tabId: z.number().int(),
  frameId: z.number().int(),
  origin: z.string(),
  topOrigin: z.string().optional(),
  area: StorageAreaSchema,
};

export const CaptureEventSchema = z.discriminatedUnion('kind', [
  /** Everything one origin holds in one area: sent on load and whenever capture lost track. */
  z.object({ kind: z.literal('storage.full'), ...StorageScope, items: StorageItemsSchema }),
  /** Applied in order: `clear` (if true), then `remove`, then `set`. */
  z.object({
    kind: z.literal('storage.change'),
    ...StorageScope,
    clear: z.boolean().default(false),
    set: StorageItemsSchema.default({}),
    remove: z.array(z.string()).default([]),
  }),
  z.object({ kind: z.literal('cookies.all'), cookies: z.array(CookieSchema) }),
  z.object({ kind: z.literal('cookie.change'), cookie: CookieSchema, removed: z.boolean() }),
  /**
   * A top-frame navigation. `how`: a new document committed, a History API update (pushState /
   * replaceState) or a fragment change. `transition`/`qualifiers` as chrome.webNavigation reports them
   * ('forward_back' tells Back/Forward from a new entry).
   */
  z.object({
    kind: z.literal('navigation'),
    tabId: z.number().int(),
    url: z.string(),
    how: z.enum(['commit', 'history', 'fragment']),
    transition: z.string().optional(),
    qualifiers: z.array(z.string()).default([]),
    /**
     * How Chromium filed the entry, as the page's Navigation API tells it (navigation.activation /
     * currententrychange navigationType), reported by the top frame's content script. With
     * `transition` too when the extension paired it with webNavigation's report of the same
     * navigation; without, it is the page's report alone, and webNavigation's comes (or came) apart.
     */
    entry: HistoryEntryTypeSchema.optional(),
  }),
  /** The complete set of tabs and windows, sent after any tab or window change (debounced). */
  z.object({
    kind: z.literal('tabs'),
    tabs: z.array(
      z.object({
        tabId: z.number().int(),
        windowId: z.number().int(),
        index: z.number().int().nonnegative(),
        active: z.boolean(),
        pinned: z.boolean(),
        url: z.string(),
        title: z.string().default(''),
      }),
    ),
    windows: z.array(
      z.object({
        windowId: z.number().int(),
        left: z.number().int().optional(),
        top: z.number().int().optional(),
        width: z.number().int().optional(),
        height: z.number().int().optional(),
        state: WindowShowStateSchema.default('normal'),
        focused: z.boolean().default(false),
      }),
    ),
  }),
  z.object({ kind: z.literal('scroll'), tabId: z.number().int(), x: z.number(), y: z.number() }),
  /**
   * Fields of the tab's top document that changed in one burst of typing; `url` without its
   * #fragment. A null value: the field now holds more than can be kept, forget what was.
   */
  z.object({
    kind: z.literal('form'),
    tabId: z.number().int(),
    url: z.string(),
    fields: z.array(FormFieldSchema.extend({ value: FormFieldValueSchema.nullable() })).max(FORM_FIELDS_PER_PAGE),
  }),
  /**
   * Everything one origin holds in IndexedDB, replacing what was held; no databases means none.
   * `topOrigin`: the storage is partitioned under that top-level origin (a cross-site iframe's), as
   * for localStorage. `warnings`: what could not be saved (values, the size cap), for resume.
   */
  z.object({
    kind: z.literal('indexeddb'),
    tabId: z.number().int(),
    origin: z.string(),
    topOrigin: z.string().optional(),
    databases: z.array(IndexedDBDatabaseSchema),
    warnings: z.array(z.string()).default([]),
    /** Fingerprint of the read (extension/content/indexeddb-read.ts), the base of the deltas that follow. */
    hash: z.string().optional(),
  }),
  /**
   * The records of one origin's IndexedDB that changed since the read fingerprinted `base`, which
   * the companion holds (shared/indexeddb-delta.ts); `hash` fingerprints the read after it. Only
   * when no database, store or index changed shape; otherwise the origin comes whole ('indexeddb').
   */
  z.object({
    kind: z.literal('indexeddb.delta'),
    tabId: z.number().int(),
    origin: z.string(),
    topOrigin: z.string().optional(),
    base: z.string(),
    hash: z.string(),
    stores: z.array(IndexedDBStoreChangeSchema),
    warnings: z.array(z.string()).default([]),
  }),
  z.object({
    kind: z.literal('viewport'),
    tabId: z.number().int(),
    width: z.number().int().positive(),
    height: z.number().int().positive(),
  }),
]);
export type CaptureEvent = z.infer<typeof CaptureEventSchema>;
export type CaptureEventInput = z.input<typeof CaptureEventSchema>;
export type CaptureEventKind = CaptureEvent['kind'];

export const SequencedEventSchema = z.object({
  /** Per extension instance, strictly increasing; the companion ignores seq ≤ what it stored. */
  seq: z.number().int().positive(),
  /** Unix ms at capture. */
  at: z.number(),
  event: CaptureEventSchema,
});
export type SequencedEvent = z.infer<typeof SequencedEventSchema>;
