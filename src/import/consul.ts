import type { KnownCode } from '../model/diagnostics.js';
import {
  MeshBuilder,
  isRecord,
  meshDuration,
  type AllowDoc,
  type BackendDraft,
  type RouteDoc,
} from './builder.js';
import { locate, located, originOf, type InputDocument } from './documents.js';
import type { Importer, ImportOptions, ImportResult } from './types.js';
import { checkEntryTypes } from './consul-schema.js';
import { HclSourceFile } from './hcl.js';

/** The Kubernetes CRD kind of each config entry kind. */
const CRD_KINDS: Record<string, string> = {
  ServiceDefaults: 'service-defaults',
  ServiceResolver: 'service-resolver',
  ServiceRouter: 'service-router',
  ServiceSplitter: 'service-splitter',
  ServiceIntentions: 'service-intentions',
  IngressGateway: 'ingress-gateway',
};
const KINDS = Object.values(CRD_KINDS);

type Path = (string | number)[];

/**
 * A field of a config entry. The three forms users write (CRD camelCase, `consul config write`
 * PascalCase, HCL's snake_case) differ only in how keys are spelled, so a key is looked up by its
 * letters alone, and the path keeps the spelling found, to locate diagnostics.
 */
class Field {
  constructor(
    readonly doc: InputDocument,
    readonly path: Path,
    readonly value: unknown,
  ) {}

  get(name: string): Field {
    const want = name.toLowerCase();
    if (isRecord(this.value))
      for (const [k, v] of Object.entries(this.value))
        if (k.toLowerCase().replace(/_/g, '') === want) return new Field(this.doc, [...this.path, k], v);
    return new Field(this.doc, [...this.path, name], undefined);
  }
  get present(): boolean {
    return this.value !== undefined && this.value !== null && this.value !== '';
  }
  str(): string | undefined {
    return typeof this.value === 'string' && this.value !== '' ? this.value : undefined;
  }
  num(): number | undefined {
    return typeof this.value === 'number' ? this.value : undefined;
  }
  items(): Field[] {
    if (isRecord(this.value) && this.doc.source instanceof HclSourceFile) return [this]; // a single HCL block `Key { ... }` is a list of one, as Consul's decoder reads it
    return Array.isArray(this.value)
      ? this.value.map((v, i) => new Field(this.doc, [...this.path, i], v))
      : [];
  }
  entries(): [string, Field][] {
    return isRecord(this.value)
      ? Object.entries(this.value).map(([k, v]) => [k, new Field(this.doc, [...this.path, k], v)])
      : [];
  }
  keys(): string[] {
    return isRecord(this.value) ? Object.keys(this.value).map((k) => k.toLowerCase().replace(/_/g, '')) : [];
  }
}

interface Entry {
  readonly kind: string;
  readonly name: string;
  readonly body: Field;
  /** `Kind Name` as the diagnostics name it. */
  readonly label: string;
}

/** Consul config entries: Kubernetes CRDs, JSON as `consul config write` takes, or HCL. */
export const consul: Importer = {
  from: 'consul',
  summary:
    'Consul service-defaults, service-resolver, service-router, service-splitter, service-intentions, ingress-gateway (CRDs, JSON or HCL)',
  kinds: [...Object.keys(CRD_KINDS), ...KINDS],
  import: importConsul,
};

function importConsul(documents: readonly InputDocument[], options: ImportOptions): ImportResult {
  const namespaces = new Map<string, number>();
  const entries: Entry[] = [];
  const ignored = new Map<string, { doc: InputDocument; count: number }>();
  const diagnostics: ReturnType<typeof located>[] = [];
  for (const doc of documents) {
    const top = new Field(doc, [], doc.value);
    const kindField = top.get('kind');
    const kindName = kindField.str();
    if (!kindName) {
      diagnostics.push(located('MG7008', doc, [], 'not a Consul config entry (no Kind): skipped'));
      continue;
    }
    const isCrd = isRecord(doc.value) && 'apiVersion' in doc.value;
    const kind = isCrd ? CRD_KINDS[kindName] : kindName.toLowerCase();
    if (!kind || !KINDS.includes(kind)) {
      const seen = ignored.get(kindName);
      if (seen) seen.count++;
      else ignored.set(kindName, { doc, count: 1 });
      continue;
    }
    const metadata = top.get('metadata');
    const name = isCrd ? metadata.get('name').str() : top.get('name').str();
    if (!name) {
      diagnostics.push(located('MG7008', doc, kindField.path, `${kindName} without a name: skipped`));
      continue;
    }
    const ns = isCrd ? metadata.get('namespace').str() : top.get('namespace').str();
    if (ns) namespaces.set(ns, (namespaces.get(ns) ?? 0) + 1);
    const body = isCrd ? top.get('spec') : top;
    const before = diagnostics.length;
    checkEntryTypes(kind, `${kind} ${name}`, doc, body.value, body.path, diagnostics);
    // Consul refuses an entry with a value of the wrong type: it is not read at all
    if (diagnostics.length > before) continue;
    entries.push({ kind, name, body, label: `${kind} ${name}` });
  }
  for (const [kind, { doc, count }] of ignored)
    diagnostics.push(
      located(
        'MG7003',
        doc,
        ['kind'],
        `${count} ${kind} entr${count === 1 ? 'y' : 'ies'} ignored: the importer does not use the kind ${kind}`,
      ),
    );
  const namespace = options.namespace ?? [...namespaces].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'default';
  const mesh = new MeshBuilder(namespace);
  mesh.diagnostics.push(...diagnostics);
  new ConsulImport(entries, mesh).run();
  return mesh.finish(options.name ?? namespace);
}

