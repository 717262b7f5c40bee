/**
 * What only the shared PostgreSQL store does: leases (one owner, a dead owner's session recoverable
 * to everyone, a resume race with exactly one winner), encryption before values leave the
 * companion, schema versions, content-addressed chunks shared between sessions, and a server
 * restart in the middle of capture.
 */
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PgStore, type PgStoreOptions } from '../../companion/store/pg-store.js';
import { redactUrl } from '../../companion/store/store-url.js';
import { checkSharedStore } from '../../companion/cli/doctor/shared-store.js';
import { moveSessions } from '../../companion/store/move-sessions.js';
import { SqlJsStore } from '../../companion/store/sqljs-store.js';

import { startPostgres, type PgServer } from '../helpers/postgres.js';
import { localItems, setLocal, tabsEvent } from '../helpers/store-fixtures.js';
import { newDataDirPath, removeTempDirs } from '../helpers/temp-dirs.js';

let server: PgServer;
const opened: PgStore[] = [];

async function open(url: string, opts: Partial<PgStoreOptions> = {}): Promise<PgStore> {
  const s = await PgStore.open({ url, env: {}, ...opts });
  opened.push(s);
  return s;
}

async function sql<T extends pg.QueryResultRow>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(text, params)).rows;
  } finally {
    await c.end();
  }
}

/** A companion that dies: its pool ends without folding, releasing or saying goodbye. */
async function crash(store: PgStore): Promise<void> {
  opened.splice(opened.indexOf(store), 1);
  // Reaching into the store on purpose: nothing public ends it without a clean close.
  const inner = store as unknown as { heartbeat: NodeJS.Timeout | null; pool: pg.Pool; closed: boolean };
  if (inner.heartbeat) clearInterval(inner.heartbeat);
  inner.closed = true;
  await inner.pool.end();
}

beforeAll(async () => {
  server = await startPostgres();
});
afterAll(() => server?.stop());
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close().catch(() => {});
});

describe('PostgreSQL store: ownership', () => {
  it('a dead owner leaves its session recoverable to every companion, with what it acknowledged', async () => {
    const url = await server.createDatabase();
    const a = await open(url, { config: { leaseMs: 600 } });
    const s = await a.createSession({ name: 'shared' });
    await a.applyEvents(s.id, 'inst-A', [tabsEvent(1, [{ tabId: 1, url: 'https://a.test/' }]), setLocal(2, { k: 'v1' })]);
    await a.flush();
    await a.saveSnapshot(s.id, 'interval');
    await a.applyEvents(s.id, 'inst-A', [setLocal(3, { k: 'v2' })]); // after the newest snapshot
    await a.flush();

    const b = await open(url, { config: { leaseMs: 600 } });
    expect(await b.requireSession(s.id)).toMatchObject({ state: 'active' });
    expect(await b.heldElsewhere(s.id)).toBe(true);
    await expect(b.claimSession(s.id)).rejects.toThrow(`session ${s.id} is in use by another companion`);

    await crash(a);
    await new Promise((r) => setTimeout(r, 900));
    expect(await b.requireSession(s.id)).toMatchObject({ state: 'recoverable', lastError: 'its companion stopped while the session was active' });
    expect((await b.listSessions({ state: 'recoverable' })).map((r) => r.id)).toEqual([s.id]);
    expect(await b.heldElsewhere(s.id)).toBe(false);

    await b.claimSession(s.id);
    const snap = await b.requireSnapshot(s.id);
    expect(snap.reason).toBe('recovery');
    expect(localItems(snap.state)).toEqual({ k: 'v2' });
    expect(await b.requireSession(s.id)).toMatchObject({ state: 'recoverable' });
    await b.setState(s.id, 'active', null);
    const c = await open(url);
    expect(await c.requireSession(s.id)).toMatchObject({ state: 'active' });
    await expect(c.claimSession(s.id)).rejects.toThrow(/in use by another companion/);
  });

  it('two companions resuming the same session at once: exactly one wins', async () => {
    const url = await server.createDatabase();
    const first = await open(url);
    const s = await first.createSession({ name: 'race', state: 'recoverable' });
    await first.close();
    for (let round = 0; round < 5; round++) {
      const racers = await Promise.all(Array.from({ length: 4 }, () => open(url)));
      const results = await Promise.allSettled(racers.map((r) => r.claimSession(s.id)));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect(String(r.reason)).toMatch(/in use by another companion/);
      for (const r of racers) await r.close(); // releases the winner's lease
    }
  });

  it('capture into a session another companion took over is refused', async () => {
    const url = await server.createDatabase();
    const a = await open(url, { config: { leaseMs: 500 } });
    const s = await a.createSession({ name: 'x' });
    // a stalls (no heartbeat) past its lease; b takes over
    const inner = a as unknown as { heartbeat: NodeJS.Timeout | null };
    if (inner.heartbeat) clearInterval(inner.heartbeat);
    await new Promise((r) => setTimeout(r, 700));
    const b = await open(url);
    await b.claimSession(s.id);
    await a.applyEvents(s.id, 'inst-A', [setLocal(1, { late: '1' })]);
    await expect(a.flush()).rejects.toThrow(`session ${s.id} is now owned by another companion`);
  });
});

