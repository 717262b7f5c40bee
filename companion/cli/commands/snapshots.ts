import { SqlJsStore } from '../../store/sqljs-store.js';
import { currentTab } from '../../store/records.js';
import { ago, dataDirOf, parse, requirePositional } from '../args.js';

export const usage = 'snapshots <id> [--json]   the stored snapshots of a session, newest first';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { json: { type: 'boolean' } }, 1);
  const sessionId = requirePositional(positionals, 0, 'session id (see: restory list)');
  const store = await SqlJsStore.open({ dataDir: dataDirOf(values), readOnly: true });
  try {
    store.requireSession(sessionId);
    // At most snapshotsKept rows, so loading each state for its counts is cheap enough.
    const rows = store.listSnapshots(sessionId).map((info) => {
      const { state } = store.requireSnapshot(sessionId, info.id);
      return {
        id: info.id,
        takenAt: info.takenAt,
        reason: info.reason,
        bytes: info.bytes,
        tabs: state.tabs.length,
        cookies: state.cookies.length,
        origins: state.origins.length,
        url: currentTab(state)?.url ?? null,
      };
    });
    if (values.json) process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
    else if (rows.length === 0) process.stdout.write('no snapshots yet\n');
    else {
      for (const r of rows) {
        process.stdout.write(
          `${String(r.id).padEnd(6)} ${new Date(r.takenAt).toISOString()} (${ago(r.takenAt)})  ${r.reason.padEnd(10)} ${r.tabs} tabs, ${r.cookies} cookies, ${r.origins} origins  ${r.url ?? ''}\n`,
        );
      }
    }
    return 0;
  } finally {
    await store.close();
  }
}
