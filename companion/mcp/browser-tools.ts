/**
 * The browser tools: Playwright's own MCP tools (browser_navigate, browser_snapshot, browser_click,
 * browser_type, browser_tabs, browser_evaluate, …), names, schemas and results unchanged, run by
 * playwright-core's `BrowserBackend` — the class `@playwright/mcp` (`tools.createConnection`) wraps —
 * on the browser of the current restory session.
 *
 * In process, over the session's CDP endpoint, with a connection of our own. Why not the
 * companion's own context (the one `start`/`resume` return)?
 *  - That connection is the restore's: it carries `page.route` stubs and per-tab sessionStorage
 *    init scripts while restoring, and the companion drops it by design once restored (an attached
 *    client instruments every page load; README "Performance"). A separate `connectOverCDP` starts
 *    clean and costs ~55 ms on this machine (measured 2026-12-02, prototype against a running
 *    session), against 2–9 s for the resume itself.
 *  - A browser adopted after the previous `restory mcp` was SIGKILLed has no companion context at
 *    all — only its CDP endpoint (browsers/<id>.json). One route for started, resumed and adopted
 *    browsers is the sturdier one.
 *  - When the browser dies, Playwright's `disconnected` fires at once; the next call reconnects to
 *    whatever endpoint the resumed browser got.
 * Not `tools.createConnection(config, contextGetter)` itself: it returns its own MCP `Server` (from
 * the SDK copy bundled in playwright-core), which cannot share one server with the session tools,
 * and it caches the backend until a disconnect with no hook for the resume notice. The backend and
 * `filteredTools` it is built from are exported next to it and used here directly.
 *
 * Tools left out: `browser_close` (it would close the session's last page; `session_close` ends a
 * session and keeps it listed).
 */
import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { chromium } from '../browser/playwright.js';
import type { CurrentSession } from './current-session.js';
import { errorResult, type ToolListing, type ToolResult } from './tool-result.js';

// playwright-core ships these without type declarations (lib/coreBundle is a CommonJS bundle);
// the shapes below are the parts used here, checked against playwright-core 1.65.1.
interface PwSchema {
  safeParse(value: unknown): { success: true } | { success: false; error: unknown };
}
interface PwTool {
  schema: { name: string; title: string; description: string; inputSchema: PwSchema; type: string };
}
interface PwBackend {
  initialize(clientInfo: { cwd: string }): Promise<void>;
  callTool(name: string, args: Record<string, unknown>): Promise<ToolResult>;
  dispose(): Promise<void>;
}
interface PwToolsModule {
  filteredTools(config: PwConfig): PwTool[];
  BrowserBackend: new (config: PwConfig, context: BrowserContext, tools: PwTool[]) => PwBackend;
}
interface PwConfig {
  browser: { browserName: 'chromium'; launchOptions: Record<string, never>; contextOptions: Record<string, never> };
  timeouts: { action: number; navigation: number; expect: number; settle: number };
  outputDir: string;
}

const require = createRequire(import.meta.url);
const { tools: pw } = require('playwright-core/lib/coreBundle') as { tools: PwToolsModule };
// The zod copy the tools' schemas were made with: toJSONSchema from it is what Playwright MCP lists.
const { z: pwZod } = require('playwright-core/lib/utilsBundle') as {
  z: { toJSONSchema(schema: PwSchema): Record<string, unknown>; prettifyError(error: unknown): string };
};

const LEFT_OUT = new Set(['browser_close']);

interface Connection {
  sessionId: string;
  browser: Browser;
  backend: PwBackend;
}

export class BrowserTools {
  private readonly config: PwConfig;
  private readonly tools: PwTool[];
  private conn: Connection | null = null;

