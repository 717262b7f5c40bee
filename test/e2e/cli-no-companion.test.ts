/**
 * The session commands with no companion running read the store themselves (cli/backend.ts). An
 * `active` session there lost its companion, so `list` shows the orphan verdict the next companion
 * will give it, and `status` must count the same states — without either writing a byte.
 */
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SequencedEventSchema, type SequencedEvent } from '../../shared/capture-events.js';
import { parseMessage } from '../../shared/validate.js';
import type { RestoryExport, SessionState, SessionSummary } from '../../shared/state.js';
import { classifyOrphans } from '../../companion/session/orphans.js';
import { SqlJsStore } from '../../companion/store/sqljs-store.js';
import { localItems, setLocal, tabsEvent } from '../helpers/store-fixtures.js';
import { runCli } from '../helpers/restory-cli.js';
import { newDataDirPath, removeTempDirs } from '../helpers/temp-dirs.js';

const DAY = 24 * 60 * 60 * 1000;

function stateAt(capturedAt: number): SessionState {
  const url = 'https://a.test/';
  return {
    cookies: [],
    origins: [],
    tabs: [{ windowIndex: 0, index: 0, active: true, pinned: false, url, title: '', history: { entries: [{ url, title: '' }], currentIndex: 0 }, sessionStorage: [] }],
    windows: [{ state: 'normal', focused: true }],
    capturedAt,
  };
}

/** Every file of the data dir with its bytes, to show a command wrote nothing. */
function contents(dataDir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dataDir).map((f) => [f, readFileSync(join(dataDir, f)).toString('base64')]));
}

afterAll(removeTempDirs);

/** Events stamped now, so the session is young enough to be recoverable. */
function now(e: SequencedEvent): SequencedEvent {
  return { ...e, at: Date.now() };
}

/**
 * A companion SIGKILLed while capturing: the journal holds every acknowledged event, the database
 * has not folded them. Copying the flushed files of a store that is still open is that state on disk.
 */
async function killedCompanion(prepare: (store: SqlJsStore) => Promise<void>): Promise<string> {
  const live = newDataDirPath();
  const store = await SqlJsStore.open({ dataDir: live, config: { checkpointIntervalMs: 3_600_000 } });
  await prepare(store);
  await store.flush();
  const dataDir = newDataDirPath();
  cpSync(live, dataDir, { recursive: true, filter: (src) => !src.endsWith('.lock') });
  await store.close();
  return dataDir;
}

