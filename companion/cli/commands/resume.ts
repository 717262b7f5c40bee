import type { ResumeReport } from '../../../shared/protocol.js';
import { prelaunchSessionBrowser } from '../../session/session-browser-spawn.js';
import { companionListening } from '../../socket/probe.js';
import { dataDirOf, headedFlag, intFlag, parse, requirePositional } from '../args.js';
import { foreground } from '../foreground.js';

/** The shape of the ids restory makes (crypto.randomUUID). */
const WHOLE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const usage = 'resume <id> [--snapshot K] [--headed] [--cdp-port P]   relaunch a session with its state restored';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    argv,
    { snapshot: { type: 'string' }, headed: { type: 'boolean' }, 'cdp-port': { type: 'string' }, json: { type: 'boolean' } },
    1,
  );
  const snapshotId = intFlag('snapshot', values.snapshot, 1, Number.MAX_SAFE_INTEGER);
  const cdpPort = intFlag('cdp-port', values['cdp-port'], 0, 65535);
  const headed = headedFlag(values.headed);
  const dataDir = dataDirOf(values);
  // An unambiguous prefix of the id will do (cli/backend.ts). Resolving one opens the store an extra
  // time (~0.3 s), which a whole id, as scripts and the popup pass it, does not need.
  const typed = requirePositional(positionals, 0, 'session id (see: restory list)');
  const sessionId = WHOLE_ID.test(typed) ? typed : await (await import('../backend.js')).resolveSessionIdIn(dataDir, typed);

  // A companion already running for this data dir launches the browser itself.
  if (await companionListening(dataDir)) {
    const { CompanionClient } = await import('../../socket/client.js');
    const client = await CompanionClient.connect(dataDir);
    if (client) {
      try {
        printReport(await client.request('resume', { sessionId, snapshotId, headed, cdpPort }), values.json);
        return 0;
      } finally {
        client.close();
      }
    }
  }
  // Chromium starts now, while the companion is loaded and opens the store (session-browser-spawn.ts);
  // the modules that needs are imported only after.
  const prelaunched = prelaunchSessionBrowser(dataDir, sessionId, { headed, cdpPort }) ?? undefined;
  await prelaunched?.started;
  const { Companion } = await import('../../companion.js');
  const companion = await Companion.open({ dataDir, onNotice: (m) => process.stderr.write(`restory: ${m}\n`), prelaunched });
  const waiting = foreground(companion);
  try {
    const already = companion.runningSessions.find((r) => r.sessionId === sessionId);
    if (already) {
      // Its browser outlived the previous companion and was adopted (or auto-resume resumed it).
      if (values.json) process.stdout.write(JSON.stringify({ sessionId, cdpEndpoint: already.cdpEndpoint }) + '\n');
      else process.stdout.write(`session ${sessionId}\ncdp ${already.cdpEndpoint}\n`);
      process.stderr.write(`restory: session ${sessionId} is running; this companion adopted its browser\n`);
    } else {
      const { session, report } = await companion.resume(sessionId, { snapshotId, headed, cdpPort });
      session.release();
      printReport(report, values.json);
    }
  } catch (e) {
    await companion.shutdown();
    throw e;
  }
  return waiting.run();
}

function printReport(r: ResumeReport, json = false): void {
  if (json) {
    process.stdout.write(JSON.stringify({ sessionId: r.sessionId, cdpEndpoint: r.cdpEndpoint, report: r }) + '\n');
    for (const w of r.warnings) process.stderr.write(`restory: warning: ${w}\n`);
    return;
  }
  process.stdout.write(`session ${r.sessionId}\n`);
  if (r.cdpEndpoint) process.stdout.write(`cdp ${r.cdpEndpoint}\n`);
  process.stdout.write(`restored snapshot ${r.snapshotId}: ${r.cookies} cookies, ${r.origins} origins, ${r.tabs.filter((t) => t.ok).length}/${r.tabs.length} tabs\n`);
  for (const t of r.tabs.filter((t) => !t.ok)) process.stdout.write(`failed tab ${t.url}: ${t.error ?? 'unknown error'}\n`);
  for (const f of r.failures) process.stdout.write(`failed ${f.what}: ${f.error}\n`);
  for (const w of r.warnings) process.stderr.write(`restory: warning: ${w}\n`);
}
