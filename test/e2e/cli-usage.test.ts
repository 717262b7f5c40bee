/**
 * What a new user meets first, through the real CLI: `--version`, `--help`, each command's help
 * with every option, its allowed values and its default, and usage errors that exit 2 with one
 * line naming the flag (enum flags included: they once exited 1 with zod's multi-line report).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMMON, SPECS, type CommandSpec, type OptionSpec } from '../../companion/cli/command-specs.js';
import { runCli } from '../helpers/restory-cli.js';
import { tempDir } from '../helpers/temp-dirs.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
const specs: CommandSpec[] = Object.values(SPECS);

describe('restory help and version', () => {
  it('--version(prints the package version and exits 0)', async () => {
    for (const flag of ['--version', '-v']) {
      const r = await runCli([flag]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(`${pkg.version}\n`);
    }
  });

  it('--help(lists every command and exits 0)', async () => {
    const r = await runCli(['--help']);
    expect(r.code, r.stderr).toBe(0);
    for (const spec of specs) expect(r.stdout).toMatch(new RegExp(`^  ${spec.name}\\b`, 'm'));
  });

  it('<cmd> --help and help <cmd>(list every option with its allowed values and default)', async () => {
    for (const spec of specs) {
      const [viaFlag, viaHelp] = await Promise.all([runCli([spec.name, '--help']), runCli(['help', spec.name])]);
      expect(viaFlag.code, viaFlag.stderr).toBe(0);
      expect(viaHelp.stdout).toBe(viaFlag.stdout);
      expect(viaFlag.stdout).toContain(`usage: restory ${spec.name}`);
      const options: [string, OptionSpec][] = Object.entries({ ...spec.options, ...COMMON });
      for (const [name, o] of options) {
        const optionLines = viaFlag.stdout.split('options:\n')[1].split('\n');
        const line = optionLines.find((l) => new RegExp(`^ +(-\\w, )?--${name}\\b`).test(l));
        expect(line, `${spec.name} --help lists --${name}`).toBeDefined();
        if (o.choices) expect(line).toContain(`one of: ${o.choices.join(', ')}`);
        if (o.defaultText) expect(line).toContain(`default: ${o.defaultText}`);
      }
    }
  });
});

/** As on a server or in a container: no X or Wayland display. */
const NO_DISPLAY = { DISPLAY: '', WAYLAND_DISPLAY: '' };

describe('restory usage errors', () => {
  const dataDir = tempDir();
  const cases: [string[], RegExp][] = [
    [['list', '--state', 'bogus'], /--state must be one of active, closed, error, recoverable, stale, failed \(got "bogus"\)/],
    [['export', 'some-id', '--format', 'bogus'], /--format must be one of restory, playwright \(got "bogus"\)/],
    [['install-host', '--browser', 'bogus'], /--browser must be one of chrome, chromium, edge, brave/],
    [['list', '--bogus'], /Unknown option --bogus/],
    [['list', '--state'], /--state/],
    [['export', 'a', 'b'], /unexpected argument: b/],
    [['close'], /missing session id/],
    [['export', 'x', '--snapshot', 'abc'], /--snapshot must be an integer/],
    [['resume', 'x', '--cdp-port', '70000'], /--cdp-port must be an integer from 0 to 65535/],
    [['start', '--url', 'not-a-url'], /--url "not-a-url" is not a URL; give a whole one, e.g. https:\/\/example.com/],
    [['start', '--cdp-port', '99999'], /--cdp-port must be an integer from 0 to 65535/],
    [['start', '--headed'], /--headed needs a display \(neither DISPLAY nor WAYLAND_DISPLAY is set\); leave it out to run headless/],
    [['frobnicate'], /unknown command "frobnicate"/],
    [['help', 'frobnicate'], /unknown command "frobnicate"/],
  ];
  it.each(cases)('%j(exits 2 with one line naming the problem)', async (args, message) => {
    const r = await runCli([...args, '--data-dir', dataDir], NO_DISPLAY);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toContain('✖');
    expect(r.stdout).toBe('');
  });

  it('a refused start leaves no session behind', async () => {
    await runCli(['start', '--url', 'not-a-url', '--data-dir', dataDir]);
    await runCli(['start', '--headed', '--data-dir', dataDir], NO_DISPLAY);
    const list = await runCli(['list', '--json', '--data-dir', dataDir]);
    expect(JSON.parse(list.stdout)).toEqual([]);
  });
});
