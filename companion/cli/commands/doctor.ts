import { runChecks } from '../doctor/checks.js';
import type { CheckResult } from '../doctor/result.js';
import { dataDirOf, parseCommand } from '../args.js';
import { SPECS } from '../command-specs.js';


const LABEL: Record<CheckResult['status'], string> = { ok: 'ok  ', warn: 'warn', fail: 'FAIL' };

/** Exit code 1 when any check FAILs; warnings alone exit 0. */
export async function run(argv: string[]): Promise<number> {
  const { values } = parseCommand(SPECS.doctor, argv);
  const dataDir = dataDirOf(values);
  const checks = await runChecks(dataDir);
  const failed = checks.filter((c) => c.status === 'fail').length;
  const warned = checks.filter((c) => c.status === 'warn').length;
  if (values.json) {
    process.stdout.write(JSON.stringify({ dataDir, ok: failed === 0, checks }, null, 2) + '\n');
    return failed > 0 ? 1 : 0;
  }
  const width = Math.max(...checks.map((c) => c.name.length));
  process.stdout.write(`restory doctor: data dir ${dataDir}\n`);
  for (const c of checks) {
    process.stdout.write(`${LABEL[c.status]}  ${c.name.padEnd(width)}  ${c.message}\n`);
    if (c.fix) process.stdout.write(`      ${' '.repeat(width)}  fix: ${c.fix}\n`);
  }
  const summary = failed === 0 && warned === 0 ? 'everything looks fine' : `${failed} failed, ${warned} warning${warned === 1 ? '' : 's'}`;
  process.stdout.write(`${summary}\n`);
  return failed > 0 ? 1 : 0;
}
