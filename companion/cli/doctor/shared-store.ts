/**
 * `restory doctor` with a shared store (--store / RESTORY_STORE_URL): is the server reachable, is
 * its schema one this restory reads, may this user write it. The URL is shown without its password.
 * Only reads: nothing is migrated.
 */
import pg from 'pg';
import { redactUrl } from '../../store/store-url.js';
import { PG_LATEST_SCHEMA_VERSION } from '../../store/pg-migrations.js';
import { errorMessage, fail, ok, warn, type CheckResult } from './result.js';

const NAME = 'shared store';

export async function checkSharedStore(url: string): Promise<CheckResult> {
  const where = redactUrl(url);
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  client.on('error', () => {}); // a server that goes away mid-check fails the query below
  try {
    await client.connect();
  } catch (e) {
    // The driver's message names host and port at most, never the password; keep only its first line.
    return fail(NAME, `cannot reach ${where}: ${errorMessage(e).split('\n')[0]}`, 'start the PostgreSQL server, or fix the URL (--store / RESTORY_STORE_URL)');
  }
  try {
    const server = (await client.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]?.v ?? '?';
    const meta = (await client.query<{ t: string | null }>("SELECT to_regclass('restory_meta')::text AS t")).rows[0]?.t;
    const version = meta
      ? Number((await client.query<{ value: string }>("SELECT value FROM restory_meta WHERE key = 'schema_version'")).rows[0]?.value ?? 0)
      : 0;
    if (version > PG_LATEST_SCHEMA_VERSION) {
      return fail(NAME, `${where}: schema ${version} was written by a newer restory (this one reads up to ${PG_LATEST_SCHEMA_VERSION})`, 'upgrade restory');
    }
    const privileges = version === 0
      ? (await client.query<{ ok: boolean }>("SELECT has_database_privilege(current_database(), 'CREATE') AND has_schema_privilege(current_schema(), 'CREATE') AS ok")).rows[0]?.ok
      : (await client.query<{ ok: boolean }>("SELECT has_table_privilege('sessions', 'SELECT,INSERT,UPDATE,DELETE') AND has_table_privilege('capture_batches', 'SELECT,INSERT,DELETE') AND has_table_privilege('session_snapshots', 'SELECT,INSERT,DELETE') AS ok")).rows[0]?.ok;
    if (!privileges) {
      return fail(NAME, `${where}: this user may not ${version === 0 ? 'create the schema' : 'write the restory tables'}`, 'GRANT the user those privileges, or use the owner of the database');
    }
    if (version === 0) return warn(NAME, `${where}: PostgreSQL ${server} reachable, no restory schema yet (the first companion creates it)`);
    const note = version < PG_LATEST_SCHEMA_VERSION ? ` (migrated to ${PG_LATEST_SCHEMA_VERSION} at the next start)` : '';
    return ok(NAME, `${where}: PostgreSQL ${server}, schema ${version}${note}, writable`);
  } catch (e) {
    return fail(NAME, `${where}: ${errorMessage(e).split('\n')[0]}`);
  } finally {
    await client.end().catch(() => {});
  }
}
