import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadMesh } from '../../src/model/load.js';
import { render } from '../../src/render.js';
import { k8sObject, objectFilesMark } from '../../src/kubernetes/objects.js';
import { isKubernetesOutput } from '../../src/cli/layout.js';

const examples = fs
  .readdirSync('examples')
  .filter((f) => f.endsWith('.yaml') && !f.endsWith('.test.yaml'))
  .map((f) => path.join('examples', f));

describe('objectFilesMark', () => {
  it('says what reading every file would: each a .yaml file starting with apiVersion', async () => {
    let marked = 0;
    for (const file of examples) {
      const loaded = await loadMesh(file);
      expect(loaded.mesh, file).toBeDefined();
      for (const consulFormat of ['crd', 'hcl']) {
        const { outputs } = render(loaded.mesh!, { targets: 'all', settings: { consulFormat } });
        for (const o of outputs) {
          const read =
            o.files.length > 0 &&
            o.files.every((f) => f.path.endsWith('.yaml') && f.contents.startsWith('apiVersion: '));
          const mark = objectFilesMark(o.files);
          if (mark !== undefined) {
            marked++;
            expect(mark, `${file} ${o.target}`).toBe(read);
          }
          expect(isKubernetesOutput(o.files), `${file} ${o.target}`).toBe(read);
        }
      }
    }
    // istio, linkerd and consul's CRDs, for each example
    expect(marked).toBeGreaterThanOrEqual(examples.length * 5);
  });
});

describe('k8sObject', () => {
  const mesh = { labels: { 'meshgen.io/mesh': 'm' } } as unknown as Parameters<typeof k8sObject>[0];
  const meta = { name: 'a', namespace: 'ns' };

  it('puts the envelope first and the body after it, whatever keys the body has', () => {
    const bodies: Record<string, unknown>[] = [
      {},
      { spec: { x: 1 } },
      { data: { k: 'v' } },
      { spec: { x: 1 }, status: {} },
      { data: 'd', spec: 's' },
      { spec: undefined },
      // an inherited key is not the body's own: a spread does not copy it
      Object.create({ spec: 'inherited' }) as Record<string, unknown>,
    ];
    for (const body of bodies) {
      const o = k8sObject(mesh, 'v1', 'Kind', meta, body);
      expect(Object.keys(o), JSON.stringify(body)).toEqual([
        'apiVersion',
        'kind',
        'metadata',
        ...Object.keys(body),
      ]);
      for (const k of Object.keys(body)) expect(o[k]).toBe(body[k]);
      expect(o.metadata).toEqual({ name: 'a', namespace: 'ns', labels: mesh.labels, annotations: undefined });
    }
  });
});
