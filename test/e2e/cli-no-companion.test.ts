/**
 * The session commands with no companion running read the store themselves (cli/backend.ts). An
 * `active` session there lost its companion, so `list` shows the orphan verdict the next companion
 * will give it, and `status` must count the same states — without either writing a byte.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { SessionState, SessionSummary } from '../../shared/state.js';
import { SqlJsStore } from '../../companion/store/sqljs-store.js';
import { removeTempDirs, tempDataDir } from '../helpers/store-fixtures.js';
import { runCli } from '../helpers/restory-cli.js';

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

describe('restory without a companion', () => {
  it('status(counts sessions by the orphan verdict list shows, and neither writes)', async () => {
    const dataDir = tempDataDir();
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
    expect(JSON.parse(status.stdout)).toEqual({ running: false, dataDir, sessions: { recoverable: 1, stale: 1, closed: 2 } });

    const text = await runCli(['status', '--data-dir', dataDir]);
    expect(text.stdout).toContain('no companion running');
    expect(text.stdout).not.toContain('active');
    expect(contents(dataDir)).toEqual(before);
  });
});
