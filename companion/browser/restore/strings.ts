/** String helpers more than one restore step needs. */

/** The URL without its #fragment: stubs and real pages are matched on this. */
export function stripHash(url: string): string {
  const i = url.indexOf('#');
  return i < 0 ? url : url.slice(0, i);
}

/** For text put into the route-fulfilled stub documents (titles, iframe URLs). */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** An error as one line for the outcome (Playwright's messages go on with a call log). */
export function firstLine(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.split('\n')[0];
}
