import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import AjvModule from 'ajv';

/**
 * Validates Kubernetes objects against the vendored official CRD schemas (test/crds/), rejecting
 * unknown fields as a Kubernetes API server with strict field validation does: every object schema
 * with `properties` and no `x-kubernetes-preserve-unknown-fields` gets `additionalProperties: false`.
 */
const CRD_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'crds');
const FOLDERS = ['gateway-api-crds', 'istio-crds', 'linkerd-crds', 'consul-crds'];

type Schema = Record<string, unknown>;
const Ajv = ((AjvModule as unknown as { default?: typeof AjvModule }).default ??
  AjvModule) as unknown as new (o: object) => {
  addKeyword(k: object): void;
  compile(s: Schema): ((d: unknown) => boolean) & {
    errors?: { instancePath: string; message?: string; params: unknown }[] | null;
  };
};

function strictify(s: unknown, root = true): unknown {
  if (!s || typeof s !== 'object') return s;
  if (Array.isArray(s)) return s.map((x) => strictify(x, false));
  const o: Schema = Object.fromEntries(Object.entries(s).map(([k, v]) => [k, strictify(v, false)]));
  if (o.properties && o.additionalProperties === undefined && !o['x-kubernetes-preserve-unknown-fields']) {
    if (root)
      o.properties = {
        apiVersion: { type: 'string' },
        kind: { type: 'string' },
        metadata: { type: 'object' },
        ...(o.properties as Schema),
      };
    o.additionalProperties = false;
  }
  return o;
}

let schemas: Map<string, Schema> | undefined;
function index(): Map<string, Schema> {
  if (schemas) return schemas;
  schemas = new Map();
  for (const folder of FOLDERS)
    for (const file of fs
      .readdirSync(path.join(CRD_DIR, folder))
      .filter((f) => /\.ya?ml$/.test(f))
      .sort())
      for (const doc of parseAllDocuments(fs.readFileSync(path.join(CRD_DIR, folder, file), 'utf8'))) {
        const crd = doc.toJS() as {
          kind?: string;
          spec: {
            group: string;
            names: { kind: string };
            versions: { name: string; schema: { openAPIV3Schema: Schema } }[];
          };
        };
        if (crd?.kind !== 'CustomResourceDefinition') continue;
        for (const v of crd.spec.versions) {
          const key = `${crd.spec.group}/${v.name}|${crd.spec.names.kind}`;
          if (!schemas.has(key)) schemas.set(key, v.schema.openAPIV3Schema);
        }
      }
  return schemas;
}

const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
ajv.addKeyword({
  keyword: 'x-kubernetes-int-or-string',
  schemaType: 'boolean',
  validate: (on: boolean, data: unknown) => !on || typeof data === 'string' || Number.isInteger(data),
});
const compiled = new Map<string, ReturnType<typeof ajv.compile>>();

/**
 * Core Kubernetes kinds have no CRD: a strict subset of the v1 Service and ServiceAccount schemas
 * (field names from k8s.io/api core/v1 types.go), enough to catch a misspelt field.
 */
const str = { type: 'string' };
const CORE: Record<string, Schema> = {
  'v1|Service': {
    type: 'object',
    required: ['apiVersion', 'kind', 'metadata', 'spec'],
    properties: {
      spec: {
        type: 'object',
        properties: {
          type: { enum: ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'] },
          clusterIP: str,
          selector: { type: 'object', additionalProperties: str },
          ports: {
            type: 'array',
            items: {
              type: 'object',
              required: ['port'],
              properties: {
                name: str,
                port: { type: 'integer', minimum: 1, maximum: 65535 },
                targetPort: { 'x-kubernetes-int-or-string': true },
                protocol: { enum: ['TCP', 'UDP', 'SCTP'] },
                appProtocol: str,
              },
            },
          },
        },
      },
    },
  },
  'v1|ServiceAccount': { type: 'object', required: ['apiVersion', 'kind', 'metadata'], properties: {} },
  'v1|Namespace': { type: 'object', required: ['apiVersion', 'kind', 'metadata'], properties: {} },
};

export interface CrdResult {
  ok: boolean;
  errors: string[];
}

export function validateObject(obj: { apiVersion?: string; kind?: string }): CrdResult {
  const key = `${obj.apiVersion}|${obj.kind}`;
  const schema = CORE[key] ?? index().get(key);
  if (!schema) return { ok: false, errors: [`no CRD for ${obj.apiVersion} ${obj.kind}`] };
  let v = compiled.get(key);
  if (!v) compiled.set(key, (v = ajv.compile(strictify(schema) as Schema)));
  if (v(obj)) return { ok: true, errors: [] };
  return {
    ok: false,
    errors: (v.errors ?? []).map(
      (e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`,
    ),
  };
}
