/**
 * `restory mcp`: an MCP server on stdio (companion/mcp/server.ts) that is the companion of its data
 * dir, so its sessions are captured and survive like `restory start`'s. stdout belongs to the MCP
 * protocol: notices go to stderr. It runs until the client closes stdin or sends SIGINT/SIGTERM;
 * then, as `start` does on Ctrl-C, final snapshots, browsers ended, sessions left resumable.
 */
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { Companion } from '../../companion.js';
import { createMcpServer } from '../../mcp/server.js';
import type { ResumeMode } from '../../mcp/current-session.js';
import { dataDirOf, headedFlag, parseCommand, UsageError } from '../args.js';
import { SPECS } from '../command-specs.js';

export async function run(argv: string[]): Promise<number> {
  const { values } = parseCommand(SPECS.mcp, argv);
  const headed = headedFlag(values.headed);
  const resume = resumeMode(values.resume);
  const companion = await Companion.open({ dataDir: dataDirOf(values), onNotice: (m) => process.stderr.write(`restory: ${m}\n`) });
  const mcp = createMcpServer(companion, { headed, resume });
  const transport = new StdioServerTransport();

  let stopping: Promise<void> | null = null;
  const stop = (why: string): Promise<void> =>
    (stopping ??= (async () => {
      process.stderr.write(`restory mcp: ${why}: saving and stopping…\n`);
      await mcp.close();
      await companion.shutdown();
      await mcp.server.close().catch(() => {});
    })());
  const ended = new Promise<void>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void stop(signal).then(resolve, resolve));
    // The client going away is the usual end of a stdio MCP server.
    process.stdin.once('end', () => void stop('stdin closed').then(resolve, resolve));
    transport.onclose = () => void stop('transport closed').then(resolve, resolve);
  });
  try {
    await mcp.server.connect(transport);
  } catch (e) {
    await stop('failed to start');
    throw e;
  }
  process.stderr.write(`restory mcp: serving on stdio (data dir ${companion.dataDir})\n`);
  await ended;
  return 0;
}

function resumeMode(value: string | undefined): ResumeMode {
  if (value === undefined || value === 'none') return { kind: 'none' };
  if (value === 'auto') return { kind: 'auto' };
  if (!/^[0-9a-f][0-9a-f-]{0,35}$/i.test(value)) throw new UsageError(`--resume ${JSON.stringify(value)}: give auto, none or a session id (or a prefix of one)`);
  return { kind: 'id', id: value };
}
