/**
 * The state of one browser session, as stored in a snapshot, exported and restored.
 * `cookies` and `origins` have exactly the shape of Playwright's storageState, so the
 * `playwright` export is a projection and `browser.newContext({ storageState })` loads it.
 */
import { z } from 'zod';
import { FORM_FIELDS_PER_PAGE, FORM_KEY_MAX_CHARS, FORM_PAGES_PER_TAB, FORM_VALUE_MAX_CHARS } from './form-field-identity.js';
import { IndexedDBDatabaseSchema } from './indexeddb.js';
import { SnapshotReasonSchema } from './session-summary.js';

// What listings show of a session lives apart, so a listing builds no state schema.
export * from './session-summary.js';

export const SameSiteSchema = z.enum(['Strict', 'Lax', 'None']);

export const CookieSchema = z.object({
  name: z.string(),
  value: z.string(),
  domain: z.string(),
  path: z.string(),
  /** Unix time in seconds; -1 for a session cookie (Playwright's convention). */
  expires: z.number(),
  httpOnly: z.boolean(),
  secure: z.boolean(),
  sameSite: SameSiteSchema,
  /** Top-level site of a partitioned (CHIPS) cookie. */
  partitionKey: z.string().optional(),
});
export type Cookie = z.infer<typeof CookieSchema>;

export const StorageItemSchema = z.object({ name: z.string(), value: z.string() });
export type StorageItem = z.infer<typeof StorageItemSchema>;

export const OriginStorageSchema = z.object({
  origin: z.string(),
  localStorage: z.array(StorageItemSchema),
  /**
   * Set when the storage was seen in a cross-site iframe: Chromium partitions such storage by the
   * top-level site, so it must be restored inside a frame under that top origin, not at top level.
   * Absent for ordinary (unpartitioned) storage, which is what Playwright's storageState holds.
   */
  topOrigin: z.string().optional(),
  /** The origin's IndexedDB databases, in Playwright's form (shared/indexeddb.ts), in this entry's partition. */
  indexedDB: z.array(IndexedDBDatabaseSchema).optional(),
  /** What capture could not save of the origin's IndexedDB (values it cannot encode, the size cap). */
  indexedDBWarnings: z.array(z.string()).optional(),
});
export type OriginStorage = z.infer<typeof OriginStorageSchema>;

export const HistoryEntrySchema = z.object({ url: z.string(), title: z.string().default('') });
export type HistoryEntry = z.infer<typeof HistoryEntrySchema>;

export const ScrollSchema = z.object({ x: z.number(), y: z.number() });

/** One form field as captured (shared/form-field-identity.ts says what is kept and how it is named). */
export const FormFieldValueSchema = z.union([
  z.string().max(FORM_VALUE_MAX_CHARS),
  z.boolean(),
  z.array(z.string()).refine((v) => v.reduce((n, s) => n + s.length, 0) <= FORM_VALUE_MAX_CHARS, 'selected values too long'),
]);
export const FormFieldSchema = z.object({ key: z.string().min(1).max(FORM_KEY_MAX_CHARS), value: FormFieldValueSchema });
export type FormFieldData = z.infer<typeof FormFieldSchema>;

/** The fields typed into one page of a tab: `url` without its #fragment. */
export const PageFormSchema = z.object({ url: z.string(), fields: z.array(FormFieldSchema).max(FORM_FIELDS_PER_PAGE) });
export type PageForm = z.infer<typeof PageFormSchema>;

export const TabStateSchema = z.object({
  /** Position among all tabs in window order; stable identity within a snapshot only. */
  windowIndex: z.number().int().nonnegative(),
  index: z.number().int().nonnegative(),
  active: z.boolean(),
  pinned: z.boolean(),
  url: z.string(),
  title: z.string().default(''),
  /** Back/forward list as far as capture could see it; entries[currentIndex].url === url. */
  history: z.object({
    entries: z.array(HistoryEntrySchema),
    currentIndex: z.number().int().nonnegative(),
  }),
  /** This tab's own sessionStorage, one entry per origin that wrote any. */
  sessionStorage: z.array(z.object({ origin: z.string(), items: z.array(StorageItemSchema) })),
  scroll: ScrollSchema.optional(),
  /** Form fields the user filled, per page, least recently typed-in first; restored into the current page only. */
  forms: z.array(PageFormSchema).max(FORM_PAGES_PER_TAB).optional(),
});
export type TabState = z.infer<typeof TabStateSchema>;

export const BoundsSchema = z.object({
  left: z.number().int(),
  top: z.number().int(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
});

/** chrome.windows.WindowState: how a window is shown. Capture reports it, restore applies it. */
export const WindowShowStateSchema = z.enum(['normal', 'minimized', 'maximized', 'fullscreen']);
export type WindowShowState = z.infer<typeof WindowShowStateSchema>;

export const WindowStateSchema = z.object({
  bounds: BoundsSchema.optional(),
  state: WindowShowStateSchema.default('normal'),
  focused: z.boolean().default(false),
});
export type WindowState = z.infer<typeof WindowStateSchema>;

export const ViewportSchema = z.object({
  width: z.number().int().positive(),
  height: z.number().int().positive(),
});
export type Viewport = z.infer<typeof ViewportSchema>;

export const SessionStateSchema = z.object({
  cookies: z.array(CookieSchema),
  origins: z.array(OriginStorageSchema),
  /** Sorted by window then index; TabState.windowIndex points into `windows`. */
  tabs: z.array(TabStateSchema),
  windows: z.array(WindowStateSchema),
  viewport: ViewportSchema.optional(),
  /** Unix time in milliseconds of the newest event folded into this state. */
  capturedAt: z.number(),
});
export type SessionState = z.infer<typeof SessionStateSchema>;

export function emptySessionState(now = Date.now()): SessionState {
  return { cookies: [], origins: [], tabs: [], windows: [], capturedAt: now };
}

/** `restory export --format restory`: everything needed to restore, self-describing. */
export const RestoryExportSchema = z.object({
  format: z.literal('restory'),
  version: z.literal(1),
  session: z.object({ id: z.string(), name: z.string(), createdAt: z.number() }),
  snapshot: z.object({ id: z.number().int(), takenAt: z.number(), reason: SnapshotReasonSchema }),
  state: SessionStateSchema,
});
export type RestoryExport = z.infer<typeof RestoryExportSchema>;

/** Playwright's storageState file, as `export --format playwright` writes and `import` reads. */
export const PlaywrightStorageStateSchema = z.object({
  cookies: z.array(CookieSchema.omit({ partitionKey: true }).extend({ partitionKey: z.string().optional() })),
  origins: z.array(
    z.object({ origin: z.string(), localStorage: z.array(StorageItemSchema), indexedDB: z.array(IndexedDBDatabaseSchema).optional() }),
  ),
});
export type PlaywrightStorageState = z.infer<typeof PlaywrightStorageStateSchema>;