const LB: Record<string, 'least-request' | 'random' | 'ring-hash' | 'round-robin'> = {
  round_robin: 'round-robin',
  least_request: 'least-request',
  random: 'random',
  ring_hash: 'ring-hash',
  maglev: 'ring-hash',
};
const PROTOCOLS = { http: 'http', http2: 'http2', grpc: 'grpc', tcp: 'tcp' } as const;
/** `Service.Meta.version == "v1"`; bexpr also takes an unquoted value (`== 2`). */
const VERSION_FILTER = /^\s*Service\.Meta\.version\s*==\s*(?:"([^"]*)"|([A-Za-z0-9_.-]+))\s*$/;
/** Envoy's retry conditions that Consul's RetryOn takes and the mesh has. */
const RETRY_ON = new Set(['5xx', 'gateway-error', 'reset', 'connect-failure', 'retriable-4xx']);
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'CONNECT', 'TRACE']);

class ConsulImport {
  private readonly byKind = new Map<string, Map<string, Entry>>();

  constructor(
    private readonly entries: Entry[],
    private readonly mesh: MeshBuilder,
  ) {
    for (const k of KINDS) this.byKind.set(k, new Map());
    for (const e of entries) {
      // intentions name their destination in the body (CRDs) or by Name (config entries)
      const name =
        e.kind === 'service-intentions' ? (e.body.get('destination').get('name').str() ?? e.name) : e.name;
      this.byKind.get(e.kind)!.set(name, e);
    }
  }

  private of(kind: string, name: string): Entry | undefined {
    return this.byKind.get(kind)!.get(name);
  }

  private notCarried(at: Field, message: string, code: KnownCode = 'MG7004', hint?: string): void {
    this.mesh.diagnostics.push(located(code, at.doc, at.path, message, hint));
  }

  /**
   * A service that only routes: the consul target writes a route's split as a service of its own
   * (`<parent>--<route>`, a splitter and service-defaults), and a frontend's routes as one with a
   * router. A service with a splitter or router and no resolver or intentions, that another entry
   * names and that routes to nothing of its own name, is such a service, not a backend.
   */
  private isVirtual(name: string): boolean {
    if (this.of('service-intentions', name)) return false;
    const redirect = this.of('service-resolver', name)?.body.get('redirect');
    if (redirect?.present)
      return this.referenced.has(name) && (redirect.get('service').str() ?? name) !== name;
    if (this.of('service-resolver', name)) return false;
    const router = this.of('service-router', name);
    const splitter = this.of('service-splitter', name);
    if (!router && !splitter) return false;
    const targets = [
      ...(router?.body.get('routes').items() ?? []).map(
        (r) => r.get('destination').get('service').str() ?? name,
      ),
      ...(splitter?.body.get('splits').items() ?? []).map((s) => s.get('service').str() ?? name),
    ];
    return !targets.includes(name) && this.referenced.has(name);
  }

  private readonly referenced = new Set<string>();
  /** Services whose intentions deny "*" (what no source names is denied). */
  private readonly deniesStar = new Set<string>();

