/** sql.js loaded once per process, its wasm read from node_modules. */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import initSqlJs, { type SqlJsStatic } from 'sql.js';

let loading: Promise<SqlJsStatic> | undefined;

export function loadSqlJs(): Promise<SqlJsStatic> {
  if (!loading) {
    const require = createRequire(import.meta.url);
    const dir = dirname(require.resolve('sql.js'));
    loading = initSqlJs({ locateFile: (file: string) => join(dir, file) });
  }
  return loading;
}
