/**
 * Bundles the compiled CLI (dist/companion/cli/main.js, tsc's output) into dist/cli/ with rolldown
 * (`npm run build:node`, after tsc). Why: Node 20 reads, compiles and links every ES module file on
 * its own, and `restory list` beside a running companion loaded 137 of them (95 of them zod's), which
 * cost more than everything else it does. Bundled, it loads 20, zod among them as one file.
 *
 * What stays a file of its own:
 * - each command and each lazily imported backend: main.ts imports them with `import()`, and each
 *   becomes a chunk, so `--help` still loads no command and `list` loads neither Playwright nor sql.js;
 * - every package except zod (external, loaded from node_modules as before): Playwright and sql.js
 *   find their own files (browsers, the wasm) relative to themselves, pg and the MCP SDK are loaded
 *   by few commands, and zod is the one every session command pays for;
 * - the checkpoint worker, which runs as dist/companion/store/checkpoint-worker.js
 *   (store/checkpoint-offload.ts falls back to it when there is none beside the chunk).
 *
 * Chunks are named after the source file they stand for (a command's chunk is
 * dist/cli/companion/cli/commands/list.js, zod's dist/cli/vendor/zod.js), so that a trace of what
 * a command loads still reads as what it uses (test/e2e/cli-startup.test.ts).
 *
 * bin/restory.js runs the bundle only when it is at least as new as tsc's output, else the compiled
 * files: a `tsc` run alone cannot leave the CLI running stale code.
 *
 * A second output: quick-answers.ts alone, as CommonJS (dist/cli/quick-answers.cjs), for bin/restory.js.
 */
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type PreRenderedChunk } from 'rolldown';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const compiled = resolve(root, 'dist');
const out = resolve(root, 'dist', 'cli');

/** Bundled packages: only zod (see above). */
const BUNDLED = /^zod(\/|$)/;

/** A package or Node builtin, not one of the project's own modules (relative, absolute or virtual). */
const isPackage = (id: string) => !id.startsWith('.') && !id.startsWith('/') && !id.startsWith('\0');

/** dist/companion/socket/client.js → companion/socket/client.js; zod's chunk → vendor/zod.js. */
function chunkPath(chunk: PreRenderedChunk): string {
  if (chunk.name === 'zod') return 'vendor/zod.js';
  const stand = chunk.facadeModuleId ?? chunk.moduleIds.at(-1);
  if (!stand || !stand.startsWith(compiled + '/')) return `chunks/${chunk.name}.js`;
  return relative(compiled, stand);
}

export default defineConfig([{
  input: { main: resolve(compiled, 'companion', 'cli', 'main.js') },
  platform: 'node',
  external: (id) => isPackage(id) && !BUNDLED.test(id),
  output: {
    dir: out,
    format: 'esm',
    cleanDir: true,
    entryFileNames: 'main.js',
    chunkFileNames: chunkPath,
    // Readable output, as tsc's: stack traces from a user's report point at code one can read.
    minify: false,
    codeSplitting: { groups: [{ name: 'zod', test: /[\\/]node_modules[\\/]zod[\\/]/ }] },
  },
},
// The answers that run no command (--help, --version…), as one CommonJS file: bin/restory.js
// requires it, so they print without Node's ES module loader ever starting (quick-answers.ts).
{
  input: resolve(compiled, 'companion', 'cli', 'quick-answers.js'),
  platform: 'node',
  external: isPackage,
  output: { file: resolve(out, 'quick-answers.cjs'), format: 'cjs', minify: false },
},
// The native host as one CommonJS file with the little of zod it uses: Chromium starts it at every
// browser start, on the busiest second of a resume (project-root.ts nativeHostScript).
{
  input: resolve(compiled, 'companion', 'native-host', 'main.js'),
  platform: 'node',
  external: (id) => isPackage(id) && !BUNDLED.test(id),
  output: { file: resolve(root, 'dist', 'host', 'native-host.cjs'), format: 'cjs', minify: false },
}]);
