import type { Diagnostic } from '../model/diagnostics.js';
import { isRecord } from './builder.js';
import { located, type InputDocument } from './documents.js';
import { HclSourceFile } from './hcl.js';

/**
 * The types of the config entry fields the importer reads, as Consul decodes them (its api package's
 * structs: `ServiceResolverConfigEntry`, `ServiceSplit`, `ServiceRouteDestination`, ...). A value of
 * another type is an entry Consul refuses (`consul config write` fails to decode it) or reads otherwise:
 * the importer says so at the value instead of reading past it. Keys are matched by their letters alone
 * (lower case, no underscores), as the importer reads them; fields not listed are left to the importer.
 */
type Spec =
  | 'string'
  | 'number'
  | 'bool'
  | 'duration'
  | { readonly list: Spec }
  | { readonly map: Spec }
  | { readonly object: Readonly<Record<string, Spec>> };

const list = (of: Spec): Spec => ({ list: of });
const map = (of: Spec): Spec => ({ map: of });
const object = (fields: Record<string, Spec>): Spec => ({ object: fields });
const strings = list('string');

const HEADERS = object({ add: map('string'), set: map('string'), remove: strings });
const HEADER_MATCH = object({
  name: 'string',
  present: 'bool',
  exact: 'string',
  prefix: 'string',
  suffix: 'string',
  regex: 'string',
  invert: 'bool',
});
const UPSTREAM = {
  name: 'string',
  namespace: 'string',
  protocol: 'string',
  connecttimeoutms: 'number',
  limits: object({ maxconnections: 'number', maxpendingrequests: 'number', maxconcurrentrequests: 'number' }),
  passivehealthcheck: object({
    interval: 'duration',
    maxfailures: 'number',
    enforcingconsecutive5xx: 'number',
    maxejectionpercent: 'number',
    baseejectiontime: 'duration',
  }),
} as const satisfies Record<string, Spec>;
const TARGET = {
  service: 'string',
  servicesubset: 'string',
  namespace: 'string',
  partition: 'string',
  datacenter: 'string',
  peer: 'string',
} as const satisfies Record<string, Spec>;

const COMMON: Record<string, Spec> = {
  kind: 'string',
  name: 'string',
  namespace: 'string',
  partition: 'string',
  meta: map('string'),
};

const ENTRY_SPECS: Readonly<Record<string, Readonly<Record<string, Spec>>>> = {
  'service-defaults': {
    ...COMMON,
    protocol: 'string',
    mutualtlsmode: 'string',
    upstreamconfig: object({ defaults: object(UPSTREAM), overrides: list(object(UPSTREAM)) }),
  },
  'service-resolver': {
    ...COMMON,
    defaultsubset: 'string',
    subsets: map(object({ filter: 'string', onlypassing: 'bool' })),
    redirect: object({ ...TARGET, samenessgroup: 'string' }),
    failover: map(
      object({
        service: 'string',
        servicesubset: 'string',
        namespace: 'string',
        datacenters: strings,
        targets: list(object(TARGET)),
        samenessgroup: 'string',
        policy: object({ mode: 'string', regions: strings }),
      }),
    ),
    connecttimeout: 'duration',
    requesttimeout: 'duration',
    loadbalancer: object({
      policy: 'string',
      hashpolicies: list(
        object({
          field: 'string',
          fieldvalue: 'string',
          sourceip: 'bool',
          terminal: 'bool',
          cookieconfig: object({ session: 'bool', ttl: 'duration', path: 'string' }),
        }),
      ),
    }),
  },
  'service-router': {
    ...COMMON,
    routes: list(
      object({
        match: object({
          http: object({
            pathexact: 'string',
            pathprefix: 'string',
            pathregex: 'string',
            header: list(HEADER_MATCH),
            queryparam: list(object({ name: 'string', present: 'bool', exact: 'string', regex: 'string' })),
            methods: strings,
          }),
        }),
        destination: object({
          service: 'string',
          servicesubset: 'string',
          namespace: 'string',
          partition: 'string',
          prefixrewrite: 'string',
          requesttimeout: 'duration',
          idletimeout: 'duration',
          numretries: 'number',
          retryonconnectfailure: 'bool',
          retryon: strings,
          retryonstatuscodes: list('number'),
          requestheaders: HEADERS,
          responseheaders: HEADERS,
        }),
      }),
    ),
  },
  'service-splitter': {
    ...COMMON,
    splits: list(
      object({
        weight: 'number',
        service: 'string',
        servicesubset: 'string',
        namespace: 'string',
        partition: 'string',
        requestheaders: HEADERS,
        responseheaders: HEADERS,
      }),
    ),
  },
  'service-intentions': {
    ...COMMON,
    destination: object({ name: 'string', namespace: 'string' }),
    sources: list(
      object({
        name: 'string',
        namespace: 'string',
        partition: 'string',
        peer: 'string',
        action: 'string',
        description: 'string',
        permissions: list(
          object({
            action: 'string',
            http: object({
              pathexact: 'string',
              pathprefix: 'string',
              pathregex: 'string',
              methods: strings,
              header: list(HEADER_MATCH),
            }),
          }),
        ),
      }),
    ),
  },
  'ingress-gateway': {
    ...COMMON,
    tls: object({ enabled: 'bool' }),
    listeners: list(
      object({
        port: 'number',
        protocol: 'string',
        services: list(
          object({
            name: 'string',
            namespace: 'string',
            hosts: strings,
            requestheaders: HEADERS,
            responseheaders: HEADERS,
          }),
        ),
      }),
    ),
  },
};

