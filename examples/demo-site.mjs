// A tiny site for the examples: /login?user=NAME sets an httpOnly session cookie; every page says
// who is logged in (from that cookie) and what the page's localStorage holds.
import { createServer } from 'node:http';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export async function startDemoSite() {
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/login') {
      res.writeHead(302, { location: '/', 'set-cookie': `sid=${encodeURIComponent(url.searchParams.get('user'))}; HttpOnly; Path=/; SameSite=Lax` });
      return res.end();
    }
    const user = /(?:^|; )sid=([^;]*)/.exec(req.headers.cookie ?? '')?.[1];
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<!doctype html><title>demo</title><p id="who">${user ? `Logged in as ${decodeURIComponent(user)}` : 'Not logged in'}</p>`);
  }).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => server.close() };
}

const RESTORY = fileURLToPath(new URL('../bin/restory.js', import.meta.url));

/** Run a restory command to its end; its stdout, or an error with its stderr. */
export function restory(...args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [RESTORY, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`restory ${args.join(' ')}: ${err}`))));
  });
}

/**
 * `restory start|resume … --json` keeps running (it is the companion): resolve with the first JSON
 * line it prints ({sessionId, cdpEndpoint}) and the process, to stop (SIGINT) or kill later.
 */
export function restoryForeground(...args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [RESTORY, ...args, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve({ ...JSON.parse(out.slice(0, out.indexOf('\n'))), process: child });
    });
    child.on('close', (code) => reject(new Error(`restory ${args.join(' ')} exited (${code}): ${err}`)));
  });
}

/**
 * Wait until the session's newest snapshot satisfies `check`. Capture reports within about a second
 * and is durable at once; `export` shows snapshots, taken a few seconds after navigations and
 * every 30 s, so a new session has none for its first seconds.
 */
export async function waitForCapture(sessionId, dataDir, check) {
  for (let i = 0; i < 60; i++) {
    const exported = await restory('export', sessionId, '--data-dir', dataDir).catch(() => null);
    if (exported && check(JSON.parse(exported).state)) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error('no snapshot with the state within 30 s');
}
