/**
 * The live state of one session: capture events folded in as they arrive. Snapshots are copies of
 * it (`toState`), and the journal replays events through the same `apply`, so what is restored after
 * a crash is exactly what was acknowledged.
 */
import type { CaptureEvent, StorageArea } from '../../shared/capture-events.js';
import { FORM_FIELDS_PER_PAGE, FORM_PAGES_PER_TAB, type FormFieldValue } from '../../shared/form-field-identity.js';
import type { IndexedDBDatabase } from '../../shared/indexeddb.js';
import type { Cookie, SessionState, TabState, WindowState } from '../../shared/state.js';
import { applyStoreChange } from '../../shared/indexeddb-delta.js';
import { partitionKey } from '../../shared/storage-partition.js';
import { areaBytes, indexedDBBytes, itemBytes, rememberIndexedDBBytes, storeChangeBytes, type StorageHolder } from './storage-limit.js';
import { afterNavigation, isWebUrl, type Navigation, type TabHistory } from './tab-history.js';

interface LiveTab {
  tabId: number;
  windowId: number;
  index: number;
  active: boolean;
  pinned: boolean;
  url: string;
  title: string;
  history: TabHistory;
  /** origin → key → value */
  session: Map<string, Map<string, string>>;
  scroll?: { x: number; y: number };
  /** Page URL (no #fragment) → field key → value, least recently typed-in page first. */
  forms?: Map<string, Map<string, FormFieldValue>>;
  /**
   * The newest navigation seen from one source only (webNavigation, or the page's entry report) and
   * the list before it, so the other source's report of the same URL can correct it (`navigate`).
   */
  lastNav?: PendingNavigation;
}

interface PendingNavigation {
  url: string;
  by: 'webNavigation' | 'page';
  before: TabHistory;
  shown: { url: string; title: string };
  nav: Navigation;
}

interface LiveWindow extends WindowState {
  windowId: number;
}

/**
 * A session's live state as its row and the journal's create/reset records keep it: everything
 * LiveState holds, not only what a snapshot restores. The state projection (`toState`) leaves out
 * tabs that show no web page (a new-tab page, about:blank, chrome://…) with their history and
 * sessionStorage, windows without such tabs, emptied storage areas (whose position in the order
 * returns with their next write) and the raw tab indexes and active flags: a state rebuilt from it
 * would fold later events differently, and the journal replayed onto it after a crash would not
 * give the state that was snapshotted live (apply-record.ts's hash check).
 */
export interface LiveStateData {
  format: 2;
  cookies: Cookie[];
  /** In insertion order, emptied ones included. Items as [name, value]. */
  local: { origin: string; topOrigin?: string; items: [string, string][] }[];
  tabs: LiveTabData[];
  /** In the order the browser reported them: tabs are ordered by it. */
  windows: LiveWindow[];
  viewport?: { width: number; height: number };
  /** Per origin, its IndexedDB databases as last captured (absent in rows written before IndexedDB capture). */
  indexedDB?: OriginIndexedDB[];
  capturedAt: number;
  /** Which extension instance (browser profile) feeds this session, and the newest seq folded in. */
  instanceId: string | null;
  lastSeq: number;
}

/** What a row or a journal record may hold: the current form, or the one written before it. */
export type StoredLiveStateData = LiveStateData | LiveStateDataV1;

interface LiveTabData extends Omit<LiveTab, 'session' | 'forms'> {
  /** origin → items as [name, value], in insertion order, emptied ones included. */
  session: [string, [string, string][]][];
  /** As LiveTab.forms, in its order (absent in rows written before form capture). */
  forms?: [string, [string, FormFieldValue][]][];
}

const copyValue = (v: FormFieldValue): FormFieldValue => (Array.isArray(v) ? [...v] : v);

function formsFromPairs(pages: [string, [string, FormFieldValue][]][]): Map<string, Map<string, FormFieldValue>> {
  return new Map(pages.map(([url, fields]) => [url, new Map(fields.map(([k, v]) => [k, copyValue(v)]))]));
}

