import type { Diagnostic } from '../model/diagnostics.js';
import { MeshBuilder, isRecord, stringRecord, type BackendDraft } from './builder.js';
import { located, originOf, type InputDocument } from './documents.js';

/** What the importers of Kubernetes objects share: kinds, names, Services and workloads. */

export interface KubeObject {
  readonly doc: InputDocument;
  readonly kind: string;
  readonly apiVersion: string;
  readonly name: string;
  readonly namespace: string;
  readonly spec: Record<string, unknown>;
  readonly metadata: Record<string, unknown>;
}

const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Pod']);

/**
 * The objects of the kinds an importer uses, each with its name and namespace; the others are
 * ignored with one diagnostic per kind naming the kind and where it first appears.
 */
export function kubeObjects(
  documents: readonly InputDocument[],
  kinds: readonly string[],
  namespace: string,
  diagnostics: Diagnostic[],
): KubeObject[] {
  const out: KubeObject[] = [];
  const byKey = new Map<string, number>();
  const ignored = new Map<string, { doc: InputDocument; count: number }>();
  for (const doc of documents) {
    const v = doc.value;
    if (!isRecord(v) || typeof v['kind'] !== 'string') {
      diagnostics.push(located('MG7008', doc, [], 'not a Kubernetes object (no kind): skipped'));
      continue;
    }
    const kind = v['kind'];
    if (!kinds.includes(kind)) {
      const seen = ignored.get(kind);
      if (seen) seen.count++;
      else ignored.set(kind, { doc, count: 1 });
      continue;
    }
    const metadata = isRecord(v['metadata']) ? v['metadata'] : {};
    const name = typeof metadata['name'] === 'string' ? metadata['name'] : undefined;
    if (!name) {
      diagnostics.push(located('MG7008', doc, ['metadata'], `${kind} without metadata.name: skipped`));
      continue;
    }
    const object: KubeObject = {
      doc,
      kind,
      apiVersion: typeof v['apiVersion'] === 'string' ? v['apiVersion'] : '',
      name,
      namespace: typeof metadata['namespace'] === 'string' ? metadata['namespace'] : namespace,
      spec: isRecord(v['spec']) ? v['spec'] : {},
      metadata,
    };
    // the same object given again (a sample that edits another, as `kubectl apply` of both leaves
    // it): the later one replaces the earlier, in the earlier one's place
    const key = `${kind}/${object.namespace}/${name}`;
    const earlier = byKey.get(key);
    if (earlier !== undefined) {
      const was = out[earlier]!;
      diagnostics.push(
        located(
          'MG7011',
          doc,
          ['metadata', 'name'],
          `${kind} ${object.namespace}/${name} is also given at ${originOf(was.doc, ['metadata', 'name'])}: this one replaces it, as applying both in order would`,
        ),
      );
      out[earlier] = object;
    } else {
      byKey.set(key, out.length);
      out.push(object);
    }
  }
  for (const [kind, { doc, count }] of ignored)
    diagnostics.push(
      located(
        'MG7003',
        doc,
        ['kind'],
        `${count} ${kind} object${count === 1 ? '' : 's'} ignored: the importer does not use the kind ${kind}`,
      ),
    );
  return out;
}

/** The namespace the mesh takes: --namespace, else the one most objects name. */
export function chooseNamespace(documents: readonly InputDocument[], given: string | undefined): string {
  if (given) return given;
  const count = new Map<string, number>();
  for (const d of documents) {
    const ns =
      isRecord(d.value) && isRecord(d.value['metadata']) ? d.value['metadata']['namespace'] : undefined;
    if (typeof ns === 'string') count.set(ns, (count.get(ns) ?? 0) + 1);
  }
  return [...count].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0] ?? 'default';
}

