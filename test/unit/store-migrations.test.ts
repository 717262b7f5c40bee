import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LATEST_SCHEMA_VERSION, migrate, schemaVersion, setMeta } from '../../companion/store/migrations.js';
import { loadSqlJs } from '../../companion/store/sqljs.js';
import { SqlJsStore } from '../../companion/store/sqljs-store.js';
import { newDataDirPath, removeTempDirs } from '../helpers/temp-dirs.js';

afterEach(() => removeTempDirs());

function tables(db: import('sql.js').Database): string[] {
  return db.exec("SELECT name FROM sqlite_master WHERE type IN ('table','index') AND name NOT LIKE 'sqlite_%' ORDER BY name")[0].values.map((r) => String(r[0]));
}

describe('migrations', () => {
  it('a fresh database gets the latest schema', async () => {
    const SQL = await loadSqlJs();
    const db = new SQL.Database();
    expect(migrate(db)).toEqual([1, 2, 3, 4, 5]);
    expect(schemaVersion(db)).toBe(LATEST_SCHEMA_VERSION);
    expect(tables(db)).toEqual(['meta', 'session_live', 'session_snapshots', 'session_snapshots_by_time', 'sessions', 'sessions_by_activity', 'snapshot_blob_refs', 'snapshot_blob_refs_by_hash', 'snapshot_blobs']);
    expect(migrate(db)).toEqual([]);
    // The CHECK constraint refuses unknown states.
    expect(() => db.run("INSERT INTO sessions (id, name, state, created_at, last_activity_at) VALUES ('a','a','bogus',1,1)")).toThrow(/CHECK/);
  });

  it('upgrades a version-1 database written by an older restory, keeping its data', async () => {
    const SQL = await loadSqlJs();
    const v1 = new SQL.Database();
    migrate(v1, { target: 1 });
    expect(schemaVersion(v1)).toBe(1);
    const live = { state: { cookies: [], origins: [{ origin: 'https://a.test', localStorage: [{ name: 'k', value: 'v' }] }], tabs: [], windows: [], capturedAt: 5 }, tabIds: [], windowIds: [], instanceId: 'inst', lastSeq: 7 };
    v1.run("INSERT INTO sessions (id, name, state, created_at, last_activity_at, current_url, tab_count, live_state) VALUES ('old', 'legacy', 'recoverable', 1, 2, 'https://a.test/', 1, ?)", [JSON.stringify(live)]);
    v1.run("INSERT INTO session_snapshots (session_id, taken_at, reason, state, content_hash) VALUES ('old', 3, 'interval', ?, 'h1')", [JSON.stringify(live.state)]);
    const dir = newDataDirPath();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'restory.db'), v1.export());

    const store = await SqlJsStore.open({ dataDir: dir });
    expect(store.requireSession('old')).toMatchObject({ name: 'legacy', state: 'recoverable', currentUrl: 'https://a.test/', currentTitle: null, tabCount: 1 });
    expect(store.captureCursor('old')).toMatchObject({ instanceId: 'inst', lastSeq: 7 });
    // Migration 2 back-filled the snapshot sizes.
    expect(store.listSnapshots('old')).toEqual([{ id: 1, sessionId: 'old', takenAt: 3, reason: 'interval', hash: 'h1', bytes: JSON.stringify(live.state).length }]);
    await store.close();

    const after = new SQL.Database(readFileSync(join(dir, 'restory.db')));
    expect(schemaVersion(after)).toBe(LATEST_SCHEMA_VERSION);
    // Migration 5 moved the live state out of the session row, which status updates rewrite whole.
    expect(after.exec('PRAGMA table_info(sessions)')[0].values.map((c) => c[1])).not.toContain('live_state');
    expect(after.exec("SELECT count(*) FROM session_live WHERE session_id = 'old'")[0].values[0][0]).toBe(1);
  });

  it('refuses a database written by a newer restory and leaves it alone', async () => {
    const SQL = await loadSqlJs();
    const db = new SQL.Database();
    migrate(db);
    setMeta(db, 'schema_version', LATEST_SCHEMA_VERSION + 5);
    const dir = newDataDirPath();
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'restory.db');
    const bytes = Buffer.from(db.export());
    writeFileSync(file, bytes);
    const expected = `written by a newer restory (schema ${LATEST_SCHEMA_VERSION + 5} > ${LATEST_SCHEMA_VERSION}); upgrade restory`;
    await expect(SqlJsStore.open({ dataDir: dir })).rejects.toThrow(expected);
    await expect(SqlJsStore.open({ dataDir: dir, readOnly: true })).rejects.toThrow(expected);
    expect(readFileSync(file).equals(bytes)).toBe(true);
  });
});
