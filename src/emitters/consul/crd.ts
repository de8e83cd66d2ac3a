import type { ResolvedMesh } from '../../model/types.js';
import { k8sObject, type K8sObject } from '../../kubernetes/objects.js';
import type { SpecKeys } from '../../yaml/writer.js';
import type { Built, ConsulKind } from './model.js';

const CRD_API_VERSION = 'consul.hashicorp.com/v1alpha1';

const CRD_KIND: Record<ConsulKind, string> = {
  mesh: 'Mesh',
  'service-defaults': 'ServiceDefaults',
  'service-resolver': 'ServiceResolver',
  'service-splitter': 'ServiceSplitter',
  'service-router': 'ServiceRouter',
  'ingress-gateway': 'IngressGateway',
  'service-intentions': 'ServiceIntentions',
};

/** Objects whose keys are data (subset names, header names), not field names. */
const DATA_MAPS = new Set(['Subsets', 'Set', 'Add', 'Meta']);

/**
 * The consul-k8s custom resource for a config entry: the same structure under `spec`, with the
 * CRDs' camelCase field names (`PathPrefix` is `pathPrefix`, `HTTP` is `http`, `SourceIP` is
 * `sourceIP`; see consul-k8s `control-plane/api/v1alpha1/*_types.go`). ServiceIntentions names its
 * destination in `spec.destination` rather than by the object's name.
 */
export function crdObject(mesh: ResolvedMesh, { entry, namespace }: Built): K8sObject {
  const { Kind, Name, ...rest } = entry;
  let spec = camelize(rest) as Record<string, unknown>;
  if (Kind === 'service-intentions') spec = { destination: { name: Name }, ...spec };
  return k8sObject(mesh, CRD_API_VERSION, CRD_KIND[Kind], { name: Name, namespace }, { spec });
}

/** The CRDs' field names, for a writer that renames the keys under `spec` as it goes. */
export const CRD_SPEC_KEYS: SpecKeys = {
  name: fieldName,
  isDataMap: (key) => DATA_MAPS.has(key),
};

/**
 * The custom resource with its `spec` still in the config entry's field names: written with
 * `CRD_SPEC_KEYS`, it is the text of `crdObject` without a renamed copy of every entry.
 */
export function crdSource(mesh: ResolvedMesh, { entry, namespace }: Built): K8sObject {
  const { Kind, Name, ...rest } = entry;
  const spec = Kind === 'service-intentions' ? { destination: { name: Name }, ...rest } : rest;
  return k8sObject(mesh, CRD_API_VERSION, CRD_KIND[Kind], { name: Name, namespace }, { spec });
}

const fieldNames = new Map<string, string>();

function fieldName(key: string): string {
  let name = fieldNames.get(key);
  if (name === undefined) {
    name = /^[A-Z0-9]+$/.test(key) ? key.toLowerCase() : key[0]!.toLowerCase() + key.slice(1);
    if (fieldNames.size < 1000) fieldNames.set(key, name);
  }
  return name;
}

function camelize(v: unknown, dataMap = false): unknown {
  if (Array.isArray(v)) return v.map((x) => camelize(x));
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  const o = v as Record<string, unknown>;
  for (const k in o) {
    const x = o[k];
    if (x === undefined) continue;
    out[dataMap ? k : fieldName(k)] = camelize(x, !dataMap && DATA_MAPS.has(k));
  }
  return out;
}
