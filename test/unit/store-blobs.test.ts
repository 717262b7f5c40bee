/**
 * Snapshot blobs (companion/store/blobs.ts): large storage lists are stored once and shared between
 * snapshots, reassembled exactly on read, removed when no snapshot refers to them, rebuilt the same
 * by journal replay, and snapshots written inline before schema 3 stay readable.
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Database } from 'sql.js';
import { afterEach, describe, expect, it } from 'vitest';
import { LiveState } from '../../companion/session-state/live-state.js';
import { BLOB_MIN_BYTES, CHUNK_MAX, chunkItems, splitState } from '../../companion/store/blobs.js';
import { ENC_MAGIC } from '../../companion/store/crypto.js';
import { migrate } from '../../companion/store/migrations.js';
import { contentHash } from '../../companion/store/records.js';
import { loadSqlJs } from '../../companion/store/sqljs.js';
import { SqlJsStore } from '../../companion/store/sqljs-store.js';
import { emptySessionState, type SessionState } from '../../shared/state.js';
import { closeStores, forgetStore, openStore, localItems, setLocal, tabsEvent } from '../helpers/store-fixtures.js';
import { newDataDirPath, removeTempDirs } from '../helpers/temp-dirs.js';

const NO_TIMER = { checkpointIntervalMs: 3_600_000 };
afterEach(async () => {
  await closeStores();
  removeTempDirs();
});

/** `n` keys of ~1 KB each, distinct per `tag`. */
function bigItems(n: number, tag = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < n; i++) out[`key${i}`] = `${tag}${i}:`.padEnd(1000, 'x');
  return out;
}

async function readDb(dir: string): Promise<Database> {
  const SQL = await loadSqlJs();
  return new SQL.Database(readFileSync(join(dir, 'restory.db')));
}

function count(db: Database, table: string): number {
  return Number(db.exec(`SELECT count(*) FROM ${table}`)[0].values[0][0]);
}

/** Like Store.close() after a SIGKILL: nothing folded, the lock released so the dir can be reopened. */
function crash(store: SqlJsStore): void {
  const s = store as unknown as { closed: boolean; lock: { release(): void }; checkpointer: { stopTimer(): void } };
  s.checkpointer.stopTimer();
  s.closed = true;
  s.lock.release();
  forgetStore(store);
}

/** Every snapshot row and blob, in a comparable form. */
function rows(db: Database): unknown[] {
  return [
    db.exec('SELECT id, session_id, taken_at, reason, state, content_hash, state_bytes FROM session_snapshots ORDER BY id')[0]?.values ?? [],
    db.exec('SELECT hash, data, bytes FROM snapshot_blobs ORDER BY hash')[0]?.values ?? [],
    db.exec('SELECT snapshot_id, hash FROM snapshot_blob_refs ORDER BY snapshot_id, hash')[0]?.values ?? [],
  ];
}

const unicode = 'ünïcødé 🎉 \u0000 \ud800 lone, "quotes" and \\ backslashes';

function richState(): SessionState {
  const big = Array.from({ length: 80 }, (_, i) => ({ name: `k${i} ${unicode}`, value: `${i} ${unicode}`.padEnd(100, '·') }));
  return {
    ...emptySessionState(1234),
    cookies: [{ name: 'c', value: unicode, domain: 'a.test', path: '/', expires: -1, httpOnly: false, secure: true, sameSite: 'None' }],
    origins: [
      { origin: 'https://a.test', localStorage: big },
      { origin: 'https://empty.test', localStorage: [] },
      { origin: 'https://small.test', localStorage: [{ name: 's', value: unicode }] },
      // Partitioned storage of the same origin under two top sites, one holding the same items as a.test.
      { origin: 'https://iframe.test', localStorage: big.slice(0, 60), topOrigin: 'https://a.test' },
      { origin: 'https://iframe.test', localStorage: big, topOrigin: 'https://b.test' },
    ],
    tabs: [
      {
        windowIndex: 0,
        index: 0,
        active: true,
        pinned: false,
        url: 'https://a.test/',
        title: unicode,
        history: { entries: [{ url: 'https://a.test/', title: unicode }], currentIndex: 0 },
        sessionStorage: [
          { origin: 'https://a.test', items: big },
          { origin: 'https://small.test', items: [{ name: 'x', value: 'y' }] },
          { origin: 'https://empty.test', items: [] },
        ],
        scroll: { x: 0, y: 10 },
      },
    ],
    windows: [{ state: 'normal', focused: true }],
    viewport: { width: 800, height: 600 },
  };
}

