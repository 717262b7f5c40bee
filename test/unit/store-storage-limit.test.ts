/**
 * The per-session storage limit in both stores (the embedded sql.js store and the shared PostgreSQL
 * one, a real server from test/helpers/postgres.ts): storage past the limit is left out and the
 * session marked, everything else is folded in, other sessions are untouched, and what a reopen
 * rebuilds (journal replay after a SIGKILL; capture batches for PostgreSQL) is exactly the live state.
 */
import { cpSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SequencedEvent } from '../../shared/capture-events.js';
import { PgStore } from '../../companion/store/pg-store.js';
import { SqlJsStore } from '../../companion/store/sqljs-store.js';
import { contentHash } from '../../companion/store/records.js';
import { readSessionIndex } from '../../companion/store/session-index.js';
import { moveSessions } from '../../companion/store/move-sessions.js';
import { dataPaths } from '../../companion/data-dir.js';
import type { Store } from '../../companion/store/store.js';
import { startPostgres, type PgServer } from '../helpers/postgres.js';
import { navigate, setLocal, tabsEvent } from '../helpers/store-fixtures.js';
import { newDataDirPath, removeTempDirs } from '../helpers/temp-dirs.js';

const LIMIT = 64 * 1024;
const config = { sessionMaxStorageBytes: LIMIT, checkpointIntervalMs: 3_600_000 };

/** Like a hostile page: `frames` cross-site frames, each writing `keys` values of `chars` characters. */
function frameWrites(firstSeq: number, frames: number, keys: number, chars: number): SequencedEvent[] {
  const out: SequencedEvent[] = [];
  let seq = firstSeq;
  for (let k = 0; k < keys; k++) {
    for (let f = 0; f < frames; f++) {
      const e = setLocal(seq++, { [`k${k}`]: String(f).repeat(chars) }, `https://f${f}.test`);
      out.push({ ...e, event: { ...e.event, topOrigin: 'https://top.test' } as SequencedEvent['event'] });
    }
  }
  return out;
}

let server: PgServer;
const opened: Store[] = [];
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(() => server?.stop());
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close().catch(() => {});
  removeTempDirs();
});

interface Backend {
  name: string;
  open(): Promise<{ store: Store; reopen: () => Promise<Store> }>;
}

const backends: Backend[] = [
  {
    name: 'sql.js',
    open: async () => {
      const dataDir = newDataDirPath();
      const store = await SqlJsStore.open({ dataDir, env: {}, config });
      return {
        store,
        // A SIGKILL: the files as they are (journal not folded), opened by another store.
        reopen: async () => {
          await store.flush();
          const copy = newDataDirPath();
          cpSync(dataDir, copy, { recursive: true, filter: (src) => !src.endsWith('.lock') });
          const again = await SqlJsStore.open({ dataDir: copy, env: {}, config: { checkpointIntervalMs: 3_600_000 } });
          opened.push(again);
          return again;
        },
      };
    },
  },
  {
    name: 'postgres',
    open: async () => {
      const url = await server.createDatabase();
      const store = await PgStore.open({ url, env: {}, config });
      opened.push(store);
      return {
        store,
        reopen: async () => {
          await store.flush();
          const again = await PgStore.open({ url, env: {}, readOnly: true });
          opened.push(again);
          return again;
        },
      };
    },
  },
];

