/** Top-frame navigations: document commits, History API updates and fragment changes. */
import type { CaptureSource, Emit } from './capture-source.js';

type NavDetails = chrome.webNavigation.WebNavigationTransitionCallbackDetails;

export function createNavigationSource(): CaptureSource {
  let emit: Emit | null = null;

  const handler = (how: 'commit' | 'history' | 'fragment') => (d: NavDetails) => {
    if (d.frameId !== 0) return;
    emit?.({
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
      chrome.webNavigation.onCommitted.removeListener(onCommitted);
      chrome.webNavigation.onHistoryStateUpdated.removeListener(onHistory);
      chrome.webNavigation.onReferenceFragmentUpdated.removeListener(onFragment);
      emit = null;
    },
  };
}