describe('snapshot blobs', () => {
  it('a large localStorage is stored once however many snapshots share it', async () => {
    const dir = newDataDirPath();
    const store = await openStore(dir, { config: { ...NO_TIMER, snapshotsKept: 10 } });
    const s = store.createSession({ name: 'x', id: 's' });
    store.applyEvents('s', 'i', [setLocal(1, bigItems(500))]); // ~0.5 MB
    store.saveSnapshot('s', 'manual');
    store.checkpoint();
    const size = () => statSync(join(dir, 'restory.db')).size;
    const sizes = [size()];
    for (let i = 2; i <= 10; i++) {
      // Only a small other origin changes: the big list is shared.
      store.applyEvents('s', 'i', [setLocal(i, { n: String(i) }, 'https://small.test')]);
      expect(store.saveSnapshot('s', 'interval')).not.toBeNull();
      store.checkpoint();
      sizes.push(size());
    }
    expect(store.listSnapshots(s.id)).toHaveLength(10);
    // Inline copies would add 0.5 MB per snapshot. The file grows once, by the free pages that
    // rewriting the 0.5 MB live state row leaves behind (SQLite writes the new row before freeing
    // the old one), and then no more.
    expect(sizes[1] - sizes[0]).toBeLessThan(600_000);
    expect(sizes[9] - sizes[1]).toBeLessThan(100_000);
    for (const info of store.listSnapshots(s.id)) {
      const snap = store.getSnapshot(s.id, info.id)!;
      expect(Object.keys(localItems(snap.state))).toHaveLength(500);
      // Sizes are the full state's, as before.
      expect(info.bytes).toBe(Buffer.byteLength(JSON.stringify(snap.state)));
      expect(contentHash(snap.state)).toBe(info.hash);
    }
    await store.close();
    // The list is cut into chunks, each stored once and referred to by all ten snapshots.
    const db = await readDb(dir);
    const chunks = count(db, 'snapshot_blobs');
    expect(chunks).toBeGreaterThan(1);
    expect(count(db, 'snapshot_blob_refs')).toBe(10 * chunks);
  });

  it('a write to an origin holding megabytes stores one new chunk, not the whole list again', async () => {
    const dir = newDataDirPath();
    const store = await openStore(dir, { config: { ...NO_TIMER, snapshotsKept: 10 } });
    store.createSession({ name: 'x', id: 's' });
    // 2,000 keys of 1 KB and two values of 1 MB: about 4 MB on one origin.
    const items = bigItems(2000);
    items.huge1 = 'h'.repeat(1024 * 1024);
    items.huge2 = '\u00e9'.repeat(1024 * 1024);
    store.applyEvents('s', 'i', [setLocal(1, items)]);
    const first = store.saveSnapshot('s', 'manual')!;
    const db = (store as unknown as { db: Database }).db;
    const stored = () => Number(db.exec('SELECT coalesce(sum(bytes), 0) FROM snapshot_blobs')[0].values[0][0]);
    const blobBytes = stored();
    // The list is stored once, in chunks.
    expect(blobBytes).toBeGreaterThan(first.bytes * 0.99);
    expect(blobBytes).toBeLessThan(first.bytes * 1.01);
    const seen = [JSON.stringify(first.state)];
    const edits: Record<string, string>[] = [{ key700: 'changed' }, { added: 'new key' }, { huge1: 'small now' }, { key3: 'x'.repeat(5000) }];
    for (const [n, set] of edits.entries()) {
      const before = stored();
      store.applyEvents('s', 'i', [setLocal(n + 2, set)]);
      const snap = store.saveSnapshot('s', 'interval')!;
      seen.push(JSON.stringify(snap.state));
      // One chunk (≤ CHUNK_MAX plus one item) more, not another 4 MB.
      expect(stored() - before).toBeLessThan(CHUNK_MAX * 2 + 20_000);
    }
    const list = store.listSnapshots('s').reverse();
    expect(list.map((x) => JSON.stringify(store.getSnapshot('s', x.id)!.state))).toEqual(seen);
    for (const [i, x] of list.entries()) expect(x.bytes).toBe(Buffer.byteLength(seen[i]));
    await store.close();
  });

  it('chunks are cut by content: the same items give the same chunks, an edit moves no other boundary', () => {
    const items = Object.entries(bigItems(3000)).map(([name, value]) => ({ name, value }));
    const chunks = chunkItems(items);
    expect(chunks.length).toBeGreaterThan(5);
    expect(chunks.flat()).toEqual(items);
    const edited = items.map((it) => (it.name === 'key1500' ? { ...it, value: 'short' } : it));
    const after = chunkItems(edited);
    const before = new Set(chunks.map((c) => JSON.stringify(c)));
    const same = after.filter((c) => before.has(JSON.stringify(c)));
    expect(same.length).toBeGreaterThanOrEqual(chunks.length - 2);
  });

  it('round-trips exactly: unicode, empty and small lists, partitioned origins, sessionStorage, duplicates', async () => {
    const dir = newDataDirPath();
    const store = await openStore(dir, { config: NO_TIMER });
    store.createSession({ name: 'x', id: 's' });
    const state = richState();
    const expected = JSON.stringify(state);
    const snap = store.saveSnapshot('s', 'import', { state })!;
    expect(snap.bytes).toBe(Buffer.byteLength(expected));
    expect(snap.hash).toBe(contentHash(state));
    expect(JSON.stringify(state)).toBe(expected); // the caller's object is not touched
    expect(JSON.stringify(store.getSnapshot('s', snap.id)!.state)).toBe(expected);
    // From the journal (read-only replay), then from the folded file.
    await store.flush();
    const ro = await openStore(dir, { readOnly: true });
    expect(JSON.stringify(ro.getSnapshot('s', snap.id)!.state)).toBe(expected);
    await store.close();
    const again = await openStore(dir, { readOnly: true });
    expect(JSON.stringify(again.getSnapshot('s', snap.id)!.state)).toBe(expected);
    expect(again.listSnapshots('s')[0].bytes).toBe(Buffer.byteLength(expected));

    // Big lists went to blobs (the same items once), small and empty ones stayed inline.
    const stored = splitState(state);
    expect(stored.blobs.size).toBe(2);
    const row = JSON.parse(stored.json) as { origins: { localStorage: unknown }[]; tabs: { sessionStorage: { items: unknown }[] }[] };
    expect(row.origins.map((o) => Array.isArray(o.localStorage))).toEqual([false, true, true, false, false]);
    expect(row.tabs[0].sessionStorage.map((x) => Array.isArray(x.items))).toEqual([false, true, true]);
    expect(JSON.stringify(state.origins[2].localStorage).length).toBeLessThan(BLOB_MIN_BYTES);
    const db = await readDb(dir);
    expect(count(db, 'snapshot_blobs')).toBe(2);
  });

  it('IndexedDB records go to blobs too: round-trip exactly, and unchanged databases are stored once', async () => {
    const dir = newDataDirPath();
    const store = await openStore(dir, { config: NO_TIMER });
    store.createSession({ name: 'x', id: 's' });
    const records = Array.from({ length: 300 }, (_, i) => ({ key: `k${i}`, valueEncoded: { o: [{ k: 'text', v: `${i}é`.padEnd(1000, 'x') }, { k: 'at', v: { d: '2026-01-01T00:00:00.000Z' } }], id: 1 } }));
    const indexedDB = [{ name: 'app', version: 3, stores: [{ name: 'items', autoIncrement: false, indexes: [], records }, { name: 'empty', autoIncrement: true, keyPath: 'id', indexes: [], records: [] }] }];
    const state: SessionState = { ...emptySessionState(1), origins: [{ origin: 'https://a.test', localStorage: [], indexedDB }] };
    const expected = JSON.stringify(state);
    const first = store.saveSnapshot('s', 'import', { state })!;
    // A later snapshot that differs elsewhere (a localStorage write) shares the records' blobs.
    const later = { ...state, origins: [{ ...state.origins[0], localStorage: [{ name: 'n', value: 'v' }] }] };
    const second = store.saveSnapshot('s', 'manual', { state: later })!;
    expect(second.id).not.toBe(first.id);
    expect(JSON.stringify(store.getSnapshot('s', first.id)!.state)).toBe(expected);
    expect(store.getSnapshot('s', second.id)!.state.origins).toEqual(later.origins);
    const row = JSON.parse(splitState(state).json) as { origins: { indexedDB: { stores: { records: unknown }[] }[] }[] };
    expect(row.origins[0].indexedDB[0].stores.map((st) => Array.isArray(st.records))).toEqual([false, true]);
    await store.close();
    const db = await readDb(dir);
    const blobs = count(db, 'snapshot_blobs');
    expect(blobs).toBe(splitState(state).blobs.size);
    expect(Number(db.exec('SELECT sum(bytes) FROM snapshot_blobs')[0].values[0][0])).toBeLessThan(expected.length * 1.1);
  });

  it('pruning and deleting remove blobs no snapshot refers to any more', async () => {
    const dir = newDataDirPath();
    const store = await openStore(dir, { config: { ...NO_TIMER, snapshotsKept: 2 } });
    store.createSession({ name: 'x', id: 's' });
    store.createSession({ name: 'y', id: 't' });
    // Session t shares a's list content with s: a blob both use.
    store.applyEvents('t', 'i', [setLocal(1, bigItems(10, 'v1'))]);
    store.saveSnapshot('t', 'manual');
    for (let i = 1; i <= 5; i++) {
      store.applyEvents('s', 'i', [setLocal(i, bigItems(10, `v${i}`))]);
      store.saveSnapshot('s', 'interval');
    }
    const blobs = () => {
      const db = (store as unknown as { db: Database }).db;
      return db.exec('SELECT hash FROM snapshot_blobs')[0]?.values.length ?? 0;
    };
    // s keeps v4 and v5; t keeps v1 (s's v2 and v3 are gone).
    expect(store.listSnapshots('s')).toHaveLength(2);
    expect(blobs()).toBe(3);
    expect(store.pruneSnapshots('s', 0)).toBe(2);
    expect(blobs()).toBe(1);
    expect(localItems(store.latestSnapshot('t')!.state)).toEqual(bigItems(10, 'v1'));
    store.applyEvents('s', 'i', [setLocal(6, bigItems(10, 'v1'))]);
    store.saveSnapshot('s', 'interval');
    expect(blobs()).toBe(1); // shared with t again
    store.deleteSession('t');
    expect(blobs()).toBe(1);
    expect(localItems(store.latestSnapshot('s')!.state)).toEqual(bigItems(10, 'v1'));
    store.deleteSession('s');
    expect(blobs()).toBe(0);
    await store.close();
    const db = await readDb(dir);
    expect(count(db, 'snapshot_blobs')).toBe(0);
    expect(count(db, 'snapshot_blob_refs')).toBe(0);
  });

  it('replaying the journal after a crash produces the same rows and blobs', async () => {
    const dir = newDataDirPath();
    const store = await openStore(dir, { config: { ...NO_TIMER, snapshotsKept: 3 } });
    store.createSession({ name: 'x', id: 's' });
    store.checkpoint();
    store.applyEvents('s', 'i', [tabsEvent(1, [{ tabId: 3, url: 'https://a.test/', title: 'A' }])]);
    for (let i = 2; i <= 8; i++) {
      store.applyEvents('s', 'i', [
        setLocal(2 * i, i % 3 === 0 ? bigItems(50, `v${i}`) : { n: String(i) }),
        { seq: 2 * i + 1, at: 1_700_000_000_000 + i, event: { kind: 'storage.change', tabId: 3, frameId: 0, origin: 'https://a.test', area: 'session', clear: false, set: bigItems(10, `s${i % 2}`), remove: [] } },
      ]);
      store.saveSnapshot('s', 'interval');
    }
    store.saveSnapshot('s', 'import', { state: richState() });
    store.pruneSnapshots('s', 2);
    await store.flush();
    const before = rows((store as unknown as { db: Database }).db);
    crash(store);

    const again = await openStore(dir, { config: NO_TIMER });
    await again.close();
    expect(rows(await readDb(dir))).toEqual(before);
  });

  it('a version-2 database keeps its inline snapshots readable, and new snapshots share blobs', async () => {
    const SQL = await loadSqlJs();
    const v2 = new SQL.Database();
    migrate(v2, { target: 2 });
    const state = { ...emptySessionState(5), origins: [{ origin: 'https://a.test', localStorage: Object.entries(bigItems(20)).map(([name, value]) => ({ name, value })) }] };
    const live = LiveState.fromState(state).toData();
    v2.run("INSERT INTO sessions (id, name, state, created_at, last_activity_at, tab_count, live_state) VALUES ('old', 'legacy', 'recoverable', 1, 2, 0, ?)", [JSON.stringify(live)]);
    const json = JSON.stringify(state);
    v2.run("INSERT INTO session_snapshots (session_id, taken_at, reason, state, content_hash, state_bytes) VALUES ('old', 3, 'interval', ?, ?, ?)", [json, contentHash(state), json.length]);
    const dir = newDataDirPath();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'restory.db'), v2.export());

    const store = await openStore(dir, { config: { ...NO_TIMER, snapshotsKept: 1 } });
    expect(store.getSnapshot('old', 1)!.state).toEqual(state);
    expect(store.listSnapshots('old')[0]).toMatchObject({ id: 1, bytes: json.length, hash: contentHash(state) });
    // The live state equals the snapshot: deduplicated as before.
    expect(store.saveSnapshot('old', 'interval')).toBeNull();
    store.applyEvents('old', 'i', [setLocal(1, { extra: '1' }, 'https://b.test')]);
    const next = store.saveSnapshot('old', 'interval')!;
    expect(store.listSnapshots('old').map((s) => s.id)).toEqual([next.id]); // the inline one pruned
    await store.close();
    const db = await readDb(dir);
    expect(count(db, 'snapshot_blobs')).toBeGreaterThan(0);
    expect(count(db, 'snapshot_blob_refs')).toBe(count(db, 'snapshot_blobs'));
    const reopened = await openStore(dir, { readOnly: true });
    expect(localItems(reopened.latestSnapshot('old')!.state)).toEqual(bigItems(20));
  });

  it('with a key, blobs are encrypted with the rest of the file', async () => {
    const dir = newDataDirPath();
    const env = { RESTORY_KEY: 'a1'.repeat(32) };
    const secret = 'blob-secret-Qx93Lm'.padEnd(10_000, '!');
    const store = await openStore(dir, { env, config: NO_TIMER });
    store.createSession({ name: 'x', id: 's' });
    store.applyEvents('s', 'i', [setLocal(1, { token: secret })]);
    store.saveSnapshot('s', 'manual');
    store.applyEvents('s', 'i', [setLocal(2, { token: secret, other: '1' })]);
    store.saveSnapshot('s', 'manual');
    await store.close();
    const file = readFileSync(join(dir, 'restory.db'));
    expect(file.subarray(0, ENC_MAGIC.length).equals(ENC_MAGIC)).toBe(true);
    expect(file.includes('blob-secret-Qx93Lm')).toBe(false);
    const ro = await openStore(dir, { env, readOnly: true });
    for (const s of ro.listSnapshots('s')) expect(localItems(ro.getSnapshot('s', s.id)!.state).token).toBe(secret);
  });
});
