/**
 * What a typed session id names: the id itself when there is one, else every id it is a prefix of
 * (sorted). The CLI and the MCP server both accept an unambiguous prefix and word the errors their
 * own way.
 */
export function idsNamedBy(ids: readonly string[], idOrPrefix: string): string[] {
  if (ids.includes(idOrPrefix)) return [idOrPrefix];
  return ids.filter((id) => id.startsWith(idOrPrefix)).sort();
}