function stripFragment(url: string): string {
  const i = url.indexOf('#');
  return i < 0 ? url : url.slice(0, i);
}

/** A committed navigation that starts a document with empty fields (not Back/Forward or a reload, which Chromium refills). */
function startsEmptyDocument(event: Extract<CaptureEvent, { kind: 'navigation' }>): boolean {
  if (event.how !== 'commit') return false;
  if (event.entry) return event.entry === 'push' || event.entry === 'replace';
  return !event.qualifiers.includes('forward_back') && event.transition !== 'reload';
}

/**
 * The form rows and journal records had before format 2: the state projection plus the browser ids
 * of its tabs and windows. Still read, never written.
 */
export interface LiveStateDataV1 {
  state: SessionState;
  /** Browser tab id of state.tabs[i]; negative ids for tabs that came from a snapshot, not a browser. */
  tabIds: number[];
  windowIds: number[];
  instanceId: string | null;
  lastSeq: number;
}

interface OriginIndexedDB {
  origin: string;
  /** Partitioned under this top-level origin (a cross-site iframe's storage), as for localStorage. */
  topOrigin?: string;
  databases: IndexedDBDatabase[];
  warnings: string[];
  /** The extension's fingerprint of the read these databases are (absent: not known, e.g. restored from a snapshot). */
  hash?: string;
}

function cookieKey(c: Pick<Cookie, 'name' | 'domain' | 'path' | 'partitionKey'>): string {
  return `${c.name}\u0000${c.domain}\u0000${c.path}\u0000${c.partitionKey ?? ''}`;
}

export class LiveState implements StorageHolder {
  private cookies = new Map<string, Cookie>();
  /** partitionKey → origin storage */
  private local = new Map<string, { origin: string; topOrigin?: string; items: Map<string, string> }>();
  private tabs = new Map<number, LiveTab>();
  private windows = new Map<number, LiveWindow>();
  private viewport?: { width: number; height: number };
  /**
   * origin → its IndexedDB. Databases are never edited in place (a delta builds new arrays for the
   * stores it changes and shares the rest), so they are shared, not copied.
   */
  private indexedDB = new Map<string, OriginIndexedDB>();
  /**
   * An IndexedDB delta did not fit what is held (storage-limit cuts aside, it should not happen):
   * the origin's data was left as it was, and capture should send everything again (`takeResync`).
   */
  private resyncWanted = false;
  capturedAt: number;
  instanceId: string | null = null;
  lastSeq = 0;
  /** localStorage, sessionStorage and IndexedDB held, as storage-limit.ts counts them; kept up to date by `apply`. */
  private bytes = 0;

  constructor(now = Date.now()) {
    this.capturedAt = now;
  }

  static fromData(data: StoredLiveStateData): LiveState {
    const live = 'format' in data ? LiveState.fromDataV2(data) : LiveState.fromState(data.state, data.tabIds, data.windowIds);
    live.instanceId = data.instanceId;
    live.lastSeq = data.lastSeq;
    live.bytes = live.countStorageBytes();
    return live;
  }

  private static fromDataV2(data: LiveStateData): LiveState {
    const live = new LiveState(data.capturedAt);
    for (const c of data.cookies) live.cookies.set(cookieKey(c), { ...c });
    for (const o of data.local) {
      live.local.set(partitionKey(o.origin, o.topOrigin), { origin: o.origin, ...(o.topOrigin ? { topOrigin: o.topOrigin } : {}), items: new Map(o.items) });
    }
    for (const { forms, ...t } of data.tabs) {
      live.tabs.set(t.tabId, {
        ...t,
        history: { entries: t.history.entries.map((e) => ({ ...e })), currentIndex: t.history.currentIndex },
        session: new Map(t.session.map(([origin, items]) => [origin, new Map(items)])),
        ...(t.scroll ? { scroll: { ...t.scroll } } : {}),
        ...(forms ? { forms: formsFromPairs(forms) } : {}),
      });
    }
    for (const w of data.windows) live.windows.set(w.windowId, { ...w, ...(w.bounds ? { bounds: { ...w.bounds } } : {}) });
    if (data.viewport) live.viewport = { ...data.viewport };
    for (const o of data.indexedDB ?? []) live.indexedDB.set(partitionKey(o.origin, o.topOrigin), o);
    return live;
  }

