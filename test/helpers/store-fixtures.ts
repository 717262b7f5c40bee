/** Capture events and opened stores for the store tests (temp dirs: temp-dirs.ts). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SequencedEvent } from '../../shared/capture-events.js';
import { SqlJsStore } from '../../companion/store/sqljs-store.js';

export function setLocal(seq: number, set: Record<string, string>, origin = 'https://a.test'): SequencedEvent {
  return {
    seq,
    at: 1_700_000_000_000 + seq,
    event: { kind: 'storage.change', tabId: 1, frameId: 0, origin, area: 'local', clear: false, set, remove: [] },
  };
}

export function navigate(seq: number, tabId: number, url: string): SequencedEvent {
  return { seq, at: 1_700_000_000_000 + seq, event: { kind: 'navigation', tabId, url, how: 'commit', qualifiers: [] } };
}

export function tabsEvent(seq: number, tabs: { tabId: number; url: string; title?: string; active?: boolean }[]): SequencedEvent {
  return {
    seq,
    at: 1_700_000_000_000 + seq,
    event: {
      kind: 'tabs',
      tabs: tabs.map((t, index) => ({ tabId: t.tabId, windowId: 1, index, active: t.active ?? index === 0, pinned: false, url: t.url, title: t.title ?? '' })),
      windows: [{ windowId: 1, state: 'normal', focused: true }],
    },
  };
}

export function localItems(state: { origins: { origin: string; localStorage: { name: string; value: string }[] }[] }, origin = 'https://a.test'): Record<string, string> {
  const o = state.origins.find((x) => x.origin === origin);
  return Object.fromEntries((o?.localStorage ?? []).map((i) => [i.name, i.value]));
}

const opened: SqlJsStore[] = [];

/** Store.open, remembered so that `closeStores()` (in afterEach) closes whatever a test left open. */
export async function openStore(dataDir: string, extra: Partial<Parameters<typeof SqlJsStore.open>[0]> = {}): Promise<SqlJsStore> {
  const s = await SqlJsStore.open({ dataDir, ...extra });
  opened.push(s);
  return s;
}

export async function closeStores(): Promise<void> {
  for (const s of opened.splice(0)) await s.close();
}

/** For a test that abandons a store as a crash would: closeStores() must not fold it. */
export function forgetStore(store: SqlJsStore): void {
  const i = opened.indexOf(store);
  if (i >= 0) opened.splice(i, 1);
}
