/** Helpers about processes, shared by the tests that need them. */
import { spawnSync } from 'node:child_process';

/** A pid that certainly belongs to no running process: a child that has already exited. */
export function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}