  /** Start from a snapshot (resume, import): tabs get the given ids, or synthetic negative ones. */
  static fromState(state: SessionState, tabIds?: number[], windowIds?: number[]): LiveState {
    const live = new LiveState(state.capturedAt);
    for (const c of state.cookies) live.cookies.set(cookieKey(c), { ...c });
    for (const o of state.origins) {
      live.local.set(partitionKey(o.origin, o.topOrigin), {
        origin: o.origin,
        ...(o.topOrigin ? { topOrigin: o.topOrigin } : {}),
        items: new Map(o.localStorage.map((i) => [i.name, i.value])),
      });
    }
    const wIds = state.windows.map((_, i) => windowIds?.[i] ?? -(i + 1));
    state.windows.forEach((w, i) => live.windows.set(wIds[i], { ...w, windowId: wIds[i] }));
    state.tabs.forEach((t, i) => {
      const tabId = tabIds?.[i] ?? -(i + 1);
      live.tabs.set(tabId, {
        tabId,
        windowId: wIds[t.windowIndex] ?? -1,
        index: t.index,
        active: t.active,
        pinned: t.pinned,
        url: t.url,
        title: t.title,
        history: { entries: t.history.entries.map((e) => ({ ...e })), currentIndex: t.history.currentIndex },
        session: new Map(t.sessionStorage.map((s) => [s.origin, new Map(s.items.map((i) => [i.name, i.value]))])),
        ...(t.scroll ? { scroll: { ...t.scroll } } : {}),
        ...(t.forms ? { forms: formsFromPairs(t.forms.map((p) => [p.url, p.fields.map((f) => [f.key, f.value])])) } : {}),
      });
    });
    if (state.viewport) live.viewport = { ...state.viewport };
    for (const o of state.origins) {
      if (o.indexedDB?.length) {
        live.indexedDB.set(partitionKey(o.origin, o.topOrigin), {
          origin: o.origin,
          ...(o.topOrigin ? { topOrigin: o.topOrigin } : {}),
          databases: o.indexedDB,
          warnings: o.indexedDBWarnings ?? [],
        });
      }
    }
    live.bytes = live.countStorageBytes();
    return live;
  }

  /** The running total of storage held (storage-limit.ts): O(1). */
  get storageBytes(): number {
    return this.bytes;
  }

  /** The same total counted from scratch, O(state): for loading a state, and for tests to check the running one. */
  countStorageBytes(): number {
    let n = 0;
    for (const o of this.local.values()) n += areaBytes(o.items);
    for (const t of this.tabs.values()) for (const items of t.session.values()) n += areaBytes(items);
    for (const o of this.indexedDB.values()) n += indexedDBBytes(o.databases);
    return n;
  }

  storedArea(area: StorageArea, tabId: number, origin: string, topOrigin?: string): ReadonlyMap<string, string> | undefined {
    return area === 'local' ? this.local.get(partitionKey(origin, topOrigin))?.items : this.tabs.get(tabId)?.session.get(origin);
  }

  storedIndexedDB(origin: string, topOrigin?: string): readonly IndexedDBDatabase[] | undefined {
    return this.indexedDB.get(partitionKey(origin, topOrigin))?.databases;
  }

  /** Whether a capture event could not be folded in as it should, since the last call: ask the extension for everything again. */
  takeResync(): boolean {
    const wanted = this.resyncWanted;
    this.resyncWanted = false;
    return wanted;
  }

