/**
 * Tabs and windows: after any change, one complete `tabs` event (debounced), and only if it differs
 * from the last one sent. Complete lists rather than deltas keep the companion simple and make a
 * lost event harmless: the next one repairs everything.
 *
 * Cost per navigation: tabs.onUpdated fires 3–5 times (loading + url, title, favicon, complete).
 * Its third argument is the updated tab, so those patch the last snapshot in place instead of
 * asking the browser again (tabs.query + windows.getAll are two round trips to the browser
 * process); every other tab or window event, which can shift indices or windows, reads afresh.
 * The result is compared with what was sent last, so a reload that changes nothing sends nothing.
 */
import type { CaptureEvent } from '../../shared/capture-events.js';
import type { CaptureSource, Emit } from './capture-source.js';
import { counters } from './counters.js';
import { warn } from './debug.js';
import type { NavigationHold } from './navigation-hold.js';

/** After a change, how long to wait for more before sending. */
const DEBOUNCE_MS = 20;
/**
 * While a tab is loading, Chromium reports its URL as its title until the page's <title> is parsed:
 * an intermediate state worth no event (the navigation event already carries the URL). Updates of a
 * loading tab wait for `complete`, up to this long.
 */
const LOADING_MS = 500;

type TabsEvent = Extract<CaptureEvent, { kind: 'tabs' }>;
type WindowInfo = TabsEvent['windows'][number];

function windowState(state: chrome.windows.Window['state']): WindowInfo['state'] {
  switch (state) {
    case 'minimized':
    case 'maximized':
    case 'fullscreen':
      return state;
    case 'locked-fullscreen':
      return 'fullscreen';
    default:
      return 'normal';
  }
}

const int = (n: number | undefined) => (n === undefined ? undefined : Math.round(n));

const hasId = (t: chrome.tabs.Tab) => t.id !== undefined && t.id !== chrome.tabs.TAB_ID_NONE;

function tabInfo(t: chrome.tabs.Tab): TabsEvent['tabs'][number] {
  return {
    tabId: t.id as number,
    windowId: t.windowId,
    index: t.index,
    active: t.active,
    pinned: t.pinned,
    url: t.url ?? t.pendingUrl ?? '',
    title: t.title ?? '',
  };
}

export async function readTabs(): Promise<TabsEvent> {
  counters.tabsReads++;
  // Headless Chromium has no focus: every window reports focused: true (measured, Chromium 156), while
  // getLastFocused names one window in headless and headed alike. A browser with no window yet has none.
  const [tabs, windows, lastFocused] = await Promise.all([
    chrome.tabs.query({}),
    chrome.windows.getAll({ windowTypes: ['normal', 'popup'] }),
    chrome.windows.getLastFocused({ windowTypes: ['normal', 'popup'] }).catch(() => undefined),
  ]);
  return {
    kind: 'tabs',
    tabs: tabs.filter(hasId).map(tabInfo),
    windows: windows
      .filter((w) => w.id !== undefined)
      .map((w) => ({
        windowId: w.id as number,
        left: int(w.left),
        top: int(w.top),
        width: int(w.width),
        height: int(w.height),
        state: windowState(w.state),
        focused: lastFocused?.id === undefined ? w.focused : w.id === lastFocused.id,
      })),
  };
}

export function createTabsSource(hold: NavigationHold): CaptureSource {
  let emit: Emit | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  /** The last snapshot read or patched; null until the first read. */
  let current: TabsEvent | null = null;
  /** Set by any event the patch cannot describe: the next flush reads afresh. */
  let stale = true;
  /** JSON of the last event sent ('' forces the next one out). */
  let lastSent = '';

  let reading = false;

  const flush = async () => {
    if (stale || !current) {
      stale = false;
      reading = true;
      try {
        current = await readTabs();
      } finally {
        reading = false;
      }
      // Something arrived during the read that it may not show: the flush scheduled then reads again.
      if (stale) return;
    }
    // Held navigations go first, into the same outbox batch as this snapshot.
    hold.release();
    const json = JSON.stringify(current);
    if (json === lastSent) return;
    lastSent = json;
    counters.tabsEvents++;
    // A copy of the list: patches replace entries of `current.tabs`, and the event sits in the outbox.
    emit?.({ ...current, tabs: [...current.tabs] });
  };
  /** Flushes run one after another, so an older read can never be sent after a newer one. */
  let chain = Promise.resolve();
  let due = 0;
  const schedule = (delay = DEBOUNCE_MS) => {
    if (timer !== undefined && due <= Date.now() + delay) return;
    clearTimeout(timer);
    due = Date.now() + delay;
    timer = setTimeout(() => {
      timer = undefined;
      chain = chain.then(flush).catch((e) => {
        stale = true;
        hold.release();
        warn('tabs', 'could not read tabs/windows', e);
      });
    }, delay);
  };
  const reread = () => {
    stale = true;
    schedule(DEBOUNCE_MS);
  };
  const onUpdated = (_id: number, _change: chrome.tabs.OnUpdatedInfo, tab: chrome.tabs.Tab) => {
    const i = current && hasId(tab) ? current.tabs.findIndex((t) => t.tabId === tab.id) : -1;
    if (!current || i < 0 || reading) return reread();
    current.tabs[i] = tabInfo(tab);
    schedule(tab.status === 'loading' ? LOADING_MS : DEBOUNCE_MS);
  };
  const plain = [
    chrome.tabs.onCreated,
    chrome.tabs.onRemoved,
    chrome.tabs.onActivated,
    chrome.tabs.onMoved,
    chrome.tabs.onAttached,
    chrome.tabs.onDetached,
    chrome.tabs.onReplaced,
    chrome.windows.onCreated,
    chrome.windows.onRemoved,
    chrome.windows.onBoundsChanged,
    chrome.windows.onFocusChanged,
  ] as const;

  return {
    name: 'tabs',
    start(e) {
      emit = e;
      // Each event type has its own listener signature; `reread` ignores all arguments.
      for (const event of plain) (event as chrome.events.Event<() => void>).addListener(reread);
      chrome.tabs.onUpdated.addListener(onUpdated);
      reread();
    },
    stop() {
      for (const event of plain) (event as chrome.events.Event<() => void>).removeListener(reread);
      chrome.tabs.onUpdated.removeListener(onUpdated);
      clearTimeout(timer);
      timer = undefined;
      emit = null;
    },
    resync() {
      lastSent = '';
      reread();
    },
  };
}
