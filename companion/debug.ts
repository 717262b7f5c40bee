/**
 * Namespaced debug logging, off unless DEBUG matches (e.g. DEBUG=restory:* or DEBUG=restory:socket).
 * Callers log ids, counts and sizes — never cookie or storage values.
 */
const patterns = (process.env.DEBUG ?? '')
  .split(/[\s,]+/)
  .filter(Boolean)
  .map((p) => new RegExp('^' + p.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*') + '$'));

export function debug(namespace: string): (...args: unknown[]) => void {
  const name = `restory:${namespace}`;
  if (!patterns.some((p) => p.test(name))) return () => {};
  return (...args) => console.error(`${new Date().toISOString()} ${name}`, ...args);
}
