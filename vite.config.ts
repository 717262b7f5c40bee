/** Builds the MV3 extension (extension/) into dist/extension/ with @crxjs/vite-plugin. */
import { fileURLToPath } from 'node:url';
import { crx } from '@crxjs/vite-plugin';
import { defineConfig } from 'vite';
import manifest from './extension/manifest.config.js';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  root: here('./extension'),
  // The extension has no public/ folder; keep Vite from picking up the project's.
  publicDir: false,
  plugins: [crx({ manifest })],
  build: {
    outDir: here('./dist/extension'),
    emptyOutDir: true,
    target: 'chrome116',
    // Readable output: reviewers (and we) can see what runs; size is irrelevant for a local extension.
    minify: false,
    sourcemap: false,
  },
  server: { strictPort: true },
});
