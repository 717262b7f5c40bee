/**
 * `restory import`: a Playwright storageState file or a restory export becomes a new session that
 * can be resumed like any other (state `recoverable`, one `import` snapshot).
 */
import { randomUUID } from 'node:crypto';
import { RestoryError } from '../../shared/errors.js';
import { parseMessage } from '../../shared/validate.js';
import { PlaywrightStorageStateSchema, RestoryExportSchema, type SessionState } from '../../shared/state.js';
import type { Store } from '../store/store.js';

/** Parse an import file's JSON into a state and a default name. */
export function stateFromImport(json: unknown, fileName: string, now: number): { name: string; state: SessionState } {
  const kind = typeof json === 'object' && json !== null && (json as { format?: unknown }).format === 'restory' ? 'restory' : 'playwright';
  if (kind === 'restory') {
    const exported = parseMessage(RestoryExportSchema, json, `restory export ${fileName}`);
    return { name: exported.session.name, state: exported.state };
  }
  if (typeof json !== 'object' || json === null || !('cookies' in json)) {
    throw new RestoryError('bad_message', `${fileName} is neither a restory export nor a Playwright storageState file`);
  }
  const storage = parseMessage(PlaywrightStorageStateSchema, json, `Playwright storageState ${fileName}`);
  return {
    name: `imported ${fileName}`,
    state: { cookies: storage.cookies, origins: storage.origins, tabs: [], windows: [], capturedAt: now },
  };
}

export async function importSession(store: Store, input: { name: string; state: SessionState }): Promise<string> {
  const id = randomUUID();
  await store.createSession({ id, name: input.name, state: 'recoverable', initial: input.state });
  await store.saveSnapshot(id, 'import', { state: input.state });
  return id;
}