  /**
   * Fold in the records that changed. The origin must be held at the delta's base (by hash, when
   * known) with every store it names at the counts it expects; otherwise nothing changes and a
   * resync is wanted. An origin held empty because it was over the storage limit stays so.
   */
  private applyIndexedDBDelta(event: Extract<CaptureEvent, { kind: 'indexeddb.delta' }>): void {
    const key = partitionKey(event.origin, event.topOrigin);
    const held = this.indexedDB.get(key);
    if (held && held.databases.length === 0 && held.hash === event.base) {
      this.indexedDB.set(key, { ...held, hash: event.hash });
      return;
    }
    if (!held || (held.hash !== undefined && held.hash !== event.base)) {
      this.resyncWanted = true;
      return;
    }
    const databases = [...held.databases];
    let bytes = indexedDBBytes(held.databases);
    for (const change of event.stores) {
      const d = databases.findIndex((db) => db.name === change.database);
      const s = d < 0 ? -1 : databases[d].stores.findIndex((st) => st.name === change.store);
      const store = s < 0 ? undefined : databases[d].stores[s];
      const records = store && applyStoreChange(store.records, change);
      if (!store || !records) {
        this.resyncWanted = true;
        return;
      }
      bytes += storeChangeBytes(store.records, change);
      const stores = [...databases[d].stores];
      stores[s] = { ...store, records };
      databases[d] = { ...databases[d], stores };
    }
    rememberIndexedDBBytes(databases, bytes);
    this.bytes += bytes - indexedDBBytes(held.databases);
    this.indexedDB.set(key, { ...held, databases, warnings: event.warnings, hash: event.hash });
  }

  /** Bumped by every apply: an unchanged version means an unchanged state (and no need to serialise it). */
  version = 0;

  apply(event: CaptureEvent, at: number): void {
    this.version++;
    this.capturedAt = Math.max(this.capturedAt, at);
    switch (event.kind) {
      case 'storage.full':
      case 'storage.change': {
        const target = this.storageArea(event.area, event.tabId, event.origin, event.topOrigin);
        if (!target) return;
        if (event.kind === 'storage.full') {
          this.bytes -= areaBytes(target);
          target.clear();
          for (const [k, v] of Object.entries(event.items)) {
            target.set(k, v);
            this.bytes += itemBytes(k, v);
          }
        } else {
          if (event.clear) {
            this.bytes -= areaBytes(target);
            target.clear();
          }
          for (const k of event.remove) this.deleteItem(target, k);
          for (const [k, v] of Object.entries(event.set)) {
            this.deleteItem(target, k, false);
            target.set(k, v);
            this.bytes += itemBytes(k, v);
          }
        }
        return;
      }
      case 'cookies.all':
        this.cookies = new Map(event.cookies.map((c) => [cookieKey(c), c]));
        return;
      case 'cookie.change':
        if (event.removed) this.cookies.delete(cookieKey(event.cookie));
        else this.cookies.set(cookieKey(event.cookie), event.cookie);
        return;
      case 'navigation':
        this.navigate(event);
        return;
      case 'tabs':
        this.replaceTabs(event);
        return;
      case 'scroll': {
        const tab = this.tabs.get(event.tabId);
        if (tab) tab.scroll = { x: event.x, y: event.y };
        return;
      }
      case 'form':
        this.fillForm(event);
        return;
      case 'viewport':
        this.viewport = { width: event.width, height: event.height };
        return;
      case 'indexeddb': {
        const key = partitionKey(event.origin, event.topOrigin);
        const old = this.indexedDB.get(key);
        if (old) this.bytes -= indexedDBBytes(old.databases);
        this.bytes += indexedDBBytes(event.databases);
        if (event.databases.length === 0 && event.warnings.length === 0) this.indexedDB.delete(key);
        else {
          this.indexedDB.set(key, {
            origin: event.origin,
            ...(event.topOrigin ? { topOrigin: event.topOrigin } : {}),
            databases: event.databases,
            warnings: event.warnings,
            ...(event.hash ? { hash: event.hash } : {}),
          });
        }
        return;
      }
      case 'indexeddb.delta':
        this.applyIndexedDBDelta(event);
        return;
      default:
        // A kind added to CaptureEventSchema without a case above fails to compile here.
        event satisfies never;
        return;
    }
  }

