/**
 * Recovery edge cases with real processes and real Chromium: a partial resume (one tab's server is
 * gone), a resume that restores nothing (`failed`, and trying again), auto-resume at start-up,
 * and resuming a `stale` session (with a warning) through the library API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RestoryExport, SessionState, SessionSummary, TabState } from '../../shared/state.js';
import { startTestSite, type TestSite } from '../fixtures/test-site.js';
import { eventually, runCli, startForeground } from '../helpers/restory-cli.js';
import { Companion } from '../../companion/companion.js';
import { SqlJsStore } from '../../companion/store/sqljs-store.js';
import { tempDir } from '../helpers/temp-dirs.js';

async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

function tab(url: string, index: number, active = false): TabState {
  return { windowIndex: 0, index, active, pinned: false, url, title: '', history: { entries: [{ url, title: '' }], currentIndex: 0 }, sessionStorage: [] };
}

function exportFile(dir: string, name: string, state: SessionState): string {
  const file = join(dir, `${name}.json`);
  const body: RestoryExport = {
    format: 'restory',
    version: 1,
    session: { id: 'x', name, createdAt: Date.now() },
    snapshot: { id: 1, takenAt: Date.now(), reason: 'manual' },
    state,
  };
  writeFileSync(file, JSON.stringify(body));
  return file;
}

describe('recovery edge cases', () => {
  let site: TestSite;
  let dead: string;

  beforeAll(async () => {
    site = await startTestSite();
    dead = `http://127.0.0.1:${await deadPort()}/`;
  });
  afterAll(async () => site?.close());

  const stateWith = (urls: string[]): SessionState => ({
    cookies: [],
    origins: [{ origin: site.originA, localStorage: [{ name: 'restored', value: 'yes' }] }],
    tabs: urls.map((u, i) => tab(u, i, i === 0)),
    windows: [{ state: 'normal', focused: true }],
    capturedAt: Date.now(),
  });
  const list = async (dataDir: string) => JSON.parse((await runCli(['list', '--json', '--data-dir', dataDir])).stdout) as SessionSummary[];
  const importState = async (dataDir: string, name: string, state: SessionState) => {
    const r = await runCli(['import', exportFile(dataDir, name, state), '--data-dir', dataDir]);
    expect(r.code).toBe(0);
    return /^session (\S+)$/m.exec(r.stdout)![1];
  };

  it('a partial resume restores the tabs it can and lists the one that failed', async () => {
    const dataDir = tempDir();
    const id = await importState(dataDir, 'partial', stateWith([`${site.originA}/storage.html?partial`, dead]));
    expect((await list(dataDir))[0]).toMatchObject({ id, state: 'recoverable' });
    const c = await startForeground(['resume', id, '--data-dir', dataDir]);
    // The report's lines are separate writes and may arrive in separate chunks: wait for its last one too.
    await eventually(() => /1\/2 tabs/.test(c.stdout()) && c.stdout().includes('failed tab'), 10_000, 'the report');
    expect(c.stdout()).toContain(`failed tab ${dead}`);
    const startup = await site.waitForStartupLog((l) => l.page === '/storage.html?partial');
    expect(startup.local).toEqual({ restored: 'yes' });
    expect((await list(dataDir))[0].state).toBe('active');
    c.child.kill('SIGINT');
    expect(await c.exited).toBe(0);
    expect((await list(dataDir))[0].state).toBe('recoverable');
  });

  it('a resume that restores nothing marks the session failed with the reason; resuming tries again', async () => {
    const dataDir = tempDir();
    const id = await importState(dataDir, 'doomed', stateWith([dead]));
    const first = await runCli(['resume', id, '--data-dir', dataDir]);
    expect(first.code).toBe(1);
    expect(first.stderr).toMatch(/nothing could be restored/);
    const failed = (await list(dataDir))[0];
    expect(failed).toMatchObject({ id, state: 'failed' });
    expect(failed.lastError).toContain(dead);
    const second = await runCli(['resume', id, '--data-dir', dataDir]);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/nothing could be restored/); // tried again, not refused
  });

  it('an unknown session id gets a clear error', async () => {
    const r = await runCli(['resume', 'no-such-session', '--data-dir', tempDir()]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no session with id "no-such-session".*restory list/);
  });

  it('auto-resume resumes recoverable sessions when a companion starts', async () => {
    const dataDir = tempDir();
    const id = await importState(dataDir, 'auto', stateWith([`${site.originA}/storage.html?auto`]));
    const c = await startForeground(['start', '--data-dir', dataDir, '--url', `${site.originA}/`], { RESTORY_AUTO_RESUME: 'true' });
    const startup = await site.waitForStartupLog((l) => l.page === '/storage.html?auto', 20_000);
    expect(startup.local).toEqual({ restored: 'yes' });
    expect((await list(dataDir)).find((s) => s.id === id)?.state).toBe('active');
    c.child.kill('SIGINT');
    await c.exited;
  });

  it('library start() resolves once the opened page is captured: a shutdown right after keeps it', async () => {
    const dataDir = tempDir();
    const url = `${site.originA}/storage.html?started`;
    const companion = await Companion.open({ dataDir });
    const { sessionId } = await companion.start({ urls: [url] });
    await companion.shutdown();
    const store = await SqlJsStore.open({ dataDir, readOnly: true });
    try {
      expect(store.currentState(sessionId).tabs.map((t) => t.url)).toEqual([url]);
      expect(store.requireSession(sessionId)).toMatchObject({ state: 'recoverable', tabCount: 1 });
    } finally {
      await store.close();
    }
  });

  it('a stale session resumes with a warning (library API)', async () => {
    const dataDir = tempDir();
    const store = await SqlJsStore.open({ dataDir });
    const old = { ...stateWith([`${site.originA}/storage.html?stale`]), capturedAt: Date.now() - 3 * 3600_000 };
    const { id } = store.createSession({ name: 'old', state: 'stale' });
    store.saveSnapshot(id, 'import', { state: old });
    await store.close();

    const companion = await Companion.open({ dataDir, config: { maxSessionAgeMs: 3600_000 } });
    try {
      const { report, session } = await companion.resume(id);
      expect(report.warnings.join(' ')).toMatch(/stale/);
      expect(report.tabs).toEqual([{ url: `${site.originA}/storage.html?stale`, ok: true }]);
      expect(await session.context.pages().find((p) => p.url().includes('stale'))!.evaluate(() => localStorage.getItem('restored'))).toBe('yes');
      expect((await companion.list()).find((s) => s.id === id)?.state).toBe('active');
    } finally {
      await companion.shutdown();
    }
  });
});