const PROTOCOLS: Record<string, BackendDraft['protocol']> = {
  http: 'http',
  http2: 'http2',
  grpc: 'grpc',
  'grpc-web': 'grpc',
  h2c: 'http2',
  'kubernetes.io/h2c': 'http2',
  tcp: 'tcp',
  tls: 'tcp',
  https: 'tcp',
  mongo: 'tcp',
  mysql: 'tcp',
  redis: 'tcp',
};

/** A Service port's protocol, as Istio reads it: appProtocol, else the port name's prefix. */
function portProtocol(port: Record<string, unknown>): BackendDraft['protocol'] | undefined {
  const app = typeof port['appProtocol'] === 'string' ? port['appProtocol'].toLowerCase() : undefined;
  if (app && PROTOCOLS[app]) return PROTOCOLS[app];
  const name = typeof port['name'] === 'string' ? port['name'].toLowerCase() : '';
  const prefix = name.split('-')[0]!;
  return PROTOCOLS[prefix];
}

/** Services become backends (port, protocol, selector); workloads add versions and service accounts. */
export function readServicesAndWorkloads(objects: readonly KubeObject[], mesh: MeshBuilder): void {
  for (const o of objects.filter((x) => x.kind === 'Service')) {
    const b = mesh.backend(o.name, o.namespace);
    const ports = Array.isArray(o.spec['ports']) ? o.spec['ports'].filter(isRecord) : [];
    const port = ports[0];
    if (port && typeof port['port'] === 'number') {
      b.port = port['port'];
      b.protocol = portProtocol(port) ?? b.protocol;
    }
    if (ports.length > 1)
      mesh.diagnostics.push(
        located(
          'MG7004',
          o.doc,
          ['spec', 'ports', 1],
          `Service ${o.name}: only its first port (${String(port?.['port'])}) is carried; a mesh backend has one port`,
        ),
      );
    b.selector = stringRecord(o.spec['selector']);
  }
  for (const o of objects.filter((x) => WORKLOADS.has(x.kind))) {
    const template = o.kind === 'Pod' ? { metadata: o.metadata, spec: o.spec } : o.spec['template'];
    if (!isRecord(template)) continue;
    const labels =
      stringRecord(isRecord(template['metadata']) ? template['metadata']['labels'] : undefined) ?? {};
    const podSpec = isRecord(template['spec']) ? template['spec'] : {};
    const backend = [...mesh.backends.values()].find(
      (b) =>
        b.selector &&
        Object.keys(b.selector).length &&
        Object.entries(b.selector).every(([k, v]) => labels[k] === v),
    );
    if (!backend) continue;
    const sa = podSpec['serviceAccountName'] ?? podSpec['serviceAccount'];
    if (typeof sa === 'string') backend.serviceAccount = sa;
    const version = labels['version'];
    if (version && !backend.versions.has(version)) backend.versions.set(version, { labels: { version } });
  }
}

/** `reviews`, `reviews.ns`, `reviews.ns.svc`, `reviews.ns.svc.cluster.local` -> the Service name and namespace. */
export function serviceOfHost(
  host: string,
  namespace: string,
): { name: string; namespace: string } | undefined {
  const m =
    /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)(?:\.([a-z0-9]([-a-z0-9]*[a-z0-9])?)(?:\.svc(?:\.cluster\.local)?)?)?$/.exec(
      host,
    );
  if (!m) return undefined;
  return { name: m[1]!, namespace: m[3] ?? namespace };
}

/** The mesh's name: --name, else the `meshgen.io/mesh` label objects carry, else the namespace. */
export function chooseName(
  documents: readonly InputDocument[],
  given: string | undefined,
  namespace: string,
): string {
  if (given) return given;
  for (const d of documents) {
    const labels =
      isRecord(d.value) && isRecord(d.value['metadata']) ? d.value['metadata']['labels'] : undefined;
    if (isRecord(labels) && typeof labels['meshgen.io/mesh'] === 'string') return labels['meshgen.io/mesh'];
  }
  return namespace;
}