  /** Remove `key`'s item and its bytes; `andKey` false keeps the Map entry (set() replaces it in place, keeping its position). */
  private deleteItem(items: Map<string, string>, key: string, andKey = true): void {
    const old = items.get(key);
    if (old === undefined) return;
    this.bytes -= itemBytes(key, old);
    if (andKey) items.delete(key);
  }

  private storageArea(area: StorageArea, tabId: number, origin: string, topOrigin?: string) {
    if (area === 'local') {
      const key = partitionKey(origin, topOrigin);
      let entry = this.local.get(key);
      if (!entry) {
        entry = { origin, ...(topOrigin ? { topOrigin } : {}), items: new Map() };
        this.local.set(key, entry);
      }
      return entry.items;
    }
    // sessionStorage belongs to the tab, whose top origin already implies any partition.
    const tab = this.ensureTab(tabId);
    let items = tab.session.get(origin);
    if (!items) {
      items = new Map();
      tab.session.set(origin, items);
    }
    return items;
  }

  /** Storage or navigation can arrive before the `tabs` event that announces a new tab. */
  private ensureTab(tabId: number): LiveTab {
    let tab = this.tabs.get(tabId);
    if (!tab) {
      tab = {
        tabId,
        windowId: -1,
        index: this.tabs.size,
        active: false,
        pinned: false,
        url: '',
        title: '',
        history: { entries: [], currentIndex: 0 },
        session: new Map(),
      };
      this.tabs.set(tabId, tab);
    }
    return tab;
  }

  /** The changed fields of one page join what the tab holds for it; that page becomes the most recent. */
  private fillForm(event: Extract<CaptureEvent, { kind: 'form' }>): void {
    const tab = this.ensureTab(event.tabId);
    const forms = (tab.forms ??= new Map());
    const url = stripFragment(event.url);
    const fields = forms.get(url) ?? new Map<string, FormFieldValue>();
    forms.delete(url);
    forms.set(url, fields);
    for (const f of event.fields) {
      if (f.value === null) fields.delete(f.key);
      else if (fields.size < FORM_FIELDS_PER_PAGE || fields.has(f.key)) fields.set(f.key, copyValue(f.value));
    }
    for (const oldest of forms.keys()) {
      if (forms.size <= FORM_PAGES_PER_TAB) break;
      forms.delete(oldest);
    }
  }

  /**
   * The tab's back/forward list follows webNavigation's rules (tab-history.ts), corrected by the
   * page's report of how Chromium filed the entry. Each navigation is reported by both sources, in
   * either order: the second report of the same URL re-derives the first from the list before it
   * (page report second: with Chromium's decision) or is dropped (webNavigation second). A page
   * report that arrives after webNavigation moved on to another URL is stale and ignored.
   */
  private navigate(event: Extract<CaptureEvent, { kind: 'navigation' }>): void {
    const tab = this.ensureTab(event.tabId);
    // Fields typed into an earlier document of this URL are not in the new one: forget them.
    if (tab.forms && startsEmptyDocument(event)) tab.forms.delete(stripFragment(event.url));
    // The extension pairs the two reports when it can (navigation-hold.ts): one event with both.
    if (event.entry && event.transition !== undefined) {
      tab.history = afterNavigation(tab.history, { url: tab.url, title: tab.title }, { ...event });
      tab.url = event.url;
      tab.lastNav = undefined;
      return;
    }
    const by = event.entry ? 'page' : 'webNavigation';
    const pending = tab.lastNav;
    if (pending && pending.url === event.url && pending.by !== by) {
      if (by === 'page') {
        const titled = tab.history.entries[tab.history.currentIndex];
        tab.history = afterNavigation(pending.before, pending.shown, { ...pending.nav, entry: event.entry });
        // A tabs event between the two reports titled the entry; keep that title.
        const current = tab.history.entries[tab.history.currentIndex];
        if (current && titled?.url === current.url && !current.title) current.title = titled.title;
      }
      tab.lastNav = undefined;
      return;
    }
    if (by === 'page' && pending?.by === 'webNavigation') return;
    const shown = { url: tab.url, title: tab.title };
    const nav: Navigation = { url: event.url, how: event.how, transition: event.transition, qualifiers: event.qualifiers, ...(event.entry ? { entry: event.entry } : {}) };
    // Only web pages run the content script that reports the other half (not about:blank, chrome://).
    tab.lastNav = isWebUrl(event.url) ? { url: event.url, by, before: tab.history, shown, nav } : undefined;
    tab.history = afterNavigation(tab.history, shown, nav);
    tab.url = event.url;
  }

