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