  run(): void {
    for (const e of this.entries) {
      if (e.kind === 'service-router')
        for (const r of e.body.get('routes').items()) {
          const s = r.get('destination').get('service').str();
          if (s && s !== e.name) this.referenced.add(s);
        }
      if (e.kind === 'service-splitter')
        for (const s of e.body.get('splits').items()) {
          const n = s.get('service').str();
          if (n && n !== e.name) this.referenced.add(n);
        }
      if (e.kind === 'ingress-gateway')
        for (const l of e.body.get('listeners').items())
          for (const s of l.get('services').items()) {
            const n = s.get('name').str();
            if (n) this.referenced.add(n);
          }
    }
    const names = new Set<string>();
    for (const e of this.entries) if (e.kind !== 'ingress-gateway') names.add(this.serviceOf(e));
    for (const e of this.entries)
      if (e.kind === 'service-router' || e.kind === 'service-splitter')
        for (const d of [
          ...e.body
            .get('routes')
            .items()
            .map((r) => r.get('destination')),
          ...e.body.get('splits').items(),
        ]) {
          const s = d.get('service').str();
          if (s) names.add(s);
        }
    for (const e of this.entries)
      if (e.kind === 'ingress-gateway')
        for (const l of e.body.get('listeners').items())
          for (const x of l.get('services').items()) {
            const n = x.get('name').str();
            if (n) names.add(n);
          }
    const backends = [...names].filter((n) => n !== '*' && !this.isVirtual(n));
    this.mesh.mtls = { mode: 'strict' };
    for (const n of backends) this.mesh.backend(n);
    for (const n of backends) {
      this.defaults(n);
      this.resolver(n);
    }
    this.mtlsModes(backends);
    this.upstreams(backends);
    for (const n of backends) this.routes(n, { backend: n });
    for (const e of this.entries) if (e.kind === 'ingress-gateway') this.gateway(e);
    for (const n of backends) this.intentions(n);
    // every service denying "*" is the mesh's defaultAccess: deny, as the consul target writes it
    if (backends.length && backends.every((n) => this.deniesStar.has(n))) {
      this.mesh.defaultAccess = 'deny';
      for (const n of backends) if (this.mesh.access.get(n)?.length === 0) this.mesh.access.delete(n);
    }
  }

  /**
   * Consul's proxies take mTLS only (strict) unless a service says MutualTLSMode permissive. When
   * every service with service-defaults says permissive, that is the mesh's mode; otherwise the mesh
   * is strict and the permissive services say so.
   */
  private mtlsModes(backends: string[]): void {
    const drafts = backends.map((n) => this.mesh.backend(n));
    const withDefaults = drafts.filter((b) => this.of('service-defaults', b.name));
    const permissive =
      withDefaults.length > 0 && withDefaults.every((b) => b.rest.mtls?.mode === 'permissive');
    this.mesh.mtls = { mode: permissive ? 'permissive' : 'strict' };
    for (const b of drafts) if (b.rest.mtls?.mode === this.mesh.mtls.mode) delete b.rest.mtls;
  }

  /**
   * A service's UpstreamConfig sets how it calls its upstreams: an override naming X is X's limits
   * and passive health as that caller sees them, which the mesh sets on X for every caller (the
   * consul target writes the same override into every service's defaults). Defaults for every
   * upstream of one caller have no mesh equivalent.
   */
  private upstreams(backends: string[]): void {
    const seen = new Map<string, string>();
    for (const e of this.entries) {
      if (e.kind !== 'service-defaults') continue;
      const upstream = e.body.get('upstreamConfig');
      if (upstream.get('defaults').present)
        this.notCarried(
          upstream.get('defaults'),
          `${e.label}: upstream defaults for every service ${e.name} calls are not carried: the mesh sets limits per backend`,
        );
      for (const o of upstream.get('overrides').items()) {
        const x = o.get('name').str();
        if (!x || !backends.includes(x)) {
          this.notCarried(
            o,
            `${e.label}: the upstream override for ${String(x)}, no imported service, is not carried`,
            'MG7005',
          );
          continue;
        }
        const settings = this.upstreamSettings(e, o);
        const key = JSON.stringify(settings);
        const before = seen.get(x);
        if (before === undefined) {
          seen.set(x, key);
          Object.assign(this.mesh.backend(x).rest, settings);
        } else if (before !== key)
          this.notCarried(
            o,
            `${e.label}: the upstream override for ${x} differs from another caller's: the mesh sets one per backend, the first read is kept`,
          );
      }
    }
  }

  private upstreamSettings(e: Entry, c: Field): Partial<BackendDraft['rest']> {
    const out: Partial<BackendDraft['rest']> = {};
    const phc = c.get('passiveHealthCheck');
    if (phc.present) {
      const interval = meshDuration(phc.get('interval').value);
      const base = meshDuration(phc.get('baseEjectionTime').value);
      const max = phc.get('maxFailures').num();
      const pct = phc.get('maxEjectionPercent').num();
      out.outlierDetection = {
        ...(max ? { consecutiveErrors: max } : {}),
        ...(interval ? { interval } : {}),
        ...(base ? { baseEjectionTime: base } : {}),
        ...(pct !== undefined ? { maxEjectionPercent: pct } : {}),
      };
    }
    const limits = c.get('limits');
    const cb = {
      ...(limits.get('maxConnections').num() ? { maxConnections: limits.get('maxConnections').num()! } : {}),
      ...(limits.get('maxPendingRequests').num()
        ? { maxPendingRequests: limits.get('maxPendingRequests').num()! }
        : {}),
      ...(limits.get('maxConcurrentRequests').num()
        ? { maxRequests: limits.get('maxConcurrentRequests').num()! }
        : {}),
    };
    if (Object.keys(cb).length) out.circuitBreaker = cb;
    for (const k of c.keys())
      if (!['name', 'namespace', 'passivehealthcheck', 'limits', 'protocol'].includes(k))
        this.notCarried(c.get(k), `${e.label}: upstream ${k} is not carried`);
    return out;
  }