/** Go's time.ParseDuration, which Consul's duration fields use: `5s`, `1m30s`, `250ms`, `0`. */
const GO_DURATION = /^[-+]?(0|((\d+(\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h))+)$/;

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (isRecord(value)) return 'an object';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  return `${typeof value === 'number' ? 'the number' : typeof value === 'boolean' ? 'the bool' : ''} ${String(value)}`.trim();
}

function want(spec: Spec): string {
  if (typeof spec === 'string')
    return spec === 'duration'
      ? 'a duration string (such as "5s")'
      : spec === 'bool'
        ? 'a bool'
        : `a ${spec}`;
  if ('list' in spec) return 'a list';
  return 'an object';
}

/**
 * Checks one entry's fields against their types: each value of another type is one MG7013, located at
 * it, naming the field, what it holds and what Consul takes.
 */
export function checkEntryTypes(
  kind: string,
  label: string,
  doc: InputDocument,
  body: unknown,
  at: (string | number)[],
  diagnostics: Diagnostic[],
): void {
  const hcl = doc.source instanceof HclSourceFile;
  const wrong = (path: (string | number)[], name: string, value: unknown, spec: Spec, extra = '') =>
    diagnostics.push(
      located(
        'MG7013',
        doc,
        path,
        `${label}: ${name} is ${describe(value)}, where Consul takes ${want(spec)}${extra}: the entry would be refused, so it is not read`,
      ),
    );
  const check = (value: unknown, spec: Spec, path: (string | number)[], name: string): void => {
    if (value === undefined || value === null) return;
    if (spec === 'string' || spec === 'number' || spec === 'bool') {
      const ok = typeof value === (spec === 'bool' ? 'boolean' : spec);
      if (!ok) wrong(path, name, value, spec);
      return;
    }
    if (spec === 'duration') {
      if (typeof value === 'number') wrong(path, name, value, spec, ' (a bare number is not a duration)');
      else if (typeof value !== 'string' || !GO_DURATION.test(value)) wrong(path, name, value, spec);
      return;
    }
    if ('list' in spec) {
      // in HCL a single block `Key { ... }` is a list of one object, as Consul's decoder reads it
      if (hcl && isRecord(value) && typeof spec.list === 'object' && 'object' in spec.list)
        return check(value, spec.list, path, name);
      if (!Array.isArray(value)) {
        wrong(path, name, value, spec);
        return;
      }
      value.forEach((v, i) => check(v, spec.list, [...path, i], `${name}[${i}]`));
      return;
    }
    if (!isRecord(value)) {
      wrong(path, name, value, spec);
      return;
    }
    if ('map' in spec) {
      for (const [k, v] of Object.entries(value)) check(v, spec.map, [...path, k], `${name}.${k}`);
      return;
    }
    for (const [k, v] of Object.entries(value)) {
      const field = spec.object[k.toLowerCase().replace(/_/g, '')];
      if (field) check(v, field, [...path, k], name ? `${name}.${k}` : k);
    }
  };
  const spec = ENTRY_SPECS[kind];
  if (spec) check(body, { object: spec }, at, '');
}