describe.each(backends)('storage limit: $name', (backend) => {
  it('leaves out storage past the limit, marks the session, keeps capturing the rest and other sessions; a reopen rebuilds the same state', async () => {
    const { store, reopen } = await backend.open();
    if (store instanceof SqlJsStore) opened.push(store);
    await store.createSession({ id: 'hostile', name: 'hostile' });
    await store.createSession({ id: 'other', name: 'other' });

    await store.applyEvents('hostile', 'inst', [tabsEvent(1, [{ tabId: 1, url: 'https://top.test/' }])]);
    // 8 frames × 8 keys × 2 KiB characters (4 KiB counted each): 256 KiB asked for, 64 KiB allowed.
    const writes = frameWrites(2, 8, 8, 2048);
    let acked = 0;
    for (let i = 0; i < writes.length; i += 10) acked = (await store.applyEvents('hostile', 'inst', writes.slice(i, i + 10))).lastSeq;
    await store.flush();
    expect(acked).toBe(writes[writes.length - 1].seq); // every event acknowledged, kept or not

    const hostile = await store.requireSession('hostile');
    expect(hostile.storageLimit).toEqual({ at: expect.any(Number), bytes: LIMIT });
    const state = await store.currentState('hostile');
    const held = state.origins.reduce((n, o) => n + o.localStorage.reduce((m, i) => m + 2 * (i.name.length + i.value.length), 0), 0);
    expect(held).toBeLessThanOrEqual(LIMIT);
    expect(held).toBeGreaterThan(LIMIT / 2);

    // Past the limit: navigation and tabs are captured, a delete applies, and then a write fits again.
    let seq = writes[writes.length - 1].seq;
    await store.applyEvents('hostile', 'inst', [
      navigate(++seq, 1, 'https://top.test/after-limit'),
      tabsEvent(++seq, [{ tabId: 1, url: 'https://top.test/after-limit' }, { tabId: 2, url: 'https://second.test/' }]),
      { ...setLocal(++seq, {}, 'https://f0.test'), event: { kind: 'storage.change', tabId: 1, frameId: 0, origin: 'https://f0.test', topOrigin: 'https://top.test', area: 'local', clear: true, set: {}, remove: [] } },
      { ...setLocal(++seq, { afterClear: 'yes' }, 'https://f0.test'), event: { kind: 'storage.change', tabId: 1, frameId: 0, origin: 'https://f0.test', topOrigin: 'https://top.test', area: 'local', clear: false, set: { afterClear: 'yes' }, remove: [] } },
    ]);
    await store.flush();
    const after = await store.currentState('hostile');
    expect(after.tabs.map((t) => t.url)).toEqual(['https://top.test/after-limit', 'https://second.test/']);
    expect(after.origins.find((o) => o.origin === 'https://f0.test')?.localStorage).toEqual([{ name: 'afterClear', value: 'yes' }]);

    // Another session of the same store is not limited by the first one's storage.
    await store.applyEvents('other', 'inst2', [setLocal(1, { mine: 'm'.repeat(20_000) }, 'https://other.test')]);
    await store.flush();
    expect((await store.currentState('other')).origins[0].localStorage[0].value).toHaveLength(20_000);
    expect((await store.requireSession('other')).storageLimit).toBeUndefined();

    const live = contentHash(await store.currentState('hostile'));
    const again = await reopen();
    expect(contentHash(await again.currentState('hostile'))).toBe(live);
    expect((await again.requireSession('hostile')).storageLimit).toEqual(hostile.storageLimit);
    expect((await again.captureCursor('hostile')).lastSeq).toBe(seq);
  });
});

describe('storage limit: the session index', () => {
  it('`list` without a companion (the session index) shows the mark as the full open does', async () => {
    const dataDir = newDataDirPath();
    const store = await SqlJsStore.open({ dataDir, env: {}, config });
    opened.push(store);
    await store.createSession({ id: 'hostile', name: 'hostile' });
    await store.applyEvents('hostile', 'inst', frameWrites(1, 4, 8, 4096));
    await store.setState('hostile', 'closed');
    const marked = (await store.requireSession('hostile')).storageLimit;
    expect(marked).toEqual({ at: expect.any(Number), bytes: LIMIT });
    await store.close();
    expect(readSessionIndex(dataPaths(dataDir))?.find((s) => s.id === 'hostile')?.storageLimit).toEqual(marked);
  });
});

describe('storage limit: restory migrate', () => {
  it('carries the mark from a data dir to PostgreSQL and back', async () => {
    const dataDir = newDataDirPath();
    const store = await SqlJsStore.open({ dataDir, env: {}, config });
    await store.createSession({ id: 'hostile', name: 'hostile' });
    await store.applyEvents('hostile', 'inst', frameWrites(1, 4, 8, 4096));
    const marked = (await store.requireSession('hostile')).storageLimit;
    expect(marked).toEqual({ at: expect.any(Number), bytes: LIMIT });
    await store.close();
    const url = await server.createDatabase();
    await moveSessions(dataDir, url);
    const back = newDataDirPath();
    await moveSessions(url, back);
    const there = await PgStore.open({ url, env: {}, readOnly: true });
    opened.push(there);
    expect((await there.requireSession('hostile')).storageLimit).toEqual(marked);
    const home = await SqlJsStore.open({ dataDir: back, env: {}, readOnly: true });
    opened.push(home);
    expect((await home.requireSession('hostile')).storageLimit).toEqual(marked);
  });
});