  private serviceOf(e: Entry): string {
    return e.kind === 'service-intentions' ? (e.body.get('destination').get('name').str() ?? e.name) : e.name;
  }

  private defaults(name: string): void {
    const e = this.of('service-defaults', name);
    if (!e) return;
    const b = this.mesh.backend(name);
    const p = e.body.get('protocol');
    const proto = PROTOCOLS[String(p.value) as keyof typeof PROTOCOLS];
    if (proto) b.protocol = proto;
    else if (p.present)
      this.notCarried(
        p,
        `${e.label}: protocol ${String(p.value)} is not carried: the mesh knows http, http2, grpc and tcp`,
      );
    const mode = e.body.get('mutualTLSMode');
    if (mode.str() === 'strict' || mode.str() === 'permissive')
      b.rest.mtls = { mode: mode.str() as 'strict' | 'permissive' };
    else if (mode.present)
      this.notCarried(mode, `${e.label}: MutualTLSMode ${String(mode.value)} is not carried`);
    for (const k of e.body.keys())
      if (
        ![
          'kind',
          'name',
          'namespace',
          'partition',
          'protocol',
          'mutualtlsmode',
          'upstreamconfig',
          'meta',
        ].includes(k)
      )
        this.notCarried(e.body.get(k), `${e.label}: ${k} is not carried`);
  }

  private resolver(name: string): void {
    const e = this.of('service-resolver', name);
    if (!e) return;
    const b = this.mesh.backend(name);
    for (const [subset, f] of e.body.get('subsets').entries()) {
      const filter = f.get('filter');
      const m = VERSION_FILTER.exec(filter.str() ?? '');
      b.versions.set(subset, { labels: { version: m ? (m[1] ?? m[2]!) : subset } });
      if (!m)
        this.notCarried(
          filter,
          `${e.label}: subset ${subset}'s filter is not carried: the mesh selects versions by Service.Meta.version; the version is labelled version=${subset}`,
        );
    }
    const lb = e.body.get('loadBalancer');
    if (lb.present) {
      const policy = LB[String(lb.get('policy').value)];
      if (policy && policy !== 'round-robin') b.rest.loadBalancer = policy;
      else if (!policy && lb.get('policy').present)
        this.notCarried(
          lb.get('policy'),
          `${e.label}: load balancer ${String(lb.get('policy').value)} is not carried`,
        );
      const hashes = lb.get('hashPolicies').items();
      const h = hashes[0];
      if (h && policy === 'ring-hash') {
        const field = h.get('field').str();
        if (h.get('sourceIP').value === true) b.rest.hashOn = { sourceIp: true };
        else if (field === 'header' && h.get('fieldValue').str())
          b.rest.hashOn = { header: h.get('fieldValue').str()! };
        else if (field === 'cookie' && h.get('fieldValue').str())
          b.rest.hashOn = { cookie: h.get('fieldValue').str()! };
        else this.notCarried(h, `${e.label}: hash policy on ${field ?? 'nothing'} is not carried`);
      }
      if (hashes.length > 1)
        this.notCarried(hashes[1]!, `${e.label}: hash policies after the first are not carried`);
    }
    if (e.body.get('redirect').present && !this.isVirtual(name))
      this.notCarried(
        e.body.get('redirect'),
        `${e.label}: a redirect of a service that is itself called is not carried: the mesh routes a backend to its own versions`,
      );
    for (const k of ['connectTimeout', 'requestTimeout'] as const) {
      const f = e.body.get(k);
      if (f.present)
        this.notCarried(
          f,
          k === 'connectTimeout'
            ? `${e.label}: ConnectTimeout ${String(f.value)} is not carried: the mesh has no connect timeout (a route's timeout and retries.perTryTimeout bound whole requests, not the connection)`
            : `${e.label}: RequestTimeout ${String(f.value)} is not carried: the mesh sets timeouts per route, not per service (a service-router destination's RequestTimeout is carried)`,
        );
    }
    // Failover sends to other targets only when every instance of a subset is unhealthy; the mesh
    // has no such fallback (outlierDetection ejects failing endpoints within a version)
    for (const [subset, f] of e.body.get('failover').entries()) {
      const targets = [
        ...f
          .get('targets')
          .items()
          .map((t) => this.failoverTarget(t, name)),
        ...(f.get('service').present || f.get('serviceSubset').present ? [this.failoverTarget(f, name)] : []),
        ...f
          .get('datacenters')
          .items()
          .map((d) => `datacenter ${String(d.value)}`),
        ...(f.get('samenessGroup').present ? [`sameness group ${String(f.get('samenessGroup').value)}`] : []),
        ...(f.get('policy').present
          ? [`policy ${String(f.get('policy').get('mode').value ?? '')}`.trim()]
          : []),
      ];
      this.notCarried(
        f,
        `${e.label}: failover of ${subset === '*' ? 'every subset' : `subset ${subset}`} (to ${targets.join(', ') || 'nothing'}) is not carried: the mesh has no failover to another version, service or datacenter when one is unhealthy`,
        'MG7004',
        'outlierDetection (from UpstreamConfig PassiveHealthCheck) ejects failing endpoints of a version; a route split or a redirect would send traffic there always, not only on failure',
      );
    }
    const policy = e.body.get('failoverPolicy');
    if (policy.present)
      this.notCarried(
        policy,
        `${e.label}: FailoverPolicy is not carried: the mesh has no failover to another version, service or datacenter`,
      );
  }

