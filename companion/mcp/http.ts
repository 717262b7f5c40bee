/**
 * `restory mcp --port N`: the same tools over MCP's streamable HTTP transport (official SDK), on
 * 127.0.0.1 only. The browser a session runs can hold the user's logins, so a web page must not be
 * able to drive it: every request's Host must name this loopback listener and an Origin, when
 * sent, must be a loopback origin on this port (DNS-rebinding protection, as the MCP
 * specification asks). Checked here rather than with the transport's allowedHosts options, which
 * the SDK marks deprecated in favour of doing it in front of the transport.
 *
 * Each MCP session (one `initialize`) gets its own server and current session (server.ts); they
 * share the companion route (this process, or the data dir's running companion), so all of them
 * see the data dir's sessions.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { CompanionRoute } from './companion-route.js';
import { createMcpServer, type McpOptions, type RestoryMcp } from './server.js';

export interface HttpMcp {
  url: string;
  close(): Promise<void>;
}

const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '[::1]'];

/** Why a request is refused (403), or null when its Host and Origin are this loopback listener. */
export function refusal(headers: IncomingMessage['headers'], port: number): string | null {
  const allowedHosts = LOOPBACK_HOSTS.map((h) => `${h}:${port}`);
  const host = headers.host;
  if (!host || !allowedHosts.includes(host.toLowerCase())) return `Host ${JSON.stringify(host ?? '')} refused: this server answers only to ${allowedHosts[0]}`;
  const origin = headers.origin;
  if (origin !== undefined && !allowedHosts.some((h) => origin.toLowerCase() === `http://${h}`)) {
    return `Origin ${JSON.stringify(origin)} refused: only loopback origins on port ${port} may call this server`;
  }
  return null;
}

export async function serveHttp(companion: CompanionRoute, opts: McpOptions, port: number): Promise<HttpMcp> {
  const sessions = new Map<string, { transport: StreamableHTTPServerTransport; mcp: RestoryMcp }>();
  const send = (res: ServerResponse, status: number, message: string) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
  };

  const http = createServer((req, res) => {
    void (async () => {
      const why = refusal(req.headers, (http.address() as AddressInfo).port);
      if (why) return send(res, 403, why);
      if (new URL(req.url ?? '/', 'http://127.0.0.1').pathname !== '/mcp') return send(res, 404, 'the MCP endpoint is /mcp');
      const sessionId = req.headers['mcp-session-id'];
      if (typeof sessionId === 'string') {
        const known = sessions.get(sessionId);
        if (!known) return send(res, 404, `unknown MCP session ${sessionId}; initialize again`);
        return known.transport.handleRequest(req, res);
      }
      // No session yet: this must be an initialize request (the transport refuses anything else).
      const mcp = createMcpServer(companion, opts);
      const transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => void sessions.set(id, { transport, mcp }),
      });
      transport.onclose = () => {
        if (transport.sessionId) sessions.delete(transport.sessionId);
        void mcp.close();
      };
      await mcp.server.connect(transport);
      await transport.handleRequest(req, res);
      if (!transport.sessionId) await mcp.server.close().catch(() => {});
    })().catch((e: Error) => {
      if (!res.headersSent) send(res, 500, e.message);
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`;
  return {
    url,
    async close() {
      for (const { mcp } of sessions.values()) {
        await mcp.close();
        await mcp.server.close().catch(() => {});
      }
      sessions.clear();
      http.closeAllConnections();
      await new Promise<void>((r) => http.close(() => r()));
    },
  };
}
