import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSource } from '../../src/live/load.js';
import { parseSource, type MeshSource } from '../../src/live/source.js';
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
        - name: v2
          endpoints: ["127.0.0.1:9200"]
`;

describe.skipIf(!hasBinary('etcd'))('loadSource from etcd', () => {
  let etcd: TestEtcd;
  beforeAll(async () => {
    etcd = await startEtcd();
  });
  afterAll(async () => {
    await etcd?.stop();
  });
  const source = (prefix: string) => parseSource(`etcd://${etcd.endpoint}${prefix}`) as MeshSource;

  it("joins the store's endpoints to the mesh's own", async () => {
    await etcd.client.put('/a/mesh').value(MESH);
    await etcd.client.put('/a/endpoints/api/v1/one').value('127.0.0.1:9101');
    await etcd.client.put('/a/endpoints/api/v1/two').value('{"address": "127.0.0.1:9102"}');
    await etcd.client.put('/a/endpoints/api/v2/one').value('127.0.0.1:9201');
    const r = await loadSource(source('/a'), {});
    expect(r.diagnostics).toEqual([]);
    const api = r.mesh!.backends.find((b) => b.name === 'api')!;
    expect(api.versions.map((v) => [v.name, v.endpoints.map((e) => e.address)])).toEqual([
      ['v1', ['127.0.0.1:9101', '127.0.0.1:9102']],
      ['v2', ['127.0.0.1:9200', '127.0.0.1:9201']],
    ]);
  });

  it('locates a mesh error at a line of the mesh key', async () => {
    await etcd.client.put('/b/mesh').value(MESH.replace('protocol: http', 'protocol: htp'));
    const r = await loadSource(source('/b'), {});
    expect(r.mesh).toBeUndefined();
    const d = r.diagnostics.find((x) => x.severity === 'error')!;
    expect(d).toMatchObject({ file: `etcd://${etcd.endpoint}/b/mesh`, line: 9, column: 17 });
  });

  it('reports a bad endpoint by its key and an unknown version, and keeps the rest', async () => {
    await etcd.client.put('/c/mesh').value(MESH);
    await etcd.client.put('/c/endpoints/api/v1/ok').value('127.0.0.1:9101');
    await etcd.client.put('/c/endpoints/api/v1/bad').value('not an address');
    await etcd.client.put('/c/endpoints/api/v7/x').value('127.0.0.1:9701');
    const r = await loadSource(source('/c'), {});
    expect(r.diagnostics.map((d) => [d.code, d.file])).toEqual([
      ['MG4023', `etcd://${etcd.endpoint}/c/endpoints/api/v1/bad`],
      ['MG4024', `etcd://${etcd.endpoint}/c/endpoints/api/v7/x`],
    ]);
    expect(r.mesh!.backends[0]!.versions[0]!.endpoints.map((e) => e.address)).toEqual(['127.0.0.1:9101']);
  });

  it('says MG4022 when the prefix has no mesh key', async () => {
    const r = await loadSource(source('/nothing'), {});
    expect(r.diagnostics.map((d) => d.code)).toEqual(['MG4022']);
  });

  it('keeps a version with no endpoints in the mesh nor the store', async () => {
    await etcd.client.put('/d/mesh').value(MESH);
    const r = await loadSource(source('/d'), {});
    // a version without endpoints is valid for the mesh; the proxy targets report it when rendering
    expect(r.mesh?.backends[0]!.versions[0]!.endpoints).toEqual([]);
  });

  it('says MG4021 within the timeout when nothing listens', async () => {
    const t0 = Date.now();
    const r = await loadSource(parseSource('etcd://127.0.0.1:1/x') as MeshSource, { timeoutMs: 500 });
    expect(r.diagnostics.map((d) => d.code)).toEqual(['MG4021']);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('says MG4025 when a TLS file cannot be read, MG4026 for half a login', async () => {
    const tls = await loadSource(source('/a'), { cacert: '/nonexistent/ca.pem' });
    expect(tls.diagnostics.map((d) => d.code)).toEqual(['MG4025']);
    const auth = await loadSource(source('/a'), { user: 'root' });
    expect(auth.diagnostics.map((d) => d.code)).toEqual(['MG4026']);
  });
});
