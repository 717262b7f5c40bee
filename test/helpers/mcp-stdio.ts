/**
 * The real `restory mcp` over stdio, driven by the MCP SDK's own Client, as an MCP client (Claude,
 * Cursor…) runs it; and the parsing of Playwright MCP's results the tests need.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { BIN } from './restory-cli.js';

export interface McpStdio {
  client: Client;
  transport: StdioClientTransport;
  stderr: () => string;
  call(name: string, args?: Record<string, unknown>): Promise<{ text: string; isError: boolean }>;
}

/** `restory mcp` in its own process group (setsid), so a test can SIGKILL the whole group. */
export async function startMcp(dataDir: string, extra: string[] = [], env: Record<string, string> = {}): Promise<McpStdio> {
  const transport = new StdioClientTransport({
    command: 'setsid',
    args: [process.execPath, BIN, 'mcp', '--data-dir', dataDir, ...extra],
    env: { ...(process.env as Record<string, string>), ...env },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const client = new Client({ name: 'restory-test', version: '1' });
  await client.connect(transport);
  return {
    client,
    transport,
    stderr: () => stderr,
    async call(name, args = {}) {
      const r = (await client.callTool({ name, arguments: args })) as CallToolResult;
      const text = r.content.map((c) => (c.type === 'text' ? c.text : `[${c.type}]`)).join('\n');
      return { text, isError: r.isError === true };
    },
  };
}

/** A tool call that must succeed; its text. */
export async function ok(server: McpStdio, name: string, args: Record<string, unknown> = {}): Promise<string> {
  const r = await server.call(name, args);
  if (r.isError) throw new Error(`${name} failed: ${r.text}\nserver stderr:\n${server.stderr()}`);
  return r.text;
}

/** What browser_evaluate's "### Result" section holds, parsed. */
export function evaluated<T>(text: string): T {
  const m = /### Result\n([\s\S]*?)(?:\n### |$)/.exec(text);
  if (!m) throw new Error(`no result in: ${text}`);
  return JSON.parse(m[1]) as T;
}
