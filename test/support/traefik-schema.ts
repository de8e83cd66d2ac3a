import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import AjvModule from 'ajv';

/**
 * Validates the traefik target's files against Traefik's published v3 JSON Schemas, vendored from
 * SchemaStore in test/fixtures/traefik-schema/ (its README says where from and how they are read),
 * rejecting unknown fields: every object schema with `properties` that says nothing about others gets
 * `additionalProperties: false`. The file-provider schema lacks the serversTransports sections; the
 * strict copy adds them from Traefik's reference, each closed.
 */
const DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'traefik-schema');

type Schema = Record<string, unknown>;
interface Validate {
  (d: unknown): boolean;
  errors?: { instancePath: string; message?: string; params: unknown }[] | null;
}
const Ajv = ((AjvModule as unknown as { default?: typeof AjvModule }).default ??
  AjvModule) as unknown as new (o: object) => { compile(s: Schema): Validate };

function strictify(s: unknown): unknown {
  if (!s || typeof s !== 'object') return s;
  if (Array.isArray(s)) return s.map(strictify);
  const o: Schema = Object.fromEntries(Object.entries(s).map(([k, v]) => [k, strictify(v)]));
  if (o.properties && o.additionalProperties === undefined && o.patternProperties === undefined)
    o.additionalProperties = false;
  return o;
}

const str = { type: 'string' };
const strings = { type: 'array', items: str };
const certificates = {
  type: 'array',
  items: { type: 'object', properties: { certFile: str, keyFile: str } },
};
const spiffe = { type: 'object', properties: { ids: strings, trustDomain: str } };

/** From Traefik's docs/content/reference/dynamic-configuration/file.yaml (v3). */
const HTTP_SERVERS_TRANSPORT = {
  type: 'object',
  properties: {
    serverName: str,
    insecureSkipVerify: { type: 'boolean' },
    rootCAs: strings,
    certificates,
    maxIdleConnsPerHost: { type: 'integer' },
    forwardingTimeouts: {
      type: 'object',
      properties: {
        dialTimeout: str,
        responseHeaderTimeout: str,
        idleConnTimeout: str,
        readIdleTimeout: str,
        pingTimeout: str,
      },
    },
    disableHTTP2: { type: 'boolean' },
    peerCertURI: str,
    spiffe,
  },
};
const TCP_SERVERS_TRANSPORT = {
  type: 'object',
  properties: {
    dialKeepAlive: str,
    dialTimeout: str,
    terminationDelay: str,
    tls: {
      type: 'object',
      properties: {
        serverName: str,
        insecureSkipVerify: { type: 'boolean' },
        rootCAs: strings,
        certificates,
        peerCertURI: str,
        spiffe,
      },
    },
  },
};

/** One of the TCP middlewares of the reference: ipAllowList, ipWhiteList, inFlightConn. */
const TCP_MIDDLEWARE = {
  type: 'object',
  oneOf: [
    { properties: { ipAllowList: { type: 'object', properties: { sourceRange: strings } } } },
    { properties: { ipWhiteList: { type: 'object', properties: { sourceRange: strings } } } },
    { properties: { inFlightConn: { type: 'object', properties: { amount: { type: 'integer' } } } } },
  ].map((o) => ({ ...o, additionalProperties: false })),
};

function read(file: string): Schema {
  return JSON.parse(fs.readFileSync(path.join(DIR, file), 'utf8')) as Schema;
}

function dynamicSchema(): Schema {
  const s = read('traefik-v3-file-provider.json');
  const props = s.properties as Record<string, { properties: Schema }>;
  const map = (item: Schema) => ({ type: 'object', additionalProperties: item });
  props.http!.properties.serversTransports = map(HTTP_SERVERS_TRANSPORT);
  props.tcp!.properties.serversTransports = map(TCP_SERVERS_TRANSPORT);
  props.tcp!.properties.middlewares = map(TCP_MIDDLEWARE);
  // Traefik v3's TCP servers say whether they speak TLS to the backend
  const defs = s.definitions as Record<string, { properties: Record<string, { items: Schema }> }>;
  const server = defs.tcpLoadBalancerService!.properties.servers!.items;
  server.properties = { ...(server.properties as Schema), tls: { type: 'boolean' } };
  return strictify(s) as Schema;
}

const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
let dynamic: Validate | undefined;
let stat: Validate | undefined;

export interface SchemaResult {
  ok: boolean;
  errors: string[];
}

function run(validate: Validate, value: unknown): SchemaResult {
  const ok = validate(value);
  return {
    ok,
    errors: (validate.errors ?? []).map(
      (e) => `${e.instancePath || '/'}: ${e.message ?? ''} ${JSON.stringify(e.params)}`,
    ),
  };
}

/** The file provider's dynamic configuration (dynamic.yml). */
export function validateDynamic(value: unknown): SchemaResult {
  dynamic ??= ajv.compile(dynamicSchema());
  return run(dynamic, value);
}

/** The static configuration (traefik.yml). */
export function validateStatic(value: unknown): SchemaResult {
  stat ??= ajv.compile(strictify(read('traefik-v3.json')) as Schema);
  return run(stat, value);
}
