/**
 * Quote a path for a fix command we print, so it can be pasted into a shell as is: left bare when
 * it holds only characters no shell treats specially (the common case, and easier to read), else
 * single-quoted with each ' written as '\''.
 */
export function shellArg(path: string): string {
  return /^[\w@%+=:,./-]+$/.test(path) ? path : `'${path.replaceAll("'", `'\\''`)}'`;
}
