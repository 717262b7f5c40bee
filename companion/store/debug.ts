/** `DEBUG=restory:store` (or `restory:*`) prints what the store does to stderr; off by default. */
const pattern = process.env.DEBUG ?? '';

function enabled(ns: string): boolean {
  return pattern.split(',').some((p) => {
    const t = p.trim();
    return t === ns || (t.endsWith('*') && ns.startsWith(t.slice(0, -1)));
  });
}

export function debug(ns: string): (message: string) => void {
  if (!enabled(ns)) return () => {};
  return (message) => process.stderr.write(`${ns} ${message}\n`);
}