  private replaceTabs(event: Extract<CaptureEvent, { kind: 'tabs' }>): void {
    // A live browser always has a tab; an empty list is a browser shutting down, and folding it in
    // would leave the final snapshot with nothing to restore.
    if (event.tabs.length === 0) return;
    const next = new Map<number, LiveTab>();
    for (const t of event.tabs) {
      const tab = this.tabs.get(t.tabId) ?? this.ensureTab(t.tabId);
      Object.assign(tab, {
        windowId: t.windowId,
        index: t.index,
        active: t.active,
        pinned: t.pinned,
        url: t.url || tab.url,
        title: t.title,
      });
      const entry = tab.history.entries[tab.history.currentIndex];
      if (entry && entry.url === tab.url) entry.title = t.title;
      next.set(t.tabId, tab);
    }
    // A closed tab's sessionStorage goes with it.
    for (const [id, tab] of this.tabs) if (!next.has(id)) for (const items of tab.session.values()) this.bytes -= areaBytes(items);
    this.tabs = next;
    this.windows = new Map(
      event.windows.map((w) => {
        const bounds =
          w.left !== undefined && w.top !== undefined && w.width && w.height
            ? { bounds: { left: w.left, top: w.top, width: w.width, height: w.height } }
            : {};
        return [w.windowId, { windowId: w.windowId, state: w.state, focused: w.focused, ...bounds }];
      }),
    );
  }

  /** Tabs in window order, then tab order; web pages only. */
  private orderedTabs(): LiveTab[] {
    const windowOrder = [...this.windows.keys()];
    const rank = (w: number) => {
      const i = windowOrder.indexOf(w);
      return i < 0 ? Number.MAX_SAFE_INTEGER : i;
    };
    return [...this.tabs.values()]
      .filter((t) => isWebUrl(t.url))
      .sort((a, b) => rank(a.windowId) - rank(b.windowId) || a.index - b.index || a.tabId - b.tabId);
  }

  toState(): SessionState {
    const { tabStates, windows } = this.layoutData();
    const origins: SessionState['origins'] = [...this.local.values()]
      .filter((o) => o.items.size > 0)
      .map((o) => ({
        origin: o.origin,
        localStorage: [...o.items].map(([name, value]) => ({ name, value })),
        ...(o.topOrigin ? { topOrigin: o.topOrigin } : {}),
      }));
    // IndexedDB joins its origin's entry (the same partition), or gets one of its own after the others.
    for (const idb of this.indexedDB.values()) {
      let entry = origins.find((o) => o.origin === idb.origin && o.topOrigin === idb.topOrigin);
      if (!entry) origins.push((entry = { origin: idb.origin, localStorage: [], ...(idb.topOrigin ? { topOrigin: idb.topOrigin } : {}) }));
      entry.indexedDB = idb.databases;
      if (idb.warnings.length > 0) entry.indexedDBWarnings = [...idb.warnings];
    }
    return {
      cookies: [...this.cookies.values()].map((c) => ({ ...c })),
      origins,
      tabs: tabStates,
      windows,
      ...(this.viewport ? { viewport: { ...this.viewport } } : {}),
      capturedAt: this.capturedAt,
    };
  }

