/**
 * What a new user copies first: the package metadata and the README's commands. The npm name
 * `restory` is someone else's package, so ours is scoped; every `restory …` line in the README's
 * shell blocks must name a real command with options it accepts; the set-up must work in a fresh
 * container.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../companion/cli/args.js';
import { isCommandName, SPECS } from '../../companion/cli/command-specs.js';
import { DEFAULT_CONFIG } from '../../companion/config.js';
import { PACKAGE_NAME, projectRoot } from '../../companion/project-root.js';

const read = (file: string) => readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');
const pkg = JSON.parse(read('package.json')) as { name: string; license: string; bin: Record<string, string>; files: string[] };
const lock = JSON.parse(read('package-lock.json')) as { name: string; packages: Record<string, { name?: string; license?: string }> };
const readme = read('README.md');
const shellLines = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) => m[1].split('\n')).map((l) => l.replace(/\s+#.*$/, '').trim()).filter((l) => l && !l.startsWith('#'));

describe('package', () => {
  it('name(is scoped, consistent with the lock file, and still installs the restory command)', () => {
    expect(pkg.name).toBe('@restory/cli');
    expect(PACKAGE_NAME).toBe(pkg.name);
    expect(lock.name).toBe(pkg.name);
    expect(lock.packages[''].name).toBe(pkg.name);
    expect(pkg.bin).toEqual({ restory: 'bin/restory.js' });
    expect(existsSync(`${projectRoot()}/package.json`)).toBe(true);
  });

  it('license(MIT, with a LICENSE file that is packed)', () => {
    expect(pkg.license).toBe('MIT');
    expect(lock.packages[''].license).toBe('MIT');
    expect(read('LICENSE')).toMatch(/^MIT License/);
    expect(pkg.files).toEqual(expect.arrayContaining(['LICENSE', 'CHANGELOG.md']));
  });

  it('CHANGELOG(keeps an Unreleased section in Keep a Changelog form)', () => {
    const changelog = read('CHANGELOG.md');
    expect(changelog).toContain('keepachangelog.com');
    expect(changelog).toMatch(/^## \[Unreleased\]$/m);
  });
});

describe('README', () => {
  it('set-up(updates the package lists before installing Chromium, and puts restory on the PATH)', () => {
    const install = shellLines.find((l) => l.includes('apt-get install'));
    expect(install).toMatch(/^apt-get update && apt-get install -y chromium/);
    expect(shellLines.some((l) => /^npm link$|^npm install -g \.$/.test(l))).toBe(true);
  });

  it('commands(each restory line names a real command with options it accepts)', () => {
    const commands = shellLines.filter((l) => /^(restory|npx restory|node bin\/restory\.js) /.test(l));
    expect(commands.length).toBeGreaterThan(0);
    for (const line of commands) {
      const [name, ...args] = line.replace(/^(npx restory|node bin\/restory\.js|restory) /, '').split(/\s+/);
      expect(isCommandName(name), line).toBe(true);
      if (isCommandName(name)) expect(() => parseCommand(SPECS[name], args), line).not.toThrow();
      expect(line, 'no placeholder characters').not.toContain('…');
    }
    expect(readme).not.toMatch(/from 'restory'/);
  });

  it('configuration(documents every config key, RESTORY_CHROMIUM and DEBUG=restory:*)', () => {
    for (const key of Object.keys(DEFAULT_CONFIG)) expect(readme).toContain(`\`${key}\``);
    expect(readme).toContain('RESTORY_CHROMIUM');
    expect(readme).toContain('DEBUG=restory:*');
  });
});
