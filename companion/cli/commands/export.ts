import { z } from 'zod';
import { parseMessage } from '../../../shared/validate.js';
import type { PlaywrightStorageState, RestoryExport } from '../../../shared/state.js';
import { SqlJsStore } from '../../store/sqljs-store.js';
import { dataDirOf, intFlag, parse, requirePositional } from '../args.js';

export const usage = 'export <id> [--snapshot K] [--format restory|playwright]   print a snapshot as JSON';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { snapshot: { type: 'string' }, format: { type: 'string' } }, 1);
  const sessionId = requirePositional(positionals, 0, 'session id (see: restory list)');
  const format = parseMessage(z.enum(['restory', 'playwright']), values.format ?? 'restory', '--format');
  const snapshotId = intFlag('snapshot', values.snapshot, 1, Number.MAX_SAFE_INTEGER);
  const store = await SqlJsStore.open({ dataDir: dataDirOf(values), readOnly: true });
  try {
    const session = store.requireSession(sessionId);
    const snapshot = store.requireSnapshot(sessionId, snapshotId);
    process.stderr.write('restory: warning: this export holds cookies and storage — credentials. Keep it private.\n');
    const out: RestoryExport | PlaywrightStorageState =
      format === 'playwright'
        ? {
            cookies: snapshot.state.cookies,
            // Partitioned iframe storage has no place in Playwright's format.
            origins: snapshot.state.origins.filter((o) => !o.topOrigin).map((o) => ({ origin: o.origin, localStorage: o.localStorage })),
          }
        : {
            format: 'restory',
            version: 1,
            session: { id: session.id, name: session.name, createdAt: session.createdAt },
            snapshot: { id: snapshot.id, takenAt: snapshot.takenAt, reason: snapshot.reason },
            state: snapshot.state,
          };
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    return 0;
  } finally {
    await store.close();
  }
}
