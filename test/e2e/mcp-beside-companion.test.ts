/**
 * `restory mcp` beside a running companion (issue 14: one companion per data dir): a real
 * `restory start` in the foreground owns the data dir; the real `restory mcp` over stdio (MCP SDK
 * Client) works through its socket instead of refusing, real Chromium, the local test site.
 *  1. the session tools go through the running companion (list, start, close), and so do the
 *     browser tools, on the foreground session's own browser, and snapshot, snapshots and export
 *     (to a 0600 file, with no value in any result); a browser killed while that companion runs
 *     others is resumed by it at the next browser tool call;
 *  2. bad input (an unknown session) is a clear isError result;
 *  3. the running companion SIGKILLed: the next tool call takes over as the companion, adopting the
 *     browser that outlived it (its page's in-memory state is still there);
 *  4. beside a foreground `restory resume` (adopting that browser), the companion ends with its
 *     last browser (killed): the next browser tool call takes over and resumes the session.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlaywrightStorageState } from '../../shared/state.js';
import { startTestSite, type TestSite } from '../fixtures/test-site.js';
import { evaluated, ok, startMcp, type McpStdio } from '../helpers/mcp-stdio.js';
import { eventually, killBrowsersOf, runCli, startForeground, stopForeground, type ForegroundCompanion } from '../helpers/restory-cli.js';
import { tempDir } from '../helpers/temp-dirs.js';

const env = { RESTORY_SNAPSHOT_INTERVAL_MS: '1000' };
const WHO = '() => document.querySelector("#who")?.textContent ?? null';

describe('restory mcp beside a running `restory start` (client of its socket)', () => {
  let site: TestSite;
  let dataDir: string;
  let fg: ForegroundCompanion | null = null;
  let mcp: McpStdio | null = null;
  let firstSessionId = '';
  /** The session `session_start` made in the running companion. */
  let startedId = '';
  /** Every tool result, to check that none carries a cookie or storage value. */
  const results: { name: string; text: string }[] = [];
  const call = async (name: string, args: Record<string, unknown> = {}) => {
    const text = await ok(mcp!, name, args);
    results.push({ name, text });
    return text;
  };

  /** SIGKILL the MCP server's process group, and the browsers of `dir` if given (quicker than a clean stop). */
  const killMcp = async (dir: string | null) => {
    if (mcp) {
      const closed = new Promise<void>((r) => (mcp!.client.onclose = () => r()));
      process.kill(-mcp.transport.pid!, 'SIGKILL');
      await closed;
      mcp = null;
    }
    if (dir) killBrowsersOf(dir);
  };

  beforeAll(async () => {
    site = await startTestSite();
    dataDir = tempDir('restory-mcp-beside-');
    // The data dir's companion, running in the foreground before any MCP server starts.
    fg = await startForeground(['start', '--data-dir', dataDir, '--url', `${site.originA}/login?user=bob`], env);
    firstSessionId = fg.sessionId;
  });
  afterAll(async () => {
    await mcp?.client.close().catch(() => {});
    await stopForeground(fg);
    killBrowsersOf(dataDir);
    await site?.close();
  });

  it('session tools go through the running companion: its session listed, session_start runs in it', async () => {
    const sessionId = firstSessionId;
    mcp = await startMcp(dataDir, [], env);
    await eventually(() => mcp!.stderr().includes(`restory mcp: a companion runs on ${dataDir} (pid ${fg!.child.pid}); working through it`), 5000, 'the client-mode line on stderr');

    expect(await call('list_sessions')).toMatch(new RegExp(`^${sessionId}\\s+"[^"]*"\\s+active, browser running`, 'm'));

    // session_start goes to the running companion: it launches and runs the new browser.
    const started = await call('session_start', { url: `${site.originB}/storage.html`, name: 'from mcp' });
    const other = /started session (\S+);/.exec(started)![1];
    const status = JSON.parse((await runCli(['status', '--json', '--data-dir', dataDir])).stdout) as { pid: number; browsers: { sessionId: string }[] };
    expect(status.pid).toBe(fg!.child.pid);
    expect(status.browsers.map((b) => b.sessionId).sort()).toEqual([sessionId, other].sort());
    startedId = other;
  });

  it('a browser killed while the running companion runs others: the next browser tool call has that companion resume it', async () => {
    const other = startedId;
    await call('browser_evaluate', { function: '() => localStorage.setItem("k", "other-1")' });
    await eventually(async () => {
      const path = join(tempDir('restory-mcp-export-'), 'state.json');
      await call('session_export', { sessionId: other, path, format: 'playwright' });
      const s = JSON.parse(readFileSync(path, 'utf8')) as PlaywrightStorageState;
      return s.origins.some((o) => o.localStorage.some((e) => e.name === 'k' && e.value === 'other-1'));
    }, 20_000, 'the write captured');
    const status = JSON.parse((await runCli(['status', '--json', '--data-dir', dataDir])).stdout) as { browsers: { sessionId: string; pid: number }[] };
    process.kill(-status.browsers.find((b) => b.sessionId === other)!.pid, 'SIGKILL');

    const text = await call('browser_evaluate', { function: '() => ({ k: localStorage.getItem("k"), url: location.href })' });
    expect(text.split('\n')[0]).toMatch(new RegExp(`^restory: the browser of session ${other} had ended; resumed it: session ${other} from snapshot \\d+ \\(\\d+ cookies, 1 origins, 1/1 tabs\\)$`));
    expect(evaluated(text)).toEqual({ k: 'other-1', url: `${site.originB}/storage.html` });
    // Resumed by the foreground companion, which still runs (its own session's browser never stopped).
    expect(fg!.child.exitCode).toBeNull();
    const after = JSON.parse((await runCli(['status', '--json', '--data-dir', dataDir])).stdout) as { pid: number; browsers: { sessionId: string }[] };
    expect(after.pid).toBe(fg!.child.pid);
    expect(after.browsers.map((b) => b.sessionId)).toContain(other);

    expect(await call('session_close', { sessionId: other })).toBe(`closed session ${other}`);
    expect(await call('list_sessions')).toMatch(new RegExp(`^${other}\\s+"from mcp"\\s+closed,`, 'm'));
  });

  it('browser tools act on the running companion\'s session browser; snapshot, snapshots and a 0600 export, no values in results', async () => {
    const sessionId = fg!.sessionId;

    // The foreground session made current; the browser tools act on its browser (logged in as bob there).
    expect(await call('session_resume', { sessionId: sessionId.slice(0, 8) })).toBe(`session ${sessionId} is running; browser tools now act on it`);
    await call('browser_navigate', { url: `${site.originA}/account` });
    const marked = evaluated<{ who: string }>(await call('browser_evaluate', { function: `() => { window.__mark = "in-memory"; localStorage.setItem("k", "beside-1"); return { who: (${WHO})() } }` }));
    expect(marked.who).toBe('Logged in as bob');
    // The same browser the foreground companion printed: its page is where the agent navigated.
    const direct = await chromium.connectOverCDP(fg!.cdp);
    try {
      const pages = direct.contexts()[0].pages();
      expect(pages.map((p) => p.url())).toContain(`${site.originA}/account`);
      const page = pages.find((p) => p.url() === `${site.originA}/account`)!;
      expect(await page.evaluate(() => (window as unknown as { __mark?: string }).__mark)).toBe('in-memory');
    } finally {
      await direct.close(); // disconnects only
    }

    // A snapshot now (once the write has been captured, there is something new to take).
    let n = 0;
    const taken = await eventually(async () => {
      await call('browser_evaluate', { function: `() => localStorage.setItem("k", "beside-${++n}")` });
      return /^session \S+: snapshot (\d+) taken$/.exec(await call('session_snapshot'))?.[1];
    }, 20_000, 'session_snapshot to take a snapshot');
    const rows = await call('session_snapshots', { sessionId });
    expect(rows.split('\n')[0]).toMatch(new RegExp(`^snapshot ${taken}: .*\\(manual\\), 1 tabs, 2 cookies, 1 origins, \\d+ bytes, ${site.originA}/account$`));

    // session_export: this process writes the 0600 file; the result names only the path.
    const path = join(tempDir('restory-mcp-export-'), 'state.json');
    expect(await call('session_export', { sessionId, path, format: 'playwright' })).toBe(`wrote ${path} (mode 0600, format playwright); it holds cookies and storage: keep it private`);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const state = JSON.parse(readFileSync(path, 'utf8')) as PlaywrightStorageState;
    const sid = state.cookies.find((c) => c.name === 'sid');
    expect(sid?.httpOnly).toBe(true);
    const local = state.origins.find((o) => o.origin === site.originA)?.localStorage.find((e) => e.name === 'k')?.value;
    expect(local).toBe(`beside-${n}`);
    for (const { name, text } of results) {
      expect(text).not.toContain(sid!.value); // httpOnly: not even a page script could have returned it
      if (name.startsWith('browser_')) continue; // these show the agent's own scripts, which name the values they wrote
      expect(text).not.toContain('dark'); // the pref cookie's value
      expect(text).not.toContain('beside-');
    }
  });

  it('bad input through the running companion: a clear isError result, and it keeps serving', async () => {
    const bad = async (name: string, args: Record<string, unknown>, message: RegExp) => {
      const r = await mcp!.call(name, args);
      expect(r.isError).toBe(true);
      expect(r.text).toMatch(message);
      expect(r.text.split('\n')).toHaveLength(1);
    };
    await bad('session_resume', { sessionId: 'abcdef12' }, /^session_resume: no session with id "abcdef12"; list_sessions shows the ids$/);
    await bad('session_snapshots', { sessionId: 'abcdef12' }, /^session_snapshots: no session with id "abcdef12"/);
    const path = join(tempDir('restory-mcp-export-'), 'never.json');
    await bad('session_export', { sessionId: 'abcdef12', path, format: 'restory' }, /^session_export: no session with id "abcdef12"/);
    expect(existsSync(path)).toBe(false);
    expect(await ok(mcp!, 'list_sessions')).toContain(`${fg!.sessionId} (current)`);
  });

  it('the running companion SIGKILLed: the next tool call takes over and adopts the browser that outlived it', async () => {
    const sessionId = fg!.sessionId;
    fg!.child.kill('SIGKILL'); // the companion only: its browser is in its own process group
    await fg!.exited;
    const text = await ok(mcp!, 'browser_evaluate', { function: `() => ({ mark: window.__mark ?? null, who: (${WHO})() })` });
    expect(text.split('\n')[0]).toMatch(new RegExp(`^restory: the companion of ${dataDir} \\(pid ${fg!.child.pid}\\) stopped; restory mcp took over as its companion`));
    // The same page, never reloaded: adopted, not resumed.
    expect(evaluated<{ mark: string; who: string }>(text)).toEqual({ mark: 'in-memory', who: 'Logged in as bob' });
    expect(await ok(mcp!, 'list_sessions')).toMatch(new RegExp(`^${sessionId} \\(current\\)\\s+"[^"]*"\\s+active, browser running`, 'm'));
    fg = null;
  });

  it('the foreground companion ends with its killed browser: the next browser tool call takes over and resumes it', async () => {
    // A fresh pair on the same browser: the MCP server (killed; the browser it adopted runs on) and
    // a foreground `restory resume`, which adopts that browser in turn.
    const sessionId = firstSessionId;
    await killMcp(null);
    fg = await startForeground(['resume', sessionId, '--data-dir', dataDir], env);
    mcp = await startMcp(dataDir, ['--resume', 'auto'], env);
    const took = await ok(mcp, 'browser_evaluate', { function: `() => { localStorage.setItem("k", "bob-last"); return (${WHO})() }` });
    expect(took.split('\n')[0]).toBe(`restory: --resume took session ${sessionId}, whose browser was running`);
    expect(mcp.stderr()).toContain(`working through it`);
    // Wait until the write is durable in the companion, then kill the browser: the companion
    // records the crash and, its last browser gone, stops.
    await eventually(async () => {
      const path = join(tempDir('restory-mcp-export-'), 'state.json');
      await ok(mcp!, 'session_export', { sessionId, path, format: 'playwright' });
      const s = JSON.parse(readFileSync(path, 'utf8')) as PlaywrightStorageState;
      return s.origins.some((o) => o.localStorage.some((e) => e.name === 'k' && e.value === 'bob-last'));
    }, 20_000, 'the write captured');
    killBrowsersOf(dataDir);
    expect(await fg.exited).toBe(0);

    const nav = await ok(mcp, 'browser_navigate', { url: `${site.originA}/account` });
    const lines = nav.split('\n');
    expect(lines[0]).toMatch(new RegExp(`^restory: the companion of ${dataDir} \\(pid ${fg.child.pid}\\) stopped; restory mcp took over as its companion`));
    expect(lines[1]).toMatch(new RegExp(`^restory: the browser of session ${sessionId} had ended; resumed it: session ${sessionId} from snapshot \\d+`));
    const after = evaluated<{ who: string; k: string }>(await ok(mcp, 'browser_evaluate', { function: `() => ({ who: (${WHO})(), k: localStorage.getItem("k") })` }));
    expect(after).toEqual({ who: 'Logged in as bob', k: 'bob-last' });
    fg = null;
    await killMcp(dataDir);
  });
});
