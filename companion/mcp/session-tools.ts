/**
 * The session tools, named as in the MCP server restory grew from (`list_sessions`,
 * `session_resume`) plus start, close, snapshot, snapshots and export. Each input is a zod schema
 * (validated here; listed as JSON Schema); each result is short text for a model to read.
 *
 * No result ever carries a cookie or storage value: sessions are shown by counts, URLs and ages,
 * and `session_export` writes its (credential-holding) file and answers with the path only.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, isAbsolute } from 'node:path';
import { z } from 'zod';
import { RestoryError } from '../../shared/errors.js';
import type { SessionSummary } from '../../shared/state.js';
import { ago } from '../cli/args.js';
import { writePrivateFile } from '../private-file.js';
import { summarizeReport, type CurrentSession } from './current-session.js';
import type { McpCompanion } from './mcp-companion.js';
import { textResult, type ToolListing, type ToolResult } from './tool-result.js';

/** A session id or an unambiguous prefix of one (as `restory resume 3f1c`). */
const SessionId = z
  .string()
  .regex(/^[0-9a-f][0-9a-f-]{0,35}$/i, 'a session id (or a prefix of one) is hex digits and dashes, e.g. 3f1c7a2e; list_sessions shows them')
  .describe('session id, or an unambiguous prefix of it (see list_sessions)');

interface SessionTool<S extends z.ZodObject> {
  name: string;
  description: string;
  input: S;
  readOnly: boolean;
  handle(args: z.infer<S>): Promise<ToolResult>;
}

function tool<S extends z.ZodObject>(t: SessionTool<S>): SessionTool<S> {
  return t;
}

export class SessionTools {
  // The element type is erased to the base ZodObject: each tool's handle is only ever called with
  // what its own schema parsed (see call()).
  private readonly tools: SessionTool<z.ZodObject>[];