  constructor(
    private readonly current: CurrentSession,
    dataDir: string,
  ) {
    // Playwright MCP's defaults (config.ts defaultConfig), with the page snapshots that actions
    // write to files kept in the data dir (owner-only) instead of the client's working directory.
    this.config = {
      browser: { browserName: 'chromium', launchOptions: {}, contextOptions: {} },
      timeouts: { action: 5000, navigation: 60000, expect: 5000, settle: 500 },
      outputDir: join(dataDir, 'mcp-output'),
    };
    this.tools = pw.filteredTools(this.config).filter((t) => !LEFT_OUT.has(t.schema.name));
  }

  has(name: string): boolean {
    return this.tools.some((t) => t.schema.name === name);
  }

  /** As Playwright MCP's server lists them (utils/mcp/tool.ts toMcpTool). */
  listing(): ToolListing[] {
    return this.tools.map(({ schema }) => {
      const readOnly = schema.type === 'readOnly' || schema.type === 'assertion';
      return {
        name: schema.name,
        description: schema.description,
        inputSchema: pwZod.toJSONSchema(schema.inputSchema) as ToolListing['inputSchema'],
        annotations: { title: schema.title, readOnlyHint: readOnly, destructiveHint: !readOnly, openWorldHint: true },
      };
    });
  }

  async call(name: string, args: Record<string, unknown>): Promise<ToolResult> {
    const tool = this.tools.find((t) => t.schema.name === name);
    if (!tool) return errorResult(`unknown tool "${name}"`);
    // Bad input is answered before any browser is launched or resumed for it (the backend would
    // answer the same, with zod's message, but only after that).
    const parsed = tool.schema.inputSchema.safeParse(args);
    if (!parsed.success) return errorResult(`Invalid arguments for tool "${name}": ${pwZod.prettifyError(parsed.error).replace(/\s*\n\s*/g, ' ')}`);
    await this.dropIfDead();
    let ensured = await this.current.ensure();
    let result = await (await this.backendFor(ensured)).callTool(name, args);
    if (this.conn && !this.conn.browser.isConnected()) {
      // The browser died before Playwright had noticed (a kill just before this call): the call
      // failed against the dead one. Resume and run it once more on the restored browser.
      await this.dropIfDead();
      ensured = await this.current.ensure();
      result = await (await this.backendFor(ensured)).callTool(name, args);
    }
    if (!ensured.notice) return result;
    return { ...result, content: [{ type: 'text', text: ensured.notice }, ...result.content] };
  }

  /** The browser died under us: let the companion record its end before ensure() resumes it. */
  private async dropIfDead(): Promise<void> {
    if (!this.conn || this.conn.browser.isConnected()) return;
    const dead = this.conn;
    this.conn = null;
    await dead.backend.dispose().catch(() => {});
    await this.current.waitGone(dead.sessionId);
  }

  async dispose(): Promise<void> {
    const conn = this.conn;
    this.conn = null;
    if (!conn) return;
    await conn.backend.dispose().catch(() => {});
    // Only our CDP connection: the browser belongs to the session (the companion ends it).
    await conn.browser.close().catch(() => {});
  }

  /** The backend for `ensured`'s browser, connecting when the session or its endpoint changed. */
  private async backendFor(ensured: { sessionId: string; cdpEndpoint: string }): Promise<PwBackend> {
    if (!this.conn || this.conn.sessionId !== ensured.sessionId || !this.conn.browser.isConnected()) {
      await this.dispose();
      this.conn = await connect(ensured.sessionId, ensured.cdpEndpoint, this.config, this.tools);
    }
    return this.conn.backend;
  }
}

async function connect(sessionId: string, cdpEndpoint: string, config: PwConfig, tools: PwTool[]): Promise<Connection> {
  mkdirSync(config.outputDir, { recursive: true, mode: 0o700 });
  const browser = await chromium.connectOverCDP(cdpEndpoint);
  const context = browser.contexts()[0];
  if (!context) {
    await browser.close().catch(() => {});
    throw new Error(`the browser of session ${sessionId} has no context at ${cdpEndpoint}`);
  }
  const backend = new pw.BrowserBackend(config, context, tools);
  await backend.initialize({ cwd: config.outputDir });
  return { sessionId, browser, backend };
}
