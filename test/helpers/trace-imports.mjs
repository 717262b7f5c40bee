// `node --import ./trace-imports.mjs …`: print every module URL the program resolves to stderr,
// prefixed with "import ", so a test can tell what a command loads.
import { register } from 'node:module';

register(
  'data:text/javascript,' +
    encodeURIComponent(
      'export async function resolve(s, c, next) { const r = await next(s, c); process.stderr.write("import " + r.url + "\\n"); return r; }',
    ),
);
