/**
 * Top-frame navigations: document commits, History API updates and fragment changes. They go
 * through the navigation hold (navigation-hold.ts) so that each travels with its tabs change.
 */
import type { CaptureSource, Emit } from './capture-source.js';
import type { NavigationHold } from './navigation-hold.js';

type NavDetails = chrome.webNavigation.WebNavigationTransitionCallbackDetails;

export function createNavigationSource(hold: NavigationHold): CaptureSource {
  let emit: Emit | null = null;

  const handler = (how: 'commit' | 'history' | 'fragment') => (d: NavDetails) => {
    if (d.frameId !== 0 || !emit) return;
    hold.push({
      kind: 'navigation',
      tabId: d.tabId,
      url: d.url,
      how,
      transition: d.transitionType,
      qualifiers: d.transitionQualifiers ?? [],
    });
  };
  const onCommitted = handler('commit');
  const onHistory = handler('history');
  const onFragment = handler('fragment');

  return {
    name: 'navigation',
    start(e) {
      emit = e;
      chrome.webNavigation.onCommitted.addListener(onCommitted);
      chrome.webNavigation.onHistoryStateUpdated.addListener(onHistory);
      chrome.webNavigation.onReferenceFragmentUpdated.addListener(onFragment);
    },
    stop() {
      hold.release();
      chrome.webNavigation.onCommitted.removeListener(onCommitted);
      chrome.webNavigation.onHistoryStateUpdated.removeListener(onHistory);
      chrome.webNavigation.onReferenceFragmentUpdated.removeListener(onFragment);
      emit = null;
    },
  };
}
