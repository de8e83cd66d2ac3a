import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

const COMMANDS = [
  'validate',
  'render',
  'diff',
  'schema',
  'init',
  'targets',
  'version',
  'certs',
  'proxy',
  'run',
  'test',
  'import',
  'register',
  'watch',
];

describe('meshgen --help', () => {
  it('lists the commands this test knows, and each has an Examples section in its --help', () => {
    const top = runCli(['--help']);
    const commands = top.stdout.slice(top.stdout.indexOf('Commands:'), top.stdout.indexOf('Examples:'));
    const listed = [...commands.matchAll(/^ {2}([a-z]+)\b/gm)].map((m) => m[1]);
    expect(listed.filter((c) => c !== 'help').sort()).toEqual([...COMMANDS].sort());
    for (const command of COMMANDS) {
      const r = runCli([command, '--help']);
      expect(r.status, command).toBe(0);
      expect(r.stdout, command).toMatch(/\nExamples:\n {2}meshgen /);
    }
  });
});

describe('meshgen version', () => {
  it('prints the version of meshgen and of Node, and the target releases it renders for', () => {
    const r = runCli(['version']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^meshgen \d+\.\d+\.\d+\nnode \d+\.\d+\.\d+\n/);
    expect(r.stdout).toMatch(/^istio \d+\.\d+ \(default; /m);
  });
});

describe('numeric options', () => {
  it.each([
    ['proxy', '-c', 'x.yaml', '--concurrency', 'abc'],
    ['proxy', '-c', 'x.yaml', '--concurrency', '0'],
    ['proxy', '-c', 'x.yaml', '--concurrency', '-2'],
    ['proxy', '-c', 'x.yaml', '--drain-time', 'soon'],
    ['run', 'examples/hello.yaml', '--as', 'web', '--drain-time', '-1'],
    ['certs', 'examples/hello.yaml', '-o', 'unused-certs', '--days', '0'],
    ['certs', 'examples/hello.yaml', '-o', 'unused-certs', '--days', '1.5'],
  ])('refuses %s ... %s %s with a usage error (exit 2)', (...args) => {
    const r = runCli(args);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/error: option '[-a-z, ]+ <[a-z]+>' argument '.*' is invalid/);
  });
});
