/**
 * Tabs and windows: after any change, one complete `tabs` event (debounced), built from
 * tabs.query({}) and windows.getAll(). Complete lists rather than deltas keep the companion simple
 * and make a lost event harmless: the next one repairs everything.
 */
import type { CaptureEvent } from '../../shared/capture-events.js';
import type { CaptureSource, Emit } from './capture-source.js';
import { counters } from './counters.js';
import { warn } from './debug.js';

const DEBOUNCE_MS = 100;

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

export async function readTabs(): Promise<TabsEvent> {
  counters.tabsReads++;
  const [tabs, windows] = await Promise.all([
    chrome.tabs.query({}),
    chrome.windows.getAll({ windowTypes: ['normal', 'popup'] }),
  ]);
  return {
    kind: 'tabs',
    tabs: tabs
      .filter((t) => t.id !== undefined && t.id !== chrome.tabs.TAB_ID_NONE)
      .map((t) => ({
        tabId: t.id as number,
        windowId: t.windowId,
        index: t.index,
        active: t.active,
        pinned: t.pinned,
        url: t.url ?? t.pendingUrl ?? '',
        title: t.title ?? '',
      })),
    windows: windows
      .filter((w) => w.id !== undefined)
      .map((w) => ({
        windowId: w.id as number,
        left: int(w.left),
        top: int(w.top),
        width: int(w.width),
        height: int(w.height),
        state: windowState(w.state),
        focused: w.focused,
      })),
  };
}

export function createTabsSource(): CaptureSource {
  let emit: Emit | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      readTabs().then(
        (event) => {
          counters.tabsEvents++;
          emit?.(event);
        },
        (e) => warn('tabs', 'could not read tabs/windows', e),
      );
    }, DEBOUNCE_MS);
  };
  const onUpdated = (_id: number, change: chrome.tabs.OnUpdatedInfo) => {
    if (change.url !== undefined || change.title !== undefined || change.pinned !== undefined || change.status === 'complete') {
      schedule();
    }
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
      // Each event type has its own listener signature; `schedule` ignores all arguments.
      for (const event of plain) (event as chrome.events.Event<() => void>).addListener(schedule);
      chrome.tabs.onUpdated.addListener(onUpdated);
      schedule();
    },
    stop() {
      for (const event of plain) (event as chrome.events.Event<() => void>).removeListener(schedule);
      chrome.tabs.onUpdated.removeListener(onUpdated);
      clearTimeout(timer);
      emit = null;
    },
    resync: schedule,
  };
}