  private failoverTarget(t: Field, service: string): string {
    const svc = t.get('service').str() ?? service;
    const sub = t.get('serviceSubset').str();
    const where = [
      t.get('namespace').str(),
      t.get('partition').str(),
      t.get('datacenter').str(),
      t.get('peer').str(),
    ]
      .filter(Boolean)
      .join('/');
    return `${svc}${sub ? `/${sub}` : ''}${where ? ` in ${where}` : ''}`;
  }

  /** A subset named by a route or split: a version of the service, defined by its resolver or taken to be Service.Meta.version. */
  private subset(service: string, subset: string, at: Field): void {
    const b = this.mesh.backends.get(service);
    if (b && !b.versions.has(subset)) {
      b.versions.set(subset, { labels: { version: subset } });
      this.notCarried(
        at.get('serviceSubset').present ? at.get('serviceSubset') : at,
        `subset ${subset} of ${service} is defined by no service-resolver among the inputs: the version ${subset} is taken to be Service.Meta.version == "${subset}"`,
        'MG7005',
      );
    }
  }

  /** Where a destination goes: a subset, the service's splits, or its default subset. */
  private destination(
    service: string,
    subset: string | undefined,
    at: Field,
    from: string,
  ): RouteDoc['to'] | undefined {
    if (subset) {
      this.subset(service, subset, at);
      return [{ backend: service, version: subset }];
    }
    const splitter = this.of('service-splitter', service);
    if (splitter) {
      const splits = splitter.body
        .get('splits')
        .items()
        .filter((s) => (s.get('weight').num() ?? 0) > 0);
      const to = splits.map((s) => {
        const svc = s.get('service').str() ?? service;
        const sub = s.get('serviceSubset').str();
        if (sub) this.subset(svc, sub, s);
        if (!sub && svc !== service && this.of('service-splitter', svc))
          this.notCarried(
            s,
            `${splitter.label}: a split to ${svc}, which splits again, goes to all of ${svc}'s versions`,
          );
        const w = s.get('weight').num()!;
        if (!Number.isInteger(w))
          this.notCarried(
            s.get('weight'),
            `${splitter.label}: weight ${w} is rounded to ${Math.round(w)}: the mesh splits in whole percent`,
          );
        return { backend: svc, ...(sub ? { version: sub } : {}), weight: Math.round(w) };
      });
      return to.length === 1
        ? [{ backend: to[0]!.backend, ...(to[0]!.version ? { version: to[0]!.version } : {}) }]
        : (to as RouteDoc['to']);
    }
    const redirect = this.of('service-resolver', service)?.body.get('redirect');
    if (redirect?.present) {
      for (const k of redirect.keys())
        if (!['service', 'servicesubset', 'namespace'].includes(k))
          this.notCarried(redirect.get(k), `service-resolver ${service}: a redirect's ${k} is not carried`);
      const to = redirect.get('service').str() ?? service;
      const sub = redirect.get('serviceSubset').str();
      if (to !== service && this.isVirtual(to)) {
        this.notCarried(
          redirect,
          `service-resolver ${service}: a redirect to ${to}, which routes again, is not carried`,
        );
        return undefined;
      }
      return [{ backend: to, ...(sub ? { version: sub } : {}) }];
    }
    if (service !== from && this.isVirtual(service)) {
      this.notCarried(
        at,
        `a route to ${service}, whose router routes again, is not carried: the mesh does not chain routers`,
      );
      return undefined;
    }
    const def = this.of('service-resolver', service)?.body.get('defaultSubset').str();
    return [{ backend: service, ...(def ? { version: def } : {}) }];
  }