describe('restory without a companion', () => {
  it('status(counts sessions by the orphan verdict list shows, and neither writes)', async () => {
    const dataDir = newDataDirPath();
    const store = await SqlJsStore.open({ dataDir });
    await store.createSession({ id: 'fresh', name: 'fresh', state: 'active', initial: stateAt(Date.now()) });
    await store.createSession({ id: 'old', name: 'old', state: 'active', initial: stateAt(Date.now() - 3 * DAY) });
    await store.createSession({ id: 'empty', name: 'empty', state: 'active' });
    await store.createSession({ id: 'done', name: 'done', state: 'closed' });
    await store.close();
    const before = contents(dataDir);

    const list = await runCli(['list', '--json', '--data-dir', dataDir]);
    expect(list.code, list.stderr).toBe(0);
    const sessions = JSON.parse(list.stdout) as SessionSummary[];
    expect(Object.fromEntries(sessions.map((s) => [s.id, s.state]))).toEqual({ fresh: 'recoverable', old: 'stale', empty: 'closed', done: 'closed' });

    const status = await runCli(['status', '--json', '--data-dir', dataDir]);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toEqual({ running: false, dataDir, sessions: { recoverable: 1, stale: 1, closed: 2 }, storageLimited: [] });

    const text = await runCli(['status', '--data-dir', dataDir]);
    expect(text.stdout).toContain('no companion running');
    expect(text.stdout).not.toContain('active');
    expect(contents(dataDir)).toEqual(before);
  });

  it('export(an active session killed before its first snapshot exports what it captured, as the recovery snapshot the next companion takes)', async () => {
    const dataDir = await killedCompanion(async (store) => {
      store.createSession({ id: 'killed', name: 'killed', state: 'active' });
      store.applyEvents('killed', 'inst', [now(tabsEvent(1, [{ tabId: 1, url: 'https://a.test/page' }])), now(setLocal(2, { token: 'abc' }))]);
    });
    const before = contents(dataDir);

    const list = await runCli(['list', '--json', '--data-dir', dataDir]);
    expect((JSON.parse(list.stdout) as SessionSummary[])[0].state).toBe('recoverable');

    const exported = await runCli(['export', 'killed', '--data-dir', dataDir]);
    expect(exported.code, exported.stderr).toBe(0);
    const out = JSON.parse(exported.stdout) as RestoryExport;
    expect(out.snapshot.reason).toBe('recovery');
    expect(out.state.tabs.map((t) => t.url)).toEqual(['https://a.test/page']);
    expect(localItems(out.state)).toEqual({ token: 'abc' });

    const snapshots = await runCli(['snapshots', 'killed', '--json', '--data-dir', dataDir]);
    expect(snapshots.code, snapshots.stderr).toBe(0);
    expect(JSON.parse(snapshots.stdout)).toMatchObject([{ id: out.snapshot.id, reason: 'recovery', tabs: 1, origins: 1, url: 'https://a.test/page' }]);
    expect(contents(dataDir)).toEqual(before);
  });

  it('export(an active session with events after its newest snapshot exports them, not the older snapshot)', async () => {
    const dataDir = await killedCompanion(async (store) => {
      store.createSession({ id: 'killed', name: 'killed', state: 'active' });
      store.applyEvents('killed', 'inst', [now(tabsEvent(1, [{ tabId: 1, url: 'https://a.test/' }])), now(setLocal(2, { step: '1' }))]);
      store.saveSnapshot('killed', 'interval');
      store.applyEvents('killed', 'inst', [now(setLocal(3, { step: '2' }))]);
    });
    const before = contents(dataDir);

    const exported = await runCli(['export', 'killed', '--data-dir', dataDir]);
    expect(exported.code, exported.stderr).toBe(0);
    const out = JSON.parse(exported.stdout) as RestoryExport;
    expect(localItems(out.state)).toEqual({ step: '2' });

    const snapshots = await runCli(['snapshots', 'killed', '--json', '--data-dir', dataDir]);
    expect((JSON.parse(snapshots.stdout) as { reason: string }[]).map((r) => r.reason)).toEqual(['recovery', 'interval']);

    // The first companion after the crash takes that very snapshot.
    const store = await SqlJsStore.open({ dataDir });
    await classifyOrphans(store, { now: Date.now(), maxSessionAgeMs: DAY });
    const taken = store.latestSnapshot('killed')!;
    expect({ id: taken.id, reason: taken.reason, state: { ...taken.state, capturedAt: 0 } }).toEqual({
      id: out.snapshot.id,
      reason: 'recovery',
      state: { ...out.state, capturedAt: 0 },
    });
    await store.close();
  });

  it('storage keys named __proto__, constructor and toString survive capture, store, snapshot, export and import', async () => {
    // As the extension's frame arrives: JSON text, parsed and validated as the socket does.
    const KEYS = '{"__proto__":"p","constructor":"c","toString":"t","plain":"x"}';
    const wire = (seq: number, event: string): SequencedEvent =>
      parseMessage(SequencedEventSchema, JSON.parse(`{"seq":${seq},"at":${Date.now()},"event":${event}}`), 'event');
    const scope = (area: string) => `"tabId":1,"frameId":0,"origin":"https://a.test","area":"${area}"`;
    const expected = [
      { name: '__proto__', value: 'p' },
      { name: 'constructor', value: 'c' },
      { name: 'toString', value: 't' },
      { name: 'plain', value: 'x' },
    ];
    const dataDir = newDataDirPath();
    const store = await SqlJsStore.open({ dataDir });
    store.createSession({ id: 'protos', name: 'protos', state: 'active' });
    store.applyEvents('protos', 'inst', [
      now(tabsEvent(1, [{ tabId: 1, url: 'https://a.test/' }])),
      wire(2, `{"kind":"storage.full",${scope('local')},"items":${KEYS}}`),
      wire(3, `{"kind":"storage.change",${scope('session')},"set":${KEYS}}`),
    ]);
    store.checkpoint(); // through the live state's row as well
    store.saveSnapshot('protos', 'manual');
    store.setState('protos', 'closed');
    await store.close();

    const exported = await runCli(['export', 'protos', '--data-dir', dataDir]);
    expect(exported.code, exported.stderr).toBe(0);
    const out = JSON.parse(exported.stdout) as RestoryExport;
    expect(out.state.origins[0].localStorage).toEqual(expected);
    expect(out.state.tabs[0].sessionStorage).toEqual([{ origin: 'https://a.test', items: expected }]);

    const file = join(dataDir, '..', 'protos.json');
    writeFileSync(file, exported.stdout);
    const imported = await runCli(['import', file, '--data-dir', dataDir]);
    expect(imported.code, imported.stderr).toBe(0);
    const id = /^session (\S+)$/m.exec(imported.stdout)![1];
    const again = await runCli(['export', id, '--data-dir', dataDir]);
    expect(again.code, again.stderr).toBe(0);
    const back = JSON.parse(again.stdout) as RestoryExport;
    expect(back.state.origins[0].localStorage).toEqual(expected);
    expect(back.state.tabs[0].sessionStorage).toEqual([{ origin: 'https://a.test', items: expected }]);
  });

  it('list(prints a stored multi-line, coloured lastError as one clean line)', async () => {
    const dataDir = newDataDirPath();
    const store = await SqlJsStore.open({ dataDir });
    store.createSession({ id: 'coloured', name: 'coloured', state: 'active' });
    // As rows were written before lastError was kept to one line.
    store.setState('coloured', 'failed', '\u001b[31mbrowserType.launch: failed\u001b[39m\nCall log:\n  - <launching>');
    await store.close();
    const list = await runCli(['list', '--data-dir', dataDir]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).not.toContain('\u001b');
    expect(list.stdout.trimEnd().split('\n')).toHaveLength(2); // the header and the session
    expect(list.stdout).toMatch(/coloured .*failed .*browserType\.launch: failed$/m);
  });
});
