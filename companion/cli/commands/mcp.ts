/**
 * `restory mcp`: an MCP server (companion/mcp/server.ts) working through the companion of its data
 * dir, so its sessions are captured and survive like `restory start`'s: the one already running
 * there (over its socket), or, when none runs, this process as the companion
 * (companion/mcp/companion-route.ts). On stdio by default (stdout belongs to the protocol: notices
 * go to stderr), or streamable HTTP on 127.0.0.1 with --port (companion/mcp/http.ts). It runs
 * until SIGINT/SIGTERM or, on stdio, until the client closes stdin; then, as the companion, as
 * `start` does on Ctrl-C (final snapshots, browsers ended, sessions resumable); beside a running
 * companion it only hangs up, and the browsers run on in that companion.
 */
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { CompanionRoute } from '../../mcp/companion-route.js';
import type { ResumeMode } from '../../mcp/current-session.js';
import { serveHttp } from '../../mcp/http.js';
import { createMcpServer } from '../../mcp/server.js';
import { dataDirOf, headedFlag, intFlag, parseCommand, UsageError } from '../args.js';
import { SPECS } from '../command-specs.js';

export async function run(argv: string[]): Promise<number> {
  const { values } = parseCommand(SPECS.mcp, argv);
  const headed = headedFlag(values.headed);
  const resume = resumeMode(values.resume);
  const port = intFlag('port', values.port, 0, 65535);
  const companion = await CompanionRoute.open(dataDirOf(values), (m) => process.stderr.write(`${m}\n`));
  const route = companion.route;
  if (route.kind === 'client') process.stderr.write(`restory mcp: a companion runs on ${companion.dataDir} (pid ${route.pid}); working through it\n`);

  let closeServer: () => Promise<void> = async () => {};
  let stopping: Promise<void> | null = null;
  const stop = (why: string): Promise<void> =>
    (stopping ??= (async () => {
      // Decided now: the running companion may have stopped meanwhile, and this process taken over.
      const now = companion.route;
      process.stderr.write(
        now.kind === 'client'
          ? `restory mcp: ${why}: stopping; the browsers run on in the companion (pid ${now.pid})\n`
          : `restory mcp: ${why}: saving and stopping…\n`,
      );
      await closeServer().catch(() => {});
      await companion.shutdown();
    })());
  let done!: () => void;
  const ended = new Promise<void>((resolve) => (done = resolve));
  const end = (why: string) => void stop(why).then(done, done);
  process.on('SIGINT', () => end('SIGINT'));
  process.on('SIGTERM', () => end('SIGTERM'));

  try {
    if (port !== undefined) {
      const http = await serveHttp(companion, { headed, resume }, port);
      closeServer = () => http.close();
      // The URL goes to stdout too: a script starting `--port 0` reads the port it got.
      process.stdout.write(`${http.url}\n`);
      process.stderr.write(`restory mcp: serving streamable HTTP at ${http.url} (data dir ${companion.dataDir})\n`);
    } else {
      const mcp = createMcpServer(companion, { headed, resume });
      const transport = new StdioServerTransport();
      closeServer = async () => {
        await mcp.close();
        await mcp.server.close().catch(() => {});
      };
      // The client going away is the usual end of a stdio MCP server.
      process.stdin.once('end', () => end('stdin closed'));
      transport.onclose = () => end('transport closed');
      await mcp.server.connect(transport);
      process.stderr.write(`restory mcp: serving on stdio (data dir ${companion.dataDir})\n`);
    }
  } catch (e) {
    await stop('failed to start');
    throw e;
  }
  await ended;
  return 0;
}

function resumeMode(value: string | undefined): ResumeMode {
  if (value === undefined || value === 'none') return { kind: 'none' };
  if (value === 'auto') return { kind: 'auto' };
  if (!/^[0-9a-f][0-9a-f-]{0,35}$/i.test(value)) throw new UsageError(`--resume ${JSON.stringify(value)}: give auto, none or a session id (or a prefix of one)`);
  return { kind: 'id', id: value };
}