  /** The router of `service` in order, then the default route Consul adds when nothing matches. */
  private routes(service: string, parent: RouteDoc['parent']): void {
    const router = this.of('service-router', service);
    let catchAll = false;
    let prev: RouteDoc | undefined;
    for (const r of router?.body.get('routes').items() ?? []) {
      const route = this.route(router!, r, service, parent);
      if (!route) continue;
      catchAll ||= route.match === undefined;
      // the consul target writes one route per match of a mesh route; routes in a row that go to
      // the same destination are one route of several matches, as first-match order is kept
      const last = this.mesh.routes.at(-1)?.route;
      const same = (x: RouteDoc) => JSON.stringify({ ...x, name: '', match: undefined });
      if (last && prev === last && last.match && route.match && same(last) === same(route)) {
        last.match = [...last.match, ...route.match] as RouteDoc['match'];
        continue;
      }
      prev = route;
      this.mesh.routes.push({
        route,
        origin: `${originOf(r.doc, r.path)} (${router!.label}, routes[${String(r.path.at(-1))}])`,
      });
    }
    if (catchAll) return;
    const splitter = this.of('service-splitter', service);
    const def = this.of('service-resolver', service)?.body.get('defaultSubset');
    const redirect = this.of('service-resolver', service)?.body.get('redirect');
    // a frontend's router with no route matching falls to a service without instances: nothing
    if (!splitter && !def?.present && !redirect?.present) return;
    const source =
      splitter?.body.get('splits') ??
      (def?.present ? def : undefined) ??
      (redirect?.present ? redirect : undefined) ??
      router?.body;
    const to = this.destination(service, undefined, source!, '');
    if (!to) return;
    const route: RouteDoc = {
      name: this.mesh.routeName('frontend' in parent ? (parent.frontend ?? service) : service),
      parent,
      to,
    };
    if (splitter) this.splitHeaders(splitter, route);
    if (router)
      this.mesh.diagnostics.push(
        located(
          'MG7006',
          router.body.doc,
          router.body.get('routes').path,
          `${router.label}: requests no route matches go to ${service} itself: the mesh says so with a last route`,
        ),
      );
    this.mesh.routes.push({
      route,
      origin: `${originOf((splitter ?? router)?.body.doc ?? source!.doc, source!.path)} (${(splitter ?? router)?.label ?? `service-resolver ${service}`})`,
    });
  }

  private splitHeaders(splitter: Entry, route: RouteDoc): void {
    const splits = splitter.body.get('splits').items();
    const with_ = splits.filter((s) => s.get('requestHeaders').present || s.get('responseHeaders').present);
    if (!with_.length) return;
    const same = splits.every(
      (s) =>
        JSON.stringify([s.get('requestHeaders').value, s.get('responseHeaders').value]) ===
        JSON.stringify([splits[0]!.get('requestHeaders').value, splits[0]!.get('responseHeaders').value]),
    );
    if (!same) {
      this.notCarried(
        with_[0]!,
        `${splitter.label}: header modifiers that differ per split are not carried: the mesh sets headers per route`,
      );
      return;
    }
    const h = this.headers(splits[0]!);
    if (h) route.headers = h;
  }

  private headers(f: Field): RouteDoc['headers'] | undefined {
    const ops = (m: Field) => {
      if (!m.present) return undefined;
      const rec = (x: Field) =>
        isRecord(x.value) && Object.keys(x.value).length
          ? Object.fromEntries(Object.entries(x.value).map(([k, v]) => [k, String(v)]))
          : undefined;
      const add = rec(m.get('add'));
      const set = rec(m.get('set'));
      const remove = m
        .get('remove')
        .items()
        .map((x) => String(x.value));
      const out = { ...(set ? { set } : {}), ...(add ? { add } : {}), ...(remove.length ? { remove } : {}) };
      return Object.keys(out).length ? out : undefined;
    };
    const request = ops(f.get('requestHeaders'));
    const response = ops(f.get('responseHeaders'));
    return request || response
      ? { ...(request ? { request } : {}), ...(response ? { response } : {}) }
      : undefined;
  }