  constructor(
    private readonly companion: McpCompanion,
    private readonly current: CurrentSession,
    /** Drop the browser tools' connection (a session_close of the current session). */
    private readonly onCurrentClosed: () => Promise<void>,
    private readonly headed: boolean | undefined,
  ) {
    this.tools = [
      tool({
        name: 'list_sessions',
        description: 'List restory sessions of this data dir: id, name, state (active, recoverable, stale, closed, failed, error), tab count, current URL, age of the newest snapshot. The current session (the one browser_* tools act on) is marked.',
        input: z.object({ state: z.enum(['active', 'recoverable', 'stale', 'closed', 'failed', 'error']).optional().describe('only sessions in this state') }).strict(),
        readOnly: true,
        handle: async ({ state }) => textResult(this.formatList(await this.companion.list({ state }), await this.companion.runningBrowsers())),
      }),
      tool({
        name: 'session_resume',
        description: 'Restore a session (cookies, localStorage, sessionStorage, tabs with history, scroll) into a fresh browser, or take its browser if it still runs; the browser_* tools then act on it. Returns what was restored (counts, no values).',
        input: z.object({
          sessionId: SessionId,
          snapshotId: z.number().int().positive().optional().describe('snapshot to restore (see session_snapshots); default: the newest'),
        }).strict(),
        readOnly: false,
        handle: async ({ sessionId, snapshotId }) => {
          const id = await this.current.resolve(sessionId);
          await this.onCurrentClosed(); // the browser tools reconnect to the resumed browser
          const { report } = await this.current.resume(id, snapshotId);
          if (!report) return textResult(`session ${id} is running; browser tools now act on it`);
          const lines = [`resumed ${summarizeReport(report)}; browser tools now act on it`];
          for (const t of report.tabs) lines.push(`tab ${t.ok ? 'ok' : 'failed'}: ${t.url}${t.error ? ` (${t.error})` : ''}`);
          for (const f of report.failures) lines.push(`failed ${f.what}: ${f.error}`);
          for (const w of report.warnings) lines.push(`warning: ${w}`);
          return textResult(lines.join('\n'));
        },
      }),
      tool({
        name: 'session_start',
        description: 'Start a new restory session: a fresh browser whose cookies, storage and tabs are captured as they change, so it survives restarts. The browser_* tools then act on it.',
        input: z.object({
          url: z.url({ protocol: /^(https?|about|data|file)$/ }).optional().describe('URL to open (default about:blank)'),
          name: z.string().min(1).max(200).optional().describe('session name'),
        }).strict(),
        readOnly: false,
        handle: async ({ url, name }) => {
          await this.onCurrentClosed();
          const session = await this.companion.start({ urls: url ? [url] : [], name, headed: this.headed });
          this.current.set(session.sessionId);
          return textResult(`started session ${session.sessionId}; browser tools now act on it`);
        },
      }),
      tool({
        name: 'session_close',
        description: 'Close a session: its browser ends after a final snapshot, and the session is kept as closed (its snapshots stay exportable).',
        input: z.object({ sessionId: SessionId }).strict(),
        readOnly: false,
        handle: async ({ sessionId }) => {
          const id = await this.current.resolve(sessionId);
          if (this.current.sessionId === id) {
            await this.onCurrentClosed();
            this.current.set(null);
          }
          await this.companion.close(id);
          return textResult(`closed session ${id}`);
        },
      }),
      tool({
        name: 'session_snapshot',
        description: 'Take a snapshot of the current session now (one is also taken on an interval, after navigations and at shutdown).',
        input: z.object({}).strict(),
        readOnly: false,
        handle: async () => {
          const id = this.current.sessionId;
          if (!id) throw new RestoryError('invalid_state', 'no current session: call session_start or session_resume first');
          const snapshotId = await this.companion.snapshot(id);
          return textResult(snapshotId === null ? `session ${id}: nothing changed since the newest snapshot` : `session ${id}: snapshot ${snapshotId} taken`);
        },
      }),
      tool({
        name: 'session_snapshots',
        description: 'The stored snapshots of a session, newest first: id, age, reason, tabs, cookies and origins counted, URL.',
        input: z.object({ sessionId: SessionId }).strict(),
        readOnly: true,
        handle: async ({ sessionId }) => {
          const id = await this.current.resolve(sessionId);
          const rows = await this.companion.snapshots(id);
          if (rows.length === 0) return textResult(`session ${id} has no snapshots`);
          return textResult(
            rows.map((r) => `snapshot ${r.id}: ${ago(r.takenAt)} (${r.reason}), ${r.tabs} tabs, ${r.cookies} cookies, ${r.origins} origins, ${r.bytes} bytes, ${r.url ?? '-'}`).join('\n'),
          );
        },
      }),
      tool({
        name: 'session_export',
        description: 'Write a session\'s newest snapshot to a new file (mode 0600; an existing file is refused). format "playwright" is a storageState for browser.newContext({ storageState }); "restory" can be brought back with `restory import`. The file holds credentials; the result names only the path.',
        input: z.object({
          sessionId: SessionId,
          path: z.string().refine(isAbsolute, 'path must be absolute, e.g. /tmp/session.json').describe('absolute path of the file to create'),
          format: z.enum(['playwright', 'restory']).describe('playwright: storageState; restory: everything restory restores'),
        }).strict(),
        readOnly: false,
        handle: async ({ sessionId, path, format }) => {
          const id = await this.current.resolve(sessionId);
          const folder = dirname(path);
          if (!existsSync(folder) || !statSync(folder).isDirectory()) throw new RestoryError('storage_failed', `cannot write ${path}: folder ${folder} does not exist`);
          // A running session's newest state, not only what the last scheduled snapshot held.
          if (await this.current.runningEndpoint(id)) await this.companion.snapshot(id);
          // Beside a running companion the values come over its owner-only socket; this process
          // writes the file, since the path is the MCP client's.
          const out = await this.companion.exportSnapshot(id, undefined, format);
          writePrivateFile(path, JSON.stringify(out, null, 2) + '\n', false);
          return textResult(`wrote ${path} (mode 0600, format ${format}); it holds cookies and storage: keep it private`);
        },
      }),
    ] as unknown as SessionTool<z.ZodObject>[];
  }

  has(name: string): boolean {
    return this.tools.some((t) => t.name === name);
  }

  listing(): ToolListing[] {
    return this.tools.map((t) => ({
      name: t.name,
      description: t.description,
      inputSchema: z.toJSONSchema(t.input) as ToolListing['inputSchema'],
      annotations: { readOnlyHint: t.readOnly, destructiveHint: t.name === 'session_close', openWorldHint: false },
    }));
  }

  /** Validate, then run; a bad input is a RestoryError with zod's message on one line. */
  async call(name: string, args: Record<string, unknown>): Promise<ToolResult> {
    const t = this.tools.find((x) => x.name === name);
    if (!t) throw new RestoryError('bad_message', `unknown tool "${name}"`);
    const parsed = t.input.safeParse(args);
    if (!parsed.success) {
      const why = parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; ');
      throw new RestoryError('bad_message', `invalid arguments: ${why}`);
    }
    return t.handle(parsed.data);
  }

  private formatList(sessions: SessionSummary[], running: Map<string, string>): string {
    if (sessions.length === 0) return 'no sessions (session_start creates one)';
    return sessions
      .map((s) => {
        const mark = s.id === this.current.sessionId ? ' (current)' : '';
        const browser = running.has(s.id) ? ', browser running' : '';
        return `${s.id}${mark}  "${s.name}"  ${s.state}${browser}, ${s.tabCount} tabs, ${s.currentUrl ?? '-'}, snapshot ${ago(s.lastSnapshotAt)}${s.lastError ? `, last error: ${s.lastError}` : ''}`;
      })
      .join('\n');
  }
}
