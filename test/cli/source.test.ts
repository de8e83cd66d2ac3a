import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { startEtcd, type TestEtcd } from '../support/etcd.js';
import { hasBinary } from '../support/processes.js';

const MESH = `apiVersion: meshgen.io/v1alpha1
kind: Mesh
metadata:
  name: live
spec:
  backends:
    - name: api
      port: 9000
      protocol: http
      versions:
        - name: v1
`;

describe.skipIf(!hasBinary('etcd'))('validate and render --source etcd://', () => {
  let etcd: TestEtcd;
  beforeAll(async () => {
    etcd = await startEtcd();
    await etcd.client.put('/shop/mesh').value(MESH);
    await etcd.client.put('/shop/endpoints/api/v1/one').value('127.0.0.1:9101');
  });
  afterAll(async () => {
    await etcd?.stop();
  });

  it('renders the mesh of the store with its endpoints', () => {
    const r = runCli(['render', '--source', `etcd://${etcd.endpoint}/shop`, '--target', 'haproxy']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/server \S+ 127\.0\.0\.1:9101/);
  });

  it('validates it', () => {
    const r = runCli(['validate', '--source', `etcd://${etcd.endpoint}/shop`]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('valid');
  });

  it('says MG4022 for a prefix without a mesh, and refuses a file and --source together', () => {
    const empty = runCli(['render', '--source', `etcd://${etcd.endpoint}/none`, '--target', 'haproxy']);
    expect(empty.status).toBe(1);
    expect(empty.stderr).toContain('MG4022');
    const both = runCli([
      'render',
      'examples/hello.yaml',
      '--source',
      `etcd://${etcd.endpoint}/shop`,
      '-t',
      'haproxy',
    ]);
    expect(both.status).toBe(2);
    expect(both.stderr).toContain('not both');
    expect(both.stderr).not.toMatch(/\n\s+at /);
  });
});

/*
 * A --source that cannot be read as named is a usage error for every command that reads a mesh:
 * the same diagnostic (MG4020 for a malformed etcd URL, MG4001 for a missing file) and exit 2,
 * whether the command validates, renders or runs the data plane.
 */
describe('an unreadable --source: the same diagnostic and exit 2 for validate, render and run', () => {
  const commands = [['validate'], ['render', '--target', 'haproxy'], ['run', '--as', 'web']];
  it.each([
    ['etcd://127.0.0.1/shop', 'MG4020', '--source "etcd://127.0.0.1/shop": it has no port'],
    ['consul://127.0.0.1:8500/shop', 'MG4020', 'scheme "consul"'],
    ['missing/mesh.yaml', 'MG4001', 'cannot read missing/mesh.yaml'],
  ])('--source %s: %s', (source, code, message) => {
    for (const command of commands) {
      const r = runCli([...command, '--source', source]);
      expect(r.status, `${command[0]}: ${r.stderr}`).toBe(2);
      expect(r.stderr, command[0]).toContain(`error ${code}`);
      expect(r.stderr, command[0]).toContain(message);
      expect(r.stderr, command[0]).not.toMatch(/\n\s+at /);
    }
  });

  it('run still exits 1 for a mesh that reads but has errors', () => {
    const r = runCli(['run', 'test/fixtures/invalid/mg2001-unknown-backend.yaml', '--as', 'web']);
    expect(r.status, r.stderr).toBe(1);
  });
});
