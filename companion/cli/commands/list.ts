/**
 * `restory list`. Without a companion it answers from the session index when that can tell
 * (backend/index-list.ts), which loads neither zod nor sql.js; otherwise through withBackend,
 * imported only then.
 */
import type { SessionStatus, SessionSummary } from '../../../shared/state.js';
import { storageLimitNote } from '../../../shared/storage-limit-note.js';
import { ago, dataDirOf, parseCommand } from '../args.js';
import { sessionsFromIndex } from '../backend/index-list.js';
import { SPECS } from '../command-specs.js';

export async function run(argv: string[]): Promise<number> {
  const { values } = parseCommand(SPECS.list, argv);
  // parseCommand checked it against the spec's choices.
  const state = values.state as SessionStatus | undefined;
  const dataDir = dataDirOf(values);
  const indexed = await sessionsFromIndex(dataDir);
  const sessions = indexed
    ? indexed.filter((s) => !state || s.state === state)
    : await (await import('../backend.js')).withBackend(dataDir, (backend) => backend.list(state));
  if (values.json) {
    process.stdout.write(JSON.stringify(sessions, null, 2) + '\n');
    return 0;
  }
  if (sessions.length === 0) {
    process.stdout.write(state ? `no ${state} sessions\n` : 'no sessions yet; start one with: restory start\n');
    return 0;
  }
  const rows = sessions.map((s: SessionSummary) => [
    s.id,
    s.name,
    s.storageLimit ? `${s.state} ${LIMIT_MARK}` : s.state,
    String(s.tabCount),
    s.currentUrl ?? '-',
    ago(s.lastSnapshotAt),
    s.lastError ?? '',
  ]);
  const header = ['ID', 'NAME', 'STATE', 'TABS', 'URL', 'SNAPSHOT', 'LAST ERROR'];
  const widths = header.map((h, i) => Math.min(60, Math.max(h.length, ...rows.map((r) => r[i].length))));
  for (const row of [header, ...rows]) {
    process.stdout.write(row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd() + '\n');
  }
  const limited = sessions.filter((s) => s.storageLimit);
  if (limited.length > 0) process.stdout.write('\n');
  for (const s of limited) process.stdout.write(`${LIMIT_MARK} ${s.id}: ${storageLimitNote(s.storageLimit!)}\n`);
  return 0;
}

/** After the state of a session that reached its storage limit; explained under the table. */
const LIMIT_MARK = '(!)';