  private route(router: Entry, r: Field, service: string, parent: RouteDoc['parent']): RouteDoc | undefined {
    const http = r.get('match').get('http');
    const label = `${router.label}, routes[${String(r.path.at(-1))}]`;
    const match: NonNullable<RouteDoc['match']>[number] = {};
    if (http.get('pathExact').str()) match.path = { exact: http.get('pathExact').str()! };
    else if (http.get('pathPrefix').str()) match.path = { prefix: http.get('pathPrefix').str()! };
    else if (http.get('pathRegex').str()) match.path = { regex: http.get('pathRegex').str()! };
    for (const h of http.get('header').items()) {
      const name = h.get('name').str();
      if (!name) continue;
      if (h.get('invert').value === true || h.get('suffix').present) {
        this.notCarried(
          h,
          `${label}: an inverted or suffix header match is not carried; the route is left out so that it matches nothing it did not`,
        );
        return undefined;
      }
      const m =
        h.get('exact').str() !== undefined
          ? { exact: h.get('exact').str()! }
          : h.get('prefix').str() !== undefined
            ? { prefix: h.get('prefix').str()! }
            : h.get('regex').str() !== undefined
              ? { regex: h.get('regex').str()! }
              : { present: true as const };
      match.headers = { ...match.headers, [name]: m };
    }
    for (const q of http.get('queryParam').items()) {
      const name = q.get('name').str();
      if (!name) continue;
      const m =
        q.get('exact').str() !== undefined
          ? { exact: q.get('exact').str()! }
          : q.get('regex').str() !== undefined
            ? { regex: q.get('regex').str()! }
            : { present: true as const };
      match.queryParams = { ...match.queryParams, [name]: m };
    }
    const methods = http
      .get('methods')
      .items()
      .map((m) => String(m.value).toUpperCase());
    for (const m of methods)
      if (!METHODS.has(m)) {
        this.notCarried(http.get('methods'), `${label}: method ${m} is not carried; the route is left out`);
        return undefined;
      }
    const matches = methods.length
      ? methods.map((method) => ({ ...match, method }) as typeof match)
      : Object.keys(match).length
        ? [match]
        : undefined;
    const d = r.get('destination');
    const to = this.destination(d.get('service').str() ?? service, d.get('serviceSubset').str(), d, service);
    if (!to) return undefined;
    const route: RouteDoc = {
      name: this.mesh.routeName(
        `${'frontend' in parent ? parent.frontend : service}-${String(r.path.at(-1))}`,
      ),
      parent,
      ...(matches ? { match: matches as RouteDoc['match'] } : {}),
      to,
    };
    const timeout = meshDuration(d.get('requestTimeout').value);
    if (timeout) route.timeout = timeout;
    const retries = d.get('numRetries').num();
    const on: string[] = [];
    if (d.get('retryOnConnectFailure').value === true) on.push('connect-failure');
    for (const c of d.get('retryOn').items())
      if (RETRY_ON.has(String(c.value))) on.push(String(c.value));
      else this.notCarried(c, `${label}: the retry condition ${String(c.value)} has no mesh equivalent`);
    for (const c of d.get('retryOnStatusCodes').items()) on.push(String(c.value));
    if (retries) route.retries = { attempts: retries, ...(on.length ? { on } : {}) } as RouteDoc['retries'];
    else if (on.length)
      this.notCarried(
        d.get('numRetries'),
        `${label}: retry conditions without NumRetries are not carried: Consul retries once then, the mesh not at all`,
      );
    const prefix = d.get('prefixRewrite');
    if (prefix.present) {
      if (match.path && 'prefix' in match.path) route.rewrite = { pathPrefix: prefix.str()! };
      else
        this.notCarried(
          prefix,
          `${label}: PrefixRewrite on a route without a path prefix match is not carried`,
        );
    }
    const headers = this.headers(d);
    if (headers) route.headers = headers;
    if (d.get('namespace').present && d.get('namespace').str() !== this.mesh.namespace)
      this.notCarried(d.get('namespace'), `${label}: a destination in another namespace is not carried`);
    for (const k of ['idleTimeout', 'retryOn'] as const)
      if (k === 'idleTimeout' && d.get(k.toLowerCase()).present)
        this.notCarried(d.get('idletimeout'), `${label}: IdleTimeout is not carried`);
    return route;
  }