describe('PostgreSQL store: data', () => {
  it('what is captured while a snapshot is being written is in the next snapshot, with no other change after it', async () => {
    const url = await server.createDatabase();
    // The store reads its clock once the snapshot's state is taken, before writing it: capture lands
    // right then (applyEvents folds synchronously when the session's live state is cached).
    let duringSnapshot: (() => void) | null = null;
    const store = await open(url, {
      clock: () => {
        const run = duringSnapshot;
        duringSnapshot = null;
        run?.();
        return Date.now();
      },
    });
    const s = await store.createSession({ name: 'busy' });
    await store.applyEvents(s.id, 'i', [tabsEvent(1, [{ tabId: 1, url: 'https://a.test/' }])]);
    await store.flush();
    duringSnapshot = () => void store.applyEvents(s.id, 'i', [tabsEvent(2, [{ tabId: 1, url: 'https://a.test/' }, { tabId: 2, url: 'https://b.test/' }])]);
    expect(await store.saveSnapshot(s.id, 'interval')).not.toBeNull();
    expect(duringSnapshot).toBeNull();
    expect((await store.requireSnapshot(s.id)).state.tabs).toHaveLength(1);

    expect(await store.saveSnapshot(s.id, 'interval')).not.toBeNull();
    expect((await store.requireSnapshot(s.id)).state.tabs.map((t) => t.url)).toEqual(['https://a.test/', 'https://b.test/']);
    expect(await store.saveSnapshot(s.id, 'interval')).toBeNull(); // and now it is unchanged
  });

  it('with RESTORY_KEY the server holds no cookie or storage value; a wrong key or none is refused', async () => {
    const url = await server.createDatabase();
    const env = { RESTORY_KEY: 'correct horse battery staple' };
    const store = await open(url, { env });
    const s = await store.createSession({ name: 'secret' });
    const big = 'SECRETVALUE'.repeat(2000); // large enough to be a shared chunk
    await store.applyEvents(s.id, 'i', [tabsEvent(1, [{ tabId: 1, url: 'https://a.test/' }]), setLocal(2, { token: 'SECRETTOKEN', big })]);
    await store.flush();
    await store.saveSnapshot(s.id, 'manual');
    await store.applyEvents(s.id, 'i', [setLocal(3, { token2: 'SECRETTOKEN' })]);
    await store.flush();
    await store.close();
    const dump = await sql<{ t: string }>(
      url,
      `SELECT string_agg(encode(x, 'escape'), '') AS t FROM (
         SELECT live_state AS x FROM sessions UNION ALL SELECT events FROM capture_batches
         UNION ALL SELECT state FROM session_snapshots UNION ALL SELECT data FROM snapshot_blobs) v`,
    );
    expect(dump[0].t.length).toBeGreaterThan(1000);
    expect(dump[0].t).not.toContain('SECRET');

    await expect(PgStore.open({ url, env: { RESTORY_KEY: 'another passphrase' } })).rejects.toThrow(/wrong RESTORY_KEY/);
    await expect(PgStore.open({ url, env: {} })).rejects.toThrow(/is encrypted, but no key is set/);
    const again = await open(url, { env });
    expect(localItems(await again.currentState(s.id))).toMatchObject({ token: 'SECRETTOKEN', token2: 'SECRETTOKEN', big });
    expect(localItems((await again.requireSnapshot(s.id)).state)).toMatchObject({ token: 'SECRETTOKEN', big });
  });

  it('a schema written by a newer restory is refused, with the URL shown without its password', async () => {
    const url = await server.createDatabase();
    await (await open(url)).close();
    await sql(url, "UPDATE restory_meta SET value = '99' WHERE key = 'schema_version'");
    const err = await PgStore.open({ url, env: {} }).catch((e: Error) => e);
    expect(String(err)).toMatch(/written by a newer restory \(schema 99 > 2\); upgrade restory/);
    expect(String(err)).not.toContain('secret');
    expect(redactUrl('postgres://u:hunter2@h:5/db?password=x')).toBe('postgres://u:***@h:5/db?password=***');
  });

  it('storage chunks are stored once, shared by snapshots of different sessions, and pruned with the last one', async () => {
    const url = await server.createDatabase();
    const store = await open(url, { config: { snapshotsKept: 1 } });
    const big = { a: 'x'.repeat(30_000), b: 'y'.repeat(30_000) };
    const ids: string[] = [];
    for (const name of ['one', 'two']) {
      const s = await store.createSession({ name });
      ids.push(s.id);
      await store.applyEvents(s.id, 'i', [tabsEvent(1, [{ tabId: 1, url: 'https://a.test/' }]), setLocal(2, big)]);
      await store.saveSnapshot(s.id, 'manual');
    }
    const blobs = async () => Number((await sql<{ n: string }>(url, 'SELECT count(*) AS n FROM snapshot_blobs'))[0].n);
    const shared = await blobs();
    expect(shared).toBeGreaterThan(0);
    await store.applyEvents(ids[0], 'i', [setLocal(3, { small: '1' })]);
    await store.saveSnapshot(ids[0], 'manual'); // prunes one's older snapshot; its chunks are still two's
    expect(await blobs()).toBeGreaterThanOrEqual(shared);
    await store.deleteSession(ids[0]);
    await store.deleteSession(ids[1]);
    expect(await blobs()).toBe(0);
  });

  it('a server restart in the middle of capture: writes wait and retry, nothing acknowledged is lost', async () => {
    const url = await server.createDatabase();
    const store = await open(url, { retryForMs: 30_000 });
    const s = await store.createSession({ name: 'x' });
    const acked: number[] = [];
    let seq = 0;
    const capture = async (until: () => boolean) => {
      while (!until()) {
        seq++;
        const mine = seq;
        await store.applyEvents(s.id, 'i', [setLocal(mine, { [`k${mine}`]: String(mine) })]);
        await store.flush();
        acked.push(mine);
      }
    };
    let stop = false;
    const running = capture(() => stop);
    await new Promise((r) => setTimeout(r, 200));
    server.stopServer();
    await new Promise((r) => setTimeout(r, 1000));
    const duringOutage = acked.length;
    server.startServer();
    await new Promise((r) => setTimeout(r, 500));
    stop = true;
    await running;
    expect(acked.length).toBeGreaterThan(duringOutage);
    await store.close();
    const again = await open(url);
    const items = localItems(await again.currentState(s.id));
    for (const n of acked) expect(items[`k${n}`]).toBe(String(n));
  });

  it('a server that is down is one clear error at open, without the password', async () => {
    const err = await PgStore.open({ url: 'postgresql://u:hunter2@127.0.0.1:1/db', env: {} }).catch((e: Error) => e);
    expect(String(err)).toMatch(/^RestoryError: cannot reach the PostgreSQL store at postgresql:\/\/u:\*\*\*@127\.0\.0\.1:1\/db: /);
    expect(String(err)).not.toContain('hunter2');
  });

  it('doctor reports reachability, schema version and privileges, never the password', async () => {
    const url = await server.createDatabase();
    expect(url).toContain(':secret@');
    const fresh = await checkSharedStore(url);
    expect(fresh).toMatchObject({ status: 'warn' });
    expect(fresh.message).toMatch(/reachable, no restory schema yet/);
    await (await open(url)).close();
    const ready = await checkSharedStore(url);
    expect(ready).toMatchObject({ status: 'ok' });
    expect(ready.message).toMatch(/^postgresql:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/\w+: PostgreSQL [\d.]+.*, schema 2, writable$/);
    const down = await checkSharedStore('postgresql://u:hunter2@127.0.0.1:1/db');
    expect(down).toMatchObject({ status: 'fail' });
    for (const r of [fresh, ready, down]) expect(JSON.stringify(r)).not.toMatch(/secret|hunter2/);
  });

  it('migrate moves sessions with their snapshots from a data dir to PostgreSQL and back, verified by hash', async () => {
    const dir = newDataDirPath();
    let now = 1_700_000_000_000;
    const src = await SqlJsStore.open({ dataDir: dir, env: {}, clock: () => now });
    const s = src.createSession({ name: 'mover' });
    src.applyEvents(s.id, 'i', [tabsEvent(1, [{ tabId: 1, url: 'https://a.test/' }]), setLocal(2, { k: '1', big: 'z'.repeat(20_000) })]);
    now += 1000;
    src.saveSnapshot(s.id, 'interval');
    src.applyEvents(s.id, 'i', [setLocal(3, { k: '2' })]);
    now += 1000;
    src.saveSnapshot(s.id, 'shutdown');
    src.setState(s.id, 'recoverable', 'stopped');
    await src.close();

    const url = await server.createDatabase();
    const there = await moveSessions(dir, url);
    expect(there).toMatchObject([{ id: s.id, name: 'mover' }]);
    expect(there[0].snapshots).toHaveLength(2);
    const pgStore = await open(url);
    expect(await pgStore.requireSession(s.id)).toMatchObject({ state: 'recoverable', lastError: 'stopped', createdAt: 1_700_000_000_000 });
    const snaps = await pgStore.listSnapshots(s.id);
    expect(snaps.map((x) => [x.reason, x.takenAt])).toEqual([['shutdown', 1_700_000_002_000], ['interval', 1_700_000_001_000]]);
    expect(localItems((await pgStore.requireSnapshot(s.id)).state)).toMatchObject({ k: '2' });
    expect((await moveSessions(dir, url))[0].skipped).toBe('exists in the target');

    const back = newDataDirPath();
    const home = await moveSessions(url, back);
    expect(home[0].snapshots.map((x) => x.hash)).toEqual(there[0].snapshots.map((x) => x.hash));
    removeTempDirs();
  });
});
