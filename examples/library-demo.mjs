// Runnable example of the library API (after `npm run build`): node examples/library-demo.mjs
// Starts a session on a tiny local page, writes state, "crashes" by shutting the companion down,
// then opens a new companion on the same data dir and resumes the session with its state.
import { createServer } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCompanion } from '../dist/companion/api.js';

const server = createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/html' });
  res.end('<!doctype html><title>demo</title><input id="q"><script>document.title = localStorage.getItem("q") ?? "empty"</script>');
}).listen(0, '127.0.0.1');
await new Promise((r) => server.once('listening', r));
const url = `http://127.0.0.1:${server.address().port}/`;
const dataDir = mkdtempSync(join(tmpdir(), 'restory-demo-'));

const companion = await openCompanion({ dataDir, config: { snapshotIntervalMs: 1000 } });
const { sessionId, context } = await companion.start({ urls: [url], name: 'demo' });
const page = context.pages()[0];
await page.fill('#q', 'hello');
await page.evaluate(() => localStorage.setItem('q', 'hello from before the restart'));
// Capture reports a page's writes within a second; wait until the companion has it.
const captured = async () => (await companion.currentState(sessionId)).origins.some((o) => o.localStorage.some((i) => i.name === 'q'));
for (let i = 0; i < 100 && !(await captured()); i++) await new Promise((r) => setTimeout(r, 100));
await companion.shutdown(); // or: the process dies

const again = await openCompanion({ dataDir });
console.log('after restart:', (await again.list()).map((s) => `${s.name} ${s.state}`).join(', '));
const { session, report } = await again.resume(sessionId);
console.log(`restored ${report.tabs.filter((t) => t.ok).length}/${report.tabs.length} tabs`);
console.log('page title on first load:', await session.context.pages().find((p) => p.url() === url).title());
await again.close(sessionId);
await again.shutdown();
server.close();
