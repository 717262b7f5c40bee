/**
 * One line of `restory doctor`'s report. `warn` is for what works but deserves a look, `fail` for
 * what breaks restory (any FAIL makes doctor exit 1). A check that finds a problem says how to fix
 * it in `fix`.
 */
export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface CheckResult {
  name: string;
  status: CheckStatus;
  message: string;
  /** The command (or step) that fixes it. */
  fix?: string;
}

// The key order here is the key order of `doctor --json`.
export const ok = (name: string, message: string): CheckResult => ({ name, status: 'ok', message });
export const warn = (name: string, message: string, fix?: string): CheckResult => ({ name, status: 'warn', message, ...(fix ? { fix } : {}) });
export const fail = (name: string, message: string, fix?: string): CheckResult => ({ name, status: 'fail', message, ...(fix ? { fix } : {}) });

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
