/**
 * `restory mcp`, end to end: the MCP SDK's own Client over stdio against the real built
 * `bin/restory.js mcp` process, real Chromium, the local two-origin test site.
 *  1. log in (httpOnly cookie), write localStorage + sessionStorage, open a second tab; SIGKILL the
 *     server's process group and its browser; a new server lists the session recoverable, and
 *     session_resume brings back the logged-in page, the storage and both tabs;
 *  2. Chromium SIGKILLed under that live server: the next browser_navigate resumes it and says so;
 *  3. bad input is an isError result with a clear message, and the server keeps answering;
 *  4. only the server SIGKILLed: its browser runs on, and `--resume auto` takes it up again;
 *  5. `--port 0`: streamable HTTP on 127.0.0.1, a foreign Host or Origin refused (DNS rebinding).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RestoryExport } from '../../shared/state.js';
import { startTestSite, type TestSite } from '../fixtures/test-site.js';
import { evaluated, ok, startMcp, type McpStdio } from '../helpers/mcp-stdio.js';
import { BIN, eventually, killBrowsersOf } from '../helpers/restory-cli.js';
import { tempDir } from '../helpers/temp-dirs.js';

const env = { RESTORY_SNAPSHOT_INTERVAL_MS: '1000' };

type Server = McpStdio;
const startServer = (dataDir: string, extra: string[] = []) => startMcp(dataDir, extra, env);

/** The URLs browser_tabs lists, in its order. */
function tabUrls(text: string): string[] {
  return [...text.matchAll(/^- \d+: .*\]\((.*)\)$/gm)].map((m) => m[1]);
}

const PAGE_STATE = '() => ({ who: document.querySelector("#who")?.textContent ?? null, local: localStorage.getItem("k"), session: sessionStorage.getItem("s"), url: location.href })';

