/**
 * What a shared-store URL looks like and how it is shown (never with its password). Apart from
 * pg-connection.ts so that deciding which store to open does not load the PostgreSQL driver
 * (~0.1 s of CPU that `list` on the embedded store does not need).
 */
export const STORE_URL_ENV = 'RESTORY_STORE_URL';

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

/** The URL as it may be printed: the password (if any) replaced by `***`. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    // A password may also come as a query parameter (libpq's `?password=`).
    if (u.searchParams.has('password')) u.searchParams.set('password', '***');
    return u.toString();
  } catch {
    return url.replace(/\/\/([^:/@]*):[^@]*@/, '//$1:***@');
  }
}
