/**
 * The unpacked extension that launchBrowser loads (dist/extension), built on demand so that a checkout
 * where extension/ or shared/ changed since the last build never runs a stale extension.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rmdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { RestoryError } from '../../shared/errors.js';

/** Newest mtime (ms) of any file under dir; 0 if dir is missing. */
async function newestMtime(dir: string): Promise<number> {
  let newest = 0;
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const s = await stat(join(entry.parentPath, entry.name)).catch(() => null);
    if (s && s.mtimeMs > newest) newest = s.mtimeMs;
  }
  return newest;
}

/**
 * Build the extension (`npx vite build`) if dist/extension/manifest.json is missing or older than any
 * source under extension/ or shared/. Returns dist/extension. Concurrent callers (parallel test
 * workers) serialise on a lock folder so only one build runs.
 */
export async function ensureExtensionBuilt(rootDir: string): Promise<string> {
  const root = resolve(rootDir);
  const outDir = join(root, 'dist', 'extension');
  const manifest = join(outDir, 'manifest.json');
  const isFresh = async () => {
    const built = await stat(manifest).catch(() => null);
    if (!built) return false;
    const sources = Math.max(await newestMtime(join(root, 'extension')), await newestMtime(join(root, 'shared')));
    return built.mtimeMs >= sources;
  };
  if (await isFresh()) return outDir;

  const lock = join(root, 'dist', '.extension-build.lock');
  await mkdir(join(root, 'dist'), { recursive: true });
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch {
      const s = await stat(lock).catch(() => null);
      if (s && Date.now() - s.mtimeMs > 300_000) await rmdir(lock).catch(() => {}); // stale lock
      if (Date.now() > deadline) throw new RestoryError('launch_failed', `timed out waiting for another extension build (${lock})`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    if (await isFresh()) return outDir; // another process built it while we waited
    await new Promise<void>((ok, fail) => {
      const child = spawn('npx', ['vite', 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
      child.once('error', fail);
      child.once('exit', (code, signal) =>
        code === 0
          ? ok()
          : fail(new RestoryError('launch_failed', `extension build failed (npx vite build exited with ${code ?? signal})`)),
      );
    });
    if (!existsSync(manifest)) throw new RestoryError('launch_failed', `extension build produced no ${manifest}`);
    return outDir;
  } finally {
    await rmdir(lock).catch(() => {});
  }
}