  /**
   * Tabs and windows only, without cookies and localStorage: what listings need (`list`, the popup
   * every few seconds), at a fraction of the cost of `toState()` for a session holding megabytes.
   */
  layout(): Pick<SessionState, 'tabs' | 'windows'> {
    const { tabStates, windows } = this.layoutData();
    return { tabs: tabStates, windows };
  }

  /** Everything this object holds (see LiveStateData); `fromData` gives an equal one back. */
  toData(): LiveStateData {
    return {
      format: 2,
      cookies: [...this.cookies.values()].map((c) => ({ ...c })),
      local: [...this.local.values()].map((o) => ({ origin: o.origin, ...(o.topOrigin ? { topOrigin: o.topOrigin } : {}), items: [...o.items] })),
      tabs: [...this.tabs.values()].map(({ forms, ...t }) => ({
        ...t,
        history: { entries: t.history.entries.map((e) => ({ ...e })), currentIndex: t.history.currentIndex },
        session: [...t.session].map(([origin, items]) => [origin, [...items]]),
        ...(t.scroll ? { scroll: { ...t.scroll } } : {}),
        ...(forms ? { forms: [...forms].map(([url, fields]): [string, [string, FormFieldValue][]] => [url, [...fields].map(([k, v]) => [k, copyValue(v)])]) } : {}),
      })),
      windows: [...this.windows.values()].map((w) => ({ ...w, ...(w.bounds ? { bounds: { ...w.bounds } } : {}) })),
      ...(this.viewport ? { viewport: { ...this.viewport } } : {}),
      ...(this.indexedDB.size > 0 ? { indexedDB: [...this.indexedDB.values()] } : {}),
      capturedAt: this.capturedAt,
      instanceId: this.instanceId,
      lastSeq: this.lastSeq,
    };
  }

  private layoutData() {
    const tabs = this.orderedTabs();
    const usedWindows = [...new Set(tabs.map((t) => t.windowId))];
    const windows = usedWindows.map((id): WindowState => {
      const w = this.windows.get(id);
      return w
        ? { state: w.state, focused: w.focused, ...(w.bounds ? { bounds: { ...w.bounds } } : {}) }
        : { state: 'normal', focused: false };
    });
    const tabStates = tabs.map((t, i): TabState => {
      const entries = t.history.entries.length > 0 ? t.history.entries.map((e) => ({ ...e })) : [{ url: t.url, title: t.title }];
      const currentIndex = Math.min(t.history.currentIndex, entries.length - 1);
      return {
        windowIndex: usedWindows.indexOf(t.windowId),
        index: tabs.slice(0, i).filter((o) => o.windowId === t.windowId).length,
        active: t.active,
        pinned: t.pinned,
        url: t.url,
        title: t.title,
        history: { entries, currentIndex },
        sessionStorage: [...t.session.entries()]
          .filter(([, items]) => items.size > 0)
          .map(([origin, items]) => ({ origin, items: [...items].map(([name, value]) => ({ name, value })) })),
        ...(t.scroll ? { scroll: { ...t.scroll } } : {}),
        ...formsOf(t),
      };
    });
    // A window with tabs but none marked active (e.g. events raced) still needs one active tab.
    for (let w = 0; w < usedWindows.length; w++) {
      const inWindow = tabStates.filter((t) => t.windowIndex === w);
      if (inWindow.length > 0 && !inWindow.some((t) => t.active)) inWindow[0].active = true;
    }
    return { windows, tabStates };
  }
}

/** A tab's forms as TabState holds them; nothing at all for a tab without (older snapshots stay byte-identical). */
function formsOf(tab: LiveTab): Pick<TabState, 'forms'> {
  const pages = [...(tab.forms ?? [])].filter(([, fields]) => fields.size > 0);
  if (pages.length === 0) return {};
  return { forms: pages.map(([url, fields]) => ({ url, fields: [...fields].map(([key, value]) => ({ key, value: copyValue(value) })) })) };
}
