import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { runCli } from '../support/cli.js';
import { tempDirsPerTest } from '../support/temp.js';

const tmp = tempDirsPerTest('meshgen-layout');

interface Obj {
  kind: string;
  metadata: { name: string; namespace?: string };
}

/** Every object under a target folder, file by file. */
function objects(folder: string): Map<string, Obj[]> {
  return new Map(
    fs
      .readdirSync(folder)
      .sort()
      .map((f) => [
        f,
        parseAllDocuments(fs.readFileSync(path.join(folder, f), 'utf8')).map((d) => d.toJS() as Obj),
      ]),
  );
}

const key = (o: Obj) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

function render(layout: string | undefined): Map<string, Obj[]> {
  const out = tmp();
  const args = ['render', 'examples/shop.yaml', '--target', 'istio,linkerd', '-o', out];
  const r = runCli(layout ? [...args, '--layout', layout] : args);
  expect(r.status, r.stderr).toBe(0);
  return objects(path.join(out, 'linkerd'));
}

describe('render --layout', () => {
  const byObject = render(undefined);
  const every = [...byObject.values()].flat().map(key).sort();

  it('writes one file per kind, each holding the objects of that kind', () => {
    const byKind = render('kind');
    expect([...byKind.values()].flat().map(key).sort()).toEqual(every);
    for (const [file, objs] of byKind)
      expect(objs.every((o) => `${o.kind.toLowerCase()}.yaml` === file)).toBe(true);
    expect(byKind.size).toBe(new Set(every.map((k) => k.split('/')[0])).size);
  });

  it('writes one file per namespace, cluster-scoped objects in _cluster.yaml', () => {
    const byNamespace = render('namespace');
    expect([...byNamespace.values()].flat().map(key).sort()).toEqual(every);
    for (const [file, objs] of byNamespace)
      expect(objs.every((o) => `${o.metadata.namespace ?? '_cluster'}.yaml` === file)).toBe(true);
    expect(byNamespace.get('_cluster.yaml')?.map((o) => o.kind)).toContain('Namespace');
  });

  it('writes one stream, in the order of the objects’ files', () => {
    const stream = render('stream');
    expect([...stream.keys()]).toEqual(['linkerd.yaml']);
    expect(stream.get('linkerd.yaml')!.map(key)).toEqual([...byObject.values()].flat().map(key));
  });

  it('is refused for a target that does not write Kubernetes objects (MG4015)', () => {
    const out = tmp();
    const r = runCli([
      'render',
      'examples/shop.yaml',
      '--target',
      'istio,haproxy',
      '--layout',
      'kind',
      '-o',
      out,
    ]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /error MG4015 \[haproxy\]: --layout kind: the haproxy target does not write Kubernetes objects/,
    );
    expect(fs.readdirSync(out)).toEqual([]);
  });
});
