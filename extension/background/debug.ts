/**
 * Namespaced debug logging, off by default. Enable from the service worker console with
 * `chrome.storage.local.set({ debug: 'restory:*' })` (or a list like 'restory:link,restory:outbox').
 * Callers log counts, ids and sizes, never cookie or storage values.
 */
let patterns: RegExp[] = [];

function compile(spec: unknown): RegExp[] {
  if (typeof spec !== 'string' || spec.trim() === '') return [];
  return spec
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((p) => new RegExp(`^${p.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`));
}

chrome.storage.local.get('debug').then(
  (items) => (patterns = compile(items.debug)),
  () => {},
);
chrome.storage.onChanged.addListener((changes, area) => {
  if (area === 'local' && changes.debug) patterns = compile(changes.debug.newValue);
});

export type Logger = (message: string, ...details: unknown[]) => void;

export function createDebug(namespace: string): Logger {
  const name = `restory:${namespace}`;
  return (message, ...details) => {
    if (patterns.some((p) => p.test(name))) console.debug(`[${name}] ${message}`, ...details);
  };
}

/** Problems worth seeing even with debugging off (never with values). */
export function warn(namespace: string, message: string, error?: unknown): void {
  console.warn(`[restory:${namespace}] ${message}`, error instanceof Error ? error.message : (error ?? ''));
}