  private gateway(e: Entry): void {
    const listeners = e.body.get('listeners').items();
    for (const l of listeners) {
      const port = l.get('port').num();
      if (!port) {
        this.notCarried(l, `${e.label}: a listener without a port is skipped`, 'MG7008');
        continue;
      }
      const protocol = PROTOCOLS[String(l.get('protocol').value ?? 'tcp') as keyof typeof PROTOCOLS] ?? 'tcp';
      const name = listeners.length === 1 ? e.name : `${e.name}-${port}`;
      const services = l.get('services').items();
      const hosts = services.flatMap((s) =>
        s
          .get('hosts')
          .items()
          .map((h) => String(h.value)),
      );
      this.mesh.frontends.push({
        name,
        port,
        // a frontend speaks HTTP (HTTP/2 and gRPC included) or TCP
        protocol: protocol === 'tcp' ? 'tcp' : 'http',
        ...(hosts.length ? { hosts } : {}),
      } as never);
      this.mesh.frontendAt.set(name, locate(l.doc, l.get('port').path));
      if (l.get('tls').present || e.body.get('tls').present)
        this.notCarried(
          l.get('tls').present ? l.get('tls') : e.body.get('tls'),
          `${e.label}: TLS on the gateway is not carried: the certificate is the user's to add to the frontend`,
        );
      for (const s of services) {
        const svc = s.get('name').str();
        if (!svc) continue;
        const sh = s
          .get('hosts')
          .items()
          .map((h) => String(h.value));
        const parent = {
          frontend: name,
          ...(services.length > 1 && sh.length ? { hosts: sh } : {}),
        } as RouteDoc['parent'];
        if (this.isVirtual(svc)) this.routes(svc, parent);
        else {
          // Consul requires the listener's protocol to be the service's
          const b = this.mesh.backends.get(svc);
          if (b) b.protocol ??= protocol;
          const to = this.destination(svc, undefined, s, '');
          if (to)
            this.mesh.routes.push({
              route: { name: this.mesh.routeName(`${name}-${svc}`), parent, to },
              origin: `${originOf(s.doc, s.path)} (${e.label})`,
            });
        }
      }
    }
  }

  private intentions(name: string): void {
    const e = this.of('service-intentions', name);
    if (!e) return;
    const allow: AllowDoc[] = [];
    let open = false;
    for (const s of e.body.get('sources').items()) {
      const from = s.get('name').str();
      if (!from) continue;
      if (
        from !== '*' &&
        !this.mesh.backends.has(from) &&
        !this.mesh.frontends.some((f) => f.name === from)
      ) {
        this.notCarried(
          s.get('name'),
          `${e.label}: source ${from} is no imported service or gateway: left out, so access is narrower`,
          'MG7005',
        );
        continue;
      }
      const action = s.get('action').str();
      if (action === 'deny' && from === '*') this.deniesStar.add(name);
      if (action === 'deny') {
        if (from !== '*' && open)
          this.notCarried(
            s,
            `${e.label}: a deny for ${from} after "*" is allowed is not carried: the mesh lists what is allowed`,
          );
        continue;
      }
      if (action === 'allow') {
        if (from === '*') open = true;
        else allow.push({ from: [from] });
        continue;
      }
      // L7 permissions: allows up to the first deny; a last deny of everything is the default
      const perms = s.get('permissions').items();
      const rules: AllowDoc[] = [];
      let dropped = false;
      for (const [i, p] of perms.entries()) {
        const http = p.get('http');
        if (p.get('action').str() === 'deny') {
          const all = http.get('pathPrefix').str() === '/' && http.keys().length === 1;
          if (!(all && i === perms.length - 1)) {
            this.notCarried(
              p,
              `${e.label}: the deny permission for ${from} is not carried; ${from}'s permissions are left out so that access is narrower, never wider`,
            );
            dropped = true;
          }
          break;
        }
        if (http.get('header').present || http.get('pathRegex').present) {
          this.notCarried(
            p,
            `${e.label}: a permission with header or regex matches is left out: the mesh allows by path and method`,
          );
          continue;
        }
        const path =
          http.get('pathExact').str() ??
          (http.get('pathPrefix').str() !== undefined ? `${http.get('pathPrefix').str()!}*` : undefined);
        const methods = http
          .get('methods')
          .items()
          .map((m) => String(m.value).toUpperCase());
        const paths = path && path !== '/*' ? [path] : undefined;
        // the consul target writes one permission per path of a rule: the same methods, paths joined
        const like = rules.find(
          (x) => JSON.stringify(x.methods) === JSON.stringify(methods.length ? methods : undefined),
        );
        if (like?.paths && paths) like.paths = [...like.paths, ...paths] as AllowDoc['paths'];
        else
          rules.push({
            from: [from],
            ...(paths ? { paths } : {}),
            ...(methods.length ? { methods } : {}),
          } as AllowDoc);
      }
      if (!dropped) allow.push(...rules);
    }
    if (open && !allow.length) return;
    if (open) allow.push({ from: ['*'] });
    this.mesh.allow(name);
    for (const a of allow) this.mesh.allow(name, a);
  }
}
