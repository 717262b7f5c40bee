/**
 * `restory mcp`: one MCP server (official SDK, low-level `Server`) in front of two tool sets —
 * Playwright's browser tools (browser-tools.ts) and restory's session tools (session-tools.ts) —
 * working through the data dir's companion: this process, or the one already running there
 * (companion-route.ts). The low-level server, not `McpServer`: the
 * browser tools come with JSON Schemas made by playwright-core's own zod copy, which McpServer's
 * registerTool cannot take as they are.
 *
 * Tool calls run one at a time: a browser tool may launch or resume a browser, and two of them
 * racing would resume the same session twice.
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { packageVersion } from '../project-root.js';
import { BrowserTools } from './browser-tools.js';
import type { CompanionRoute } from './companion-route.js';
import { CurrentSession, type ResumeMode } from './current-session.js';
import { SessionTools } from './session-tools.js';
import { errorResult, type ToolResult } from './tool-result.js';

export interface McpOptions {
  headed?: boolean;
  resume: ResumeMode;
}

export interface RestoryMcp {
  server: Server;
  /** Drop the browser tools' connection (the companion, not the MCP server, ends the browsers). */
  close(): Promise<void>;
}

export function createMcpServer(companion: CompanionRoute, opts: McpOptions): RestoryMcp {
  const current = new CurrentSession(companion, { headed: opts.headed, resume: opts.resume });
  const browserTools = new BrowserTools(current, companion.dataDir);
  const sessionTools = new SessionTools(companion, current, () => browserTools.dispose(), opts.headed);

  const server = new Server({ name: 'restory', version: packageVersion() }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: [...sessionTools.listing(), ...browserTools.listing()] }));

  let queue: Promise<unknown> = Promise.resolve();
  server.setRequestHandler(CallToolRequestSchema, (request) => {
    const { name, arguments: args = {} } = request.params;
    const run = async (): Promise<ToolResult> => {
      let result: ToolResult;
      try {
        if (sessionTools.has(name)) result = await sessionTools.call(name, args);
        else if (browserTools.has(name)) result = await browserTools.call(name, args);
        else result = errorResult(`unknown tool "${name}"; tools/list shows the tools`);
      } catch (e) {
        // One line for the model; the server keeps serving.
        result = errorResult(`${name}: ${firstLine((e as Error).message ?? String(e))}`);
      }
      // The companion changed under this call (the running one stopped; this process took over).
      const notices = companion.takeNotices();
      if (notices.length === 0) return result;
      return { ...result, content: [...notices.map((text) => ({ type: 'text' as const, text })), ...result.content] };
    };
    const result = queue.then(run, run);
    queue = result.catch(() => {});
    return result;
  });
  return { server, close: () => browserTools.dispose() };
}

function firstLine(message: string): string {
  return message.split('\n').find((l) => l.trim() !== '')?.trim() ?? 'failed';
}
