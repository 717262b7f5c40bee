/** Render the rows of all sections as one Markdown table (printed, and pasted into the README). */
import type { Row } from './harness.js';

const escape = (s: string) => s.replace(/\|/g, '\\|');

export function renderTable(rows: readonly Row[]): string {
  const lines = ['| benchmark | measurement | result | aim |', '|---|---|---|---|'];
  let section = '';
  for (const r of rows) {
    const name = r.section === section ? '' : r.section;
    section = r.section;
    lines.push(`| ${escape(name)} | ${escape(r.metric)} | ${escape(r.value)} | ${escape(r.aim ?? '')} |`);
  }
  return lines.join('\n');
}