describe('restory mcp (SDK client over stdio, real Chromium)', () => {
  let site: TestSite;
  let dataDir: string;
  let server: Server | null = null;
  let sessionId = '';
  let exports = 0;
  let tabsBefore: string[] = [];

  beforeAll(async () => {
    site = await startTestSite();
    dataDir = tempDir('restory-mcp-');
  });
  afterAll(async () => {
    await server?.client.close().catch(() => {});
    killBrowsersOf(dataDir);
    await site?.close();
  });

  /** The session's state as `session_export` writes it (the file, never the tool result, has values). */
  const exported = async (): Promise<RestoryExport> => {
    const path = join(dataDir, `export-${++exports}.json`);
    const text = await ok(server!, 'session_export', { sessionId, path, format: 'restory' });
    expect(text).toContain(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    return JSON.parse(readFileSync(path, 'utf8')) as RestoryExport;
  };

  it('server and browser SIGKILLed: a new server resumes the session with login, storage and both tabs', async () => {
    server = await startServer(dataDir);
    const tools = (await server.client.listTools()).tools.map((t) => t.name);
    for (const name of ['browser_navigate', 'browser_snapshot', 'browser_click', 'browser_type', 'browser_tabs', 'browser_evaluate', 'list_sessions', 'session_resume', 'session_start', 'session_close', 'session_snapshot', 'session_snapshots', 'session_export']) {
      expect(tools).toContain(name);
    }

    // The first browser tool call starts a session.
    const nav = await ok(server, 'browser_navigate', { url: `${site.originA}/login?user=alice` });
    sessionId = /started new session (\S+)/.exec(nav)![1];
    const before = evaluated<{ who: string }>(await ok(server, 'browser_evaluate', { function: '() => { localStorage.setItem("k", "v1"); sessionStorage.setItem("s", "t1"); return { who: document.querySelector("#who")?.textContent } }' }));
    expect(before.who).toBe('Logged in as alice');
    await ok(server, 'browser_tabs', { action: 'new', url: `${site.originB}/storage.html` });

    // Captured and durable: cookies, both origins' pages, the storage written.
    await eventually(async () => {
      const s = (await exported()).state;
      const tab = s.tabs.find((t) => t.url.endsWith('/account'));
      return (
        s.cookies.some((c) => c.name === 'sid' && c.httpOnly) &&
        s.tabs.length === 2 &&
        s.origins.find((o) => o.origin === site.originA)?.localStorage.some((e) => e.name === 'k' && e.value === 'v1') &&
        tab?.sessionStorage.some((o) => o.origin === site.originA && o.items.some((e) => e.name === 's' && e.value === 't1'))
      );
    }, 20_000, 'the login, storage and second tab captured');
    const listed = await ok(server, 'list_sessions');
    expect(listed).toContain(`${sessionId} (current)`);
    expect(listed).toContain('2 tabs');
    // No tool result carries a cookie or storage value.
    expect(listed).not.toMatch(/v1|t1/);

    // The machine "crashes": the server's whole process group, and the browser (its own group).
    const pid = server.transport.pid!;
    const closed = new Promise<void>((r) => (server!.client.onclose = () => r()));
    process.kill(-pid, 'SIGKILL');
    killBrowsersOf(dataDir);
    await closed;

    server = await startServer(dataDir);
    expect(await ok(server, 'list_sessions')).toMatch(new RegExp(`${sessionId}\\s+"[^"]*"\\s+recoverable, 2 tabs`));
    const resumed = await ok(server, 'session_resume', { sessionId: sessionId.slice(0, 8) });
    expect(resumed).toContain(`resumed session ${sessionId}`);
    expect(resumed).toContain('2/2 tabs');
    expect(resumed).not.toMatch(/v1|t1/);

    const tabs = await ok(server, 'browser_tabs', { action: 'list' });
    expect(tabs).toContain(`${site.originA}/account`);
    expect(tabs).toContain(`${site.originB}/storage.html`);
    const accountIndex = Number(new RegExp(`- (\\d+): [^\\n]*${site.originA}/account`).exec(tabs)![1]);
    await ok(server, 'browser_tabs', { action: 'select', index: accountIndex });
    // A reload asks the server again: the httpOnly cookie came back.
    await ok(server, 'browser_navigate', { url: `${site.originA}/account` });
    const after = evaluated<{ who: string; local: string; session: string }>(await ok(server, 'browser_evaluate', { function: PAGE_STATE }));
    expect(after).toMatchObject({ who: 'Logged in as alice', local: 'v1', session: 't1' });
    expect(await ok(server, 'browser_snapshot')).toContain('Logged in as alice');
  });

  it('Chromium SIGKILLed under a live server: the next browser_navigate resumes it, with the state back', async () => {
    expect(server).not.toBeNull();
    killBrowsersOf(dataDir);
    const nav = await ok(server!, 'browser_navigate', { url: `${site.originA}/account` });
    const firstLine = nav.split('\n')[0];
    expect(firstLine).toMatch(new RegExp(`^restory: the browser of session ${sessionId} had ended; resumed it: session ${sessionId} from snapshot \\d+`));
    const state = evaluated<{ who: string; local: string }>(await ok(server!, 'browser_evaluate', { function: PAGE_STATE }));
    expect(state).toMatchObject({ who: 'Logged in as alice', local: 'v1' });
    // Both tabs came back; which one the fresh connection calls current is Playwright's choice (the
    // first page), so the navigation may have landed in either.
    tabsBefore = tabUrls(await ok(server!, 'browser_tabs', { action: 'list' }));
    expect(tabsBefore).toHaveLength(2);
    expect(tabsBefore).toContain(`${site.originA}/account`);
  });

  it('bad input: an isError result with a clear one-line message, and the server keeps serving', async () => {
    const bad = async (name: string, args: Record<string, unknown>, message: RegExp) => {
      const r = await server!.call(name, args);
      expect(r.isError).toBe(true);
      expect(r.text).toMatch(message);
      expect(r.text.split('\n')).toHaveLength(1);
    };
    await bad('session_resume', { sessionId: 'not an id!' }, /session id .*hex digits/);
    await bad('session_resume', { sessionId: 'abcdef12' }, /no session with id "abcdef12"/);
    await bad('session_close', {}, /sessionId/);
    const missing = join(dataDir, 'no-such-folder', 'out.json');
    await bad('session_export', { sessionId, path: missing, format: 'playwright' }, /folder .*no-such-folder does not exist/);
    expect(existsSync(missing)).toBe(false);
    await bad('session_export', { sessionId, path: 'relative.json', format: 'playwright' }, /path must be absolute/);
    await bad('browser_navigate', {}, /Invalid arguments for tool "browser_navigate"/);
    await bad('no_such_tool', {}, /unknown tool "no_such_tool"/);
    // Still serving, and the session is untouched.
    expect(await ok(server!, 'list_sessions')).toContain(`${sessionId} (current)`);
    expect(await ok(server!, 'session_snapshots', { sessionId })).toMatch(/^snapshot \d+: /);
  });

  it('only the server SIGKILLed: a new server with --resume auto takes up the running browser', async () => {
    await ok(server!, 'browser_tabs', { action: 'select', index: 0 });
    const pid = server!.transport.pid!;
    const closed = new Promise<void>((r) => (server!.client.onclose = () => r()));
    process.kill(-pid, 'SIGKILL');
    await closed;

    server = await startServer(dataDir, ['--resume', 'auto']);
    const tabs = await ok(server, 'browser_tabs', { action: 'list' });
    expect(tabs.split('\n')[0]).toBe(`restory: --resume took session ${sessionId}, whose browser was running`);
    expect(tabUrls(tabs).sort()).toEqual([...tabsBefore].sort());
    await ok(server, 'browser_navigate', { url: `${site.originA}/account` });
    const state = evaluated<{ who: string; local: string }>(await ok(server, 'browser_evaluate', { function: PAGE_STATE }));
    expect(state).toMatchObject({ who: 'Logged in as alice', local: 'v1' });
  });

  it('--port 0: streamable HTTP on 127.0.0.1; a foreign Host or Origin is refused', async () => {
    const httpDataDir = tempDir('restory-mcp-http-');
    const child = spawn(process.execPath, [BIN, 'mcp', '--port', '0', '--data-dir', httpDataDir], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | string>((r) => child.on('exit', (code, signal) => r(code ?? signal ?? -1)));
    try {
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      const url = await eventually(() => /^(http:\/\/127\.0\.0\.1:\d+\/mcp)$/m.exec(stdout)?.[1], 20_000, 'the HTTP URL on stdout');
      const client = new Client({ name: 'restory-test-http', version: '1' });
      await client.connect(new StreamableHTTPClientTransport(new URL(url)));
      const r = (await client.callTool({ name: 'list_sessions', arguments: {} })) as CallToolResult;
      expect(r.content[0]).toMatchObject({ type: 'text', text: 'no sessions (session_start creates one)' });
      await client.close();

      const init = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'evil', version: '1' } } });
      const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
      // fetch sets Host from the URL; a rebinding attack arrives with the attacker's name in it.
      const port = new URL(url).port;
      const rebound = await new Promise<number>((resolve, reject) => {
        import('node:http').then(({ request }) => {
          const req = request({ host: '127.0.0.1', port, path: '/mcp', method: 'POST', headers: { ...headers, host: `evil.example:${port}` } }, (res) => resolve(res.statusCode ?? 0));
          req.on('error', reject);
          req.end(init);
        }, reject);
      });
      expect(rebound).toBe(403);
      const foreignOrigin = await fetch(url, { method: 'POST', headers: { ...headers, origin: 'http://evil.example' }, body: init });
      expect(foreignOrigin.status).toBe(403);
      const body = (await foreignOrigin.json()) as { error: { message: string } };
      expect(body.error.message).toContain('Origin "http://evil.example" refused');
    } finally {
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  });
});
