import {
  MeshBuilder,
  isRecord,
  meshDuration,
  stringRecord,
  type FrontendDoc,
  type RouteDoc,
} from './builder.js';
import { diagnostic } from '../model/diagnostics.js';
import { locate, located, originOf, type InputDocument } from './documents.js';
import {
  chooseName,
  chooseNamespace,
  kubeObjects,
  readServicesAndWorkloads,
  type KubeObject,
} from './kubernetes.js';
import type { ImportOptions, ImportResult, Importer } from './types.js';

type Match = NonNullable<RouteDoc['match']>[number];
type Path = (string | number)[];

export const GATEWAY_API_KINDS = [
  'HTTPRoute',
  'GRPCRoute',
  'TCPRoute',
  'Gateway',
  'Service',
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'ReplicaSet',
  'Pod',
];

/** The Gateway API: routes attached to Services (the mesh) or to Gateways (frontends). */
export const gatewayApi: Importer = {
  from: 'gateway-api',
  summary:
    'Gateway API HTTPRoute, GRPCRoute, TCPRoute with Service or Gateway parents, Gateway, Service, Deployment',
  kinds: GATEWAY_API_KINDS,
  attachesParentless: true,
  import(documents, options) {
    return importGatewayApi(
      documents,
      options,
      GATEWAY_API_KINDS,
      () => undefined,
      () => false,
    );
  },
};

/** Reads the Gateway API objects; `extra` reads the objects of the kinds an importer adds (Linkerd's). */
export function importGatewayApi(
  documents: readonly InputDocument[],
  options: ImportOptions,
  kinds: readonly string[],
  extra: (objects: KubeObject[], mesh: MeshBuilder) => void,
  claimed: (o: KubeObject) => boolean,
): ImportResult {
  const namespace = chooseNamespace(documents, options.namespace);
  const mesh = new MeshBuilder(namespace);
  const objects = kubeObjects(documents, kinds, namespace, mesh.diagnostics);
  readServicesAndWorkloads(objects, mesh);
  const versionServices = findVersionServices(objects, mesh);
  const listeners = new Map<string, Map<string, string>>();
  for (const o of objects.filter((x) => x.kind === 'Gateway'))
    listeners.set(`${o.namespace}/${o.name}`, gateway(o, mesh));
  const routes = objects.filter(
    (x) => ['HTTPRoute', 'GRPCRoute', 'TCPRoute'].includes(x.kind) && !claimed(x),
  );
  const ctx: Ctx = { mesh, versionServices, listeners, pending: new Map() };
  if (options.parent !== undefined) ctx.defaultParent = defaultParent(options.parent, namespace, routes, ctx);
  for (const o of routes) route(o, ctx);
  for (const built of ctx.pending.values()) {
    // Gateway API tries the most specific match first, whatever route holds it; the mesh tries routes in order
    const sorted = [...built].sort(
      (a, b) => compare(a.key, b.key) || a.object.localeCompare(b.object) || a.index - b.index,
    );
    const moved = sorted.find((b, i) => b !== built[i]);
    if (moved)
      mesh.diagnostics.push(
        located(
          'MG7006',
          moved.doc,
          [],
          `route ${moved.route.name} and others of its parent are put in Gateway API precedence order (exact path, longest prefix, method, most headers, most query parameters, then route name) so that first match picks as the Gateway API does`,
        ),
      );
    for (const b of sorted) mesh.routes.push({ route: b.route, origin: b.origin });
  }
  extra(objects, mesh);
  return mesh.finish(chooseName(documents, options.name, namespace));
}

interface Ctx {
  mesh: MeshBuilder;
  /** A Service that selects one version of a backend (`catalog-v1`) -> that backend and version. */
  versionServices: Map<string, { backend: string; version: string }>;
  /** Gateway `ns/name` -> listener name -> frontend name. */
  listeners: Map<string, Map<string, string>>;
  /** The routes of each parent, before they are put in Gateway API precedence order. */
  pending: Map<string, Built[]>;
  /** Where routes without parentRefs attach (`--parent`), as a parentRef. */
  defaultParent?: Record<string, unknown>;
}

const PARENT =
  /^(gateway|service)\/(?:([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/)?([a-z0-9]([-a-z0-9.]*[a-z0-9])?)(?::(\d{1,5}))?$/i;

/**
 * `--parent gateway/[ns/]name[:port]` or `service/[ns/]name`: the parentRef routes without parentRefs
 * take. A Gateway not among the inputs is made, as one HTTP listener (TCP when every such route is a
 * TCPRoute) on the port given, as a Service not among the inputs is made for a backendRef.
 */
function defaultParent(
  value: string,
  namespace: string,
  routes: readonly KubeObject[],
  ctx: Ctx,
): Record<string, unknown> | undefined {
  const hint =
    'write --parent gateway/NAME[:PORT] or service/NAME, with an optional namespace: gateway/NS/NAME';
  const m = PARENT.exec(value);
  const port = m?.[6] !== undefined ? Number(m[6]) : undefined;
  if (!m || (port !== undefined && (port < 1 || port > 65535))) {
    ctx.mesh.diagnostics.push(
      diagnostic('MG7014', `--parent ${JSON.stringify(value)} is not a parent reference`, { hint }),
    );
    return undefined;
  }
  const kind = m[1]!.toLowerCase() === 'gateway' ? 'Gateway' : 'Service';
  const ns = m[2] ?? namespace;
  const name = m[4]!;
  if (kind === 'Service') {
    if (port !== undefined) {
      ctx.mesh.diagnostics.push(
        diagnostic('MG7014', `--parent ${value}: a Service parent takes no port (the backend has one)`, {
          hint,
        }),
      );
      return undefined;
    }
    const v = ctx.versionServices.get(name);
    if (!ctx.mesh.backends.has(v?.backend ?? name)) {
      ctx.mesh.diagnostics.push(
        diagnostic('MG7014', `--parent ${value}: Service ${name} is not among the inputs`, {
          hint: 'give the Service among the inputs, or attach the routes to a gateway: --parent gateway/NAME:PORT',
        }),
      );
      return undefined;
    }
    return { kind, name, namespace: ns };
  }
  if (!ctx.listeners.has(`${ns}/${name}`)) {
    if (port === undefined) {
      ctx.mesh.diagnostics.push(
        diagnostic(
          'MG7014',
          `--parent ${value}: Gateway ${ns}/${name} is not among the inputs, and no port is given to make a frontend for it`,
          { hint: `give the Gateway among the inputs, or its port: --parent gateway/${name}:80` },
        ),
      );
      return undefined;
    }
    const parentless = routes.filter(
      (o) => !Array.isArray(o.spec['parentRefs']) || !o.spec['parentRefs'].length,
    );
    const tcp = parentless.length > 0 && parentless.every((o) => o.kind === 'TCPRoute');
    ctx.mesh.frontends.push({ name, port, protocol: tcp ? 'tcp' : 'http' });
    ctx.listeners.set(`${ns}/${name}`, new Map([['', name]]));
  }
  return { kind, name, namespace: ns, ...(port !== undefined ? { port } : {}) };
}

interface Built {
  route: RouteDoc;
  origin: string;
  key: number[];
  object: string;
  index: number;
  doc: InputDocument;
}

/**
 * Services whose selector is another Service's plus a version label (Linkerd's and Argo's way to
 * address one version): they become versions of that backend, not backends of their own.
 */
function findVersionServices(
  objects: readonly KubeObject[],
  mesh: MeshBuilder,
): Map<string, { backend: string; version: string }> {
  const out = new Map<string, { backend: string; version: string }>();
  const services = objects.filter((o) => o.kind === 'Service');
  const selectors = services.map((o) => stringRecord(o.spec['selector']) ?? {});
  // the Services whose selector holds each label: a parent's selector is a part of its versions'
  // (an index, not a scan of every Service for each one)
  const holding = new Map<string, number[]>();
  selectors.forEach((sel, i) => {
    for (const [k, v] of Object.entries(sel)) {
      const key = `${k}=${v}`;
      let list = holding.get(key);
      if (!list) holding.set(key, (list = []));
      list.push(i);
    }
  });
  for (const [i, o] of services.entries()) {
    const selector = selectors[i]!;
    const labels = stringRecord(o.metadata['labels']) ?? {};
    const size = Object.keys(selector).length;
    // the first Service, in input order, whose non-empty selector is a strict part of this one's
    let best = -1;
    for (const [k, v] of Object.entries(selector))
      for (const j of holding.get(`${k}=${v}`) ?? []) {
        if (j === i || (best >= 0 && j >= best)) continue;
        const ps = selectors[j]!;
        const n = Object.keys(ps).length;
        if (n > 0 && size > n && Object.entries(ps).every(([pk, pv]) => selector[pk] === pv)) best = j;
      }
    const parent = best >= 0 ? services[best] : undefined;
    if (!parent) continue;
    const ps = stringRecord(parent.spec['selector'])!;
    const own = Object.fromEntries(Object.entries(selector).filter(([k]) => !(k in ps)));
    const version = labels['meshgen.io/version'] ?? own['version'] ?? o.name.replace(`${parent.name}-`, '');
    out.set(o.name, { backend: parent.name, version });
    mesh.backends.delete(o.name);
    const b = mesh.backend(parent.name, parent.namespace);
    b.versions.set(version, { ...b.versions.get(version), labels: own });
  }
  return out;
}

const PROTOCOL: Record<string, FrontendDoc['protocol']> = {
  HTTP: 'http',
  HTTPS: 'https',
  TCP: 'tcp',
  TLS: 'tls-passthrough',
};

/** A Gateway's listeners become frontends, one per port; returns listener name -> frontend name. */
function gateway(o: KubeObject, mesh: MeshBuilder): Map<string, string> {
  const out = new Map<string, string>();
  const list = Array.isArray(o.spec['listeners']) ? o.spec['listeners'] : [];
  const ports = new Set(list.filter(isRecord).map((l) => l['port']));
  list.forEach((l, i) => {
    if (!isRecord(l)) return;
    const at = ['spec', 'listeners', i];
    const protocol = PROTOCOL[String(l['protocol'])];
    const tls = isRecord(l['tls']) ? l['tls'] : undefined;
    if (
      typeof l['port'] !== 'number' ||
      !protocol ||
      (protocol === 'tls-passthrough' && tls?.['mode'] !== 'Passthrough')
    ) {
      mesh.diagnostics.push(
        located(
          'MG7008',
          o.doc,
          at,
          `Gateway ${o.name}: listener ${String(l['name'])} has a protocol the mesh has no frontend for: skipped`,
        ),
      );
      return;
    }
    const name = ports.size === 1 ? o.name : `${o.name}-${String(l['name'] ?? i)}`;
    out.set(String(l['name']), name);
    const host = typeof l['hostname'] === 'string' ? l['hostname'] : '*';
    const existing = mesh.frontends.find((f) => f.name === name);
    if (existing) {
      if (existing.hosts && !existing.hosts.includes(host)) existing.hosts.push(host);
      return;
    }
    const frontend: FrontendDoc = {
      name,
      port: l['port'],
      protocol,
      ...(host !== '*' ? { hosts: [host] } : {}),
    };
    if (protocol === 'https') {
      const ref =
        Array.isArray(tls?.['certificateRefs']) && isRecord(tls['certificateRefs'][0])
          ? tls['certificateRefs'][0]
          : undefined;
      if (typeof ref?.['name'] === 'string') frontend.tls = { secretName: ref['name'] };
    }
    mesh.frontends.push(frontend);
    mesh.frontendAt.set(name, locate(o.doc, [...at, 'port']));
  });
  for (const f of mesh.frontends) if (f.hosts?.includes('*')) delete f.hosts;
  return out;
}

/** Weights in percent summing to 100: largest remainder, with a diagnostic when they were not exact. */
function percentages(weights: number[]): { values: number[]; exact: boolean } {
  const sum = weights.reduce((a, b) => a + b, 0);
  if (sum === 0) return { values: weights.map(() => 0), exact: true };
  const raw = weights.map((w) => (w * 100) / sum);
  const values = raw.map(Math.floor);
  const order = raw.map((r, i) => [r - Math.floor(r), i] as const).sort((a, b) => b[0] - a[0]);
  for (let k = 0; k < 100 - values.reduce((a, b) => a + b, 0); k++) values[order[k]![1]]!++;
  return { values, exact: raw.every((r) => Number.isInteger(r)) };
}

function ref(
  ctx: Ctx,
  o: KubeObject,
  r: unknown,
  at: Path,
): { backend: string; version?: string } | undefined {
  if (!isRecord(r) || typeof r['name'] !== 'string') return undefined;
  if (r['kind'] !== undefined && r['kind'] !== 'Service') {
    ctx.mesh.diagnostics.push(
      located(
        'MG7005',
        o.doc,
        [...at, 'kind'],
        `${o.kind} ${o.name}: a backend of kind ${String(r['kind'])} is not carried`,
      ),
    );
    return undefined;
  }
  const v = ctx.versionServices.get(r['name']);
  if (v) return v;
  if (!ctx.mesh.backends.has(r['name'])) {
    ctx.mesh.diagnostics.push(
      located(
        'MG7005',
        o.doc,
        [...at, 'name'],
        `${o.kind} ${o.name}: Service ${r['name']} is not among the inputs: a backend is made for it, on the port the reference names`,
      ),
    );
    const b = ctx.mesh.backend(r['name'], typeof r['namespace'] === 'string' ? r['namespace'] : o.namespace);
    if (typeof r['port'] === 'number') b.port = r['port'];
    if (o.kind === 'GRPCRoute') b.protocol = 'grpc';
  }
  return { backend: r['name'] };
}

function pathMatches(p: unknown): Match['path'][] | undefined {
  if (!isRecord(p)) return [undefined];
  const value = typeof p['value'] === 'string' ? p['value'] : '/';
  const type = p['type'] ?? 'PathPrefix';
  if (type === 'Exact') return [{ exact: value }];
  if (type === 'RegularExpression') return [{ regex: value }];
  if (type !== 'PathPrefix') return undefined;
  if (value === '/') return [{ prefix: '/' }];
  // a Gateway API prefix matches whole segments: /api is /api itself and what is under /api/
  const bare = value.replace(/\/+$/, '');
  return [{ exact: bare }, { prefix: `${bare}/` }];
}

function keyed(
  list: unknown,
  at: Path,
  ctx: Ctx,
  o: KubeObject,
  lower: boolean,
): Record<string, unknown> | undefined {
  if (!Array.isArray(list) || !list.length) return undefined;
  const out: Record<string, unknown> = {};
  list.forEach((h, i) => {
    if (!isRecord(h) || typeof h['name'] !== 'string' || typeof h['value'] !== 'string') return;
    const type = h['type'] ?? 'Exact';
    if (type === 'Exact' || type === 'RegularExpression')
      out[lower ? h['name'].toLowerCase() : h['name']] =
        type === 'Exact' ? { exact: h['value'] } : { regex: h['value'] };
    else
      ctx.mesh.diagnostics.push(
        located(
          'MG7004',
          o.doc,
          [...at, i, 'type'],
          `${o.kind} ${o.name}: match type ${String(type)} is not carried`,
        ),
      );
  });
  return Object.keys(out).length ? out : undefined;
}

function matchesOf(ctx: Ctx, o: KubeObject, rule: Record<string, unknown>, at: Path): Match[] | undefined {
  if (!Array.isArray(rule['matches']) || !rule['matches'].length) return undefined;
  const out: Match[] = [];
  rule['matches'].forEach((m, i) => {
    if (!isRecord(m)) return;
    const mat = [...at, 'matches', i];
    const common: Match = {};
    const headers = keyed(m['headers'], [...mat, 'headers'], ctx, o, true);
    if (headers) common.headers = headers as Match['headers'];
    const query = keyed(m['queryParams'], [...mat, 'queryParams'], ctx, o, false);
    if (query) common.queryParams = query as Match['queryParams'];
    if (typeof m['method'] === 'string') common.method = m['method'] as Match['method'];
    if (isRecord(m['method']) && o.kind === 'GRPCRoute') {
      const g = m['method'];
      if (typeof g['service'] === 'string' && typeof g['method'] === 'string')
        common.path = { exact: `/${g['service']}/${g['method']}` };
      else if (typeof g['service'] === 'string') common.path = { prefix: `/${g['service']}/` };
    }
    const paths = o.kind === 'GRPCRoute' ? [common.path] : pathMatches(m['path']);
    if (!paths) {
      ctx.mesh.diagnostics.push(
        located(
          'MG7004',
          o.doc,
          [...mat, 'path', 'type'],
          `${o.kind} ${o.name}: path match type is not carried`,
        ),
      );
      return;
    }
    for (const p of paths) out.push({ ...(p ? { path: p } : {}), ...common } as Match);
  });
  return out;
}

/** Gateway API precedence of a match, for sorting rules (most specific first). */
function specificity(m: Match | undefined): number[] {
  const p = m?.path;
  return [
    p && 'exact' in p ? 1 : 0,
    p && 'prefix' in p ? (p.prefix as string).length : p && 'exact' in p ? (p.exact as string).length : 0,
    m?.method ? 1 : 0,
    Object.keys(m?.headers ?? {}).length,
    Object.keys(m?.queryParams ?? {}).length,
  ];
}

function compare(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return b[i]! - a[i]!;
  return 0;
}

function filtersOf(ctx: Ctx, o: KubeObject, route: RouteDoc, filters: unknown, at: Path): void {
  if (!Array.isArray(filters)) return;
  const headers: Record<string, Record<string, unknown>> = {};
  filters.forEach((f, i) => {
    if (!isRecord(f)) return;
    const fat = [...at, i];
    const type = String(f['type']);
    if (type === 'RequestHeaderModifier' || type === 'ResponseHeaderModifier') {
      const side = type === 'RequestHeaderModifier' ? 'request' : 'response';
      const mod = f[type === 'RequestHeaderModifier' ? 'requestHeaderModifier' : 'responseHeaderModifier'];
      if (!isRecord(mod)) return;
      const ops: Record<string, unknown> = {};
      for (const op of ['set', 'add'] as const)
        if (Array.isArray(mod[op]))
          ops[op] = Object.fromEntries(
            mod[op].filter(isRecord).map((h) => [String(h['name']).toLowerCase(), String(h['value'])]),
          );
      if (Array.isArray(mod['remove'])) ops['remove'] = mod['remove'].map((x) => String(x).toLowerCase());
      headers[side] = ops;
    } else if (type === 'URLRewrite' && isRecord(f['urlRewrite'])) {
      const u = f['urlRewrite'];
      const rewrite: NonNullable<RouteDoc['rewrite']> = {};
      if (typeof u['hostname'] === 'string') rewrite.host = u['hostname'];
      if (isRecord(u['path'])) {
        if (
          u['path']['type'] === 'ReplacePrefixMatch' &&
          typeof u['path']['replacePrefixMatch'] === 'string' &&
          route.match?.every((m) => m.path && 'prefix' in m.path)
        )
          rewrite.pathPrefix = u['path']['replacePrefixMatch'];
        else
          ctx.mesh.diagnostics.push(
            located(
              'MG7004',
              o.doc,
              [...fat, 'urlRewrite', 'path'],
              `${o.kind} ${o.name}: this path rewrite is not carried: the mesh replaces a matched prefix, on routes whose matches are all prefixes`,
            ),
          );
      }
      if (Object.keys(rewrite).length) route.rewrite = rewrite;
    } else if (type === 'RequestMirror' && isRecord(f['requestMirror'])) {
      const d = ref(ctx, o, f['requestMirror']['backendRef'], [...fat, 'requestMirror', 'backendRef']);
      const percent = f['requestMirror']['percent'];
      if (d) route.mirror = { ...d, ...(typeof percent === 'number' && percent !== 100 ? { percent } : {}) };
    } else
      ctx.mesh.diagnostics.push(
        located(
          'MG7004',
          o.doc,
          [...fat, 'type'],
          `${o.kind} ${o.name}: the ${type} filter is not carried: the mesh has no equivalent`,
        ),
      );
  });
  if (Object.keys(headers).length) route.headers = headers as RouteDoc['headers'];
}

function parentsOf(ctx: Ctx, o: KubeObject): { parent: RouteDoc['parent']; tcp: boolean; at: Path }[] {
  const refs = Array.isArray(o.spec['parentRefs']) ? o.spec['parentRefs'] : [];
  const hostnames = (Array.isArray(o.spec['hostnames']) ? o.spec['hostnames'] : []).filter(
    (h): h is string => typeof h === 'string',
  );
  const out: { parent: RouteDoc['parent']; tcp: boolean; at: Path }[] = [];
  const given = !refs.length && ctx.defaultParent ? [ctx.defaultParent] : refs;
  if (!refs.length && ctx.defaultParent)
    ctx.mesh.diagnostics.push(
      located(
        'MG7012',
        o.doc,
        ['spec'],
        `${o.kind} ${o.name} has no parentRefs: attached to ${String(ctx.defaultParent['kind'])} ${String(ctx.defaultParent['name'])}, as --parent says`,
      ),
    );
  else if (!refs.length)
    ctx.mesh.diagnostics.push(
      located(
        'MG7008',
        o.doc,
        ['spec'],
        `${o.kind} ${o.name} has no parentRefs, so it attaches to no Gateway or Service: not carried`,
        'add a parentRef naming the Gateway or the Service the route is for, or attach such routes with --parent gateway/NAME[:PORT] or service/NAME',
      ),
    );
  given.forEach((r, i) => {
    if (!isRecord(r) || typeof r['name'] !== 'string') return;
    const at = refs.length ? ['spec', 'parentRefs', i] : ['spec'];
    const kind = r['kind'] ?? 'Gateway';
    if (kind === 'Service') {
      const v = ctx.versionServices.get(r['name']);
      const b = ctx.mesh.backends.get(v?.backend ?? r['name']);
      if (!b) {
        ctx.mesh.diagnostics.push(
          located(
            'MG7005',
            o.doc,
            at,
            `${o.kind} ${o.name}: parent Service ${r['name']} is not among the inputs: not carried there`,
          ),
        );
        return;
      }
      out.push({ parent: { backend: b.name }, tcp: b.protocol === 'tcp', at });
    } else if (kind === 'Gateway') {
      const ns = typeof r['namespace'] === 'string' ? r['namespace'] : o.namespace;
      const listeners = ctx.listeners.get(`${ns}/${r['name']}`);
      if (!listeners) {
        ctx.mesh.diagnostics.push(
          located(
            'MG7005',
            o.doc,
            at,
            `${o.kind} ${o.name}: parent Gateway ${r['name']} is not among the inputs: not carried there`,
          ),
        );
        return;
      }
      const names =
        typeof r['sectionName'] === 'string'
          ? [listeners.get(r['sectionName'])]
          : [...new Set(listeners.values())];
      const port = typeof r['port'] === 'number' ? r['port'] : undefined;
      if (
        port !== undefined &&
        !names.some((n) => ctx.mesh.frontends.find((x) => x.name === n)?.port === port)
      )
        ctx.mesh.diagnostics.push(
          located(
            'MG7005',
            o.doc,
            refs.length ? [...at, 'port'] : at,
            `${o.kind} ${o.name}: parent Gateway ${r['name']} has no listener on port ${port}: not carried there`,
          ),
        );
      for (const name of names) {
        const f = ctx.mesh.frontends.find((x) => x.name === name);
        // a parentRef's port picks the listeners of that port
        if (!f || (port !== undefined && f.port !== port)) continue;
        const served = hostnames.filter((h) => !f.hosts || f.hosts.includes(h));
        const parent: RouteDoc['parent'] = {
          frontend: f.name,
          ...(served.length && !(f.hosts && served.length === f.hosts.length)
            ? { hosts: served as [string, ...string[]] }
            : {}),
        };
        out.push({ parent, tcp: f.protocol === 'tcp' || f.protocol === 'tls-passthrough', at });
      }
    } else
      ctx.mesh.diagnostics.push(
        located(
          'MG7005',
          o.doc,
          [...at, 'kind'],
          `${o.kind} ${o.name}: a parent of kind ${String(kind)} is not carried`,
        ),
      );
  });
  return out;
}

/** Linkerd's retry and timeout annotations on a route (retry.linkerd.io/*, timeout.linkerd.io/*). */
function annotations(o: KubeObject): { retries?: RouteDoc['retries']; timeout?: string } {
  const a = stringRecord(o.metadata['annotations']) ?? {};
  const out: { retries?: RouteDoc['retries']; timeout?: string } = {};
  const on = a['retry.linkerd.io/http'];
  if (on !== undefined || a['retry.linkerd.io/limit'] !== undefined) {
    const attempts = Number(a['retry.linkerd.io/limit'] ?? 1);
    const perTry = meshDuration(a['retry.linkerd.io/timeout']);
    const conditions = (on ?? '5xx')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (attempts > 0)
      out.retries = {
        attempts,
        ...(perTry ? { perTryTimeout: perTry } : {}),
        on: conditions,
      } as RouteDoc['retries'];
  }
  const t = meshDuration(a['timeout.linkerd.io/request']);
  if (t) out.timeout = t;
  return out;
}

function route(o: KubeObject, ctx: Ctx): void {
  const { mesh } = ctx;
  const rules = Array.isArray(o.spec['rules']) ? o.spec['rules'] : [];
  const byAnnotation = annotations(o);
  for (const { parent, tcp, at: parentAt } of parentsOf(ctx, o)) {
    if (tcp !== (o.kind === 'TCPRoute')) {
      mesh.diagnostics.push(
        located(
          'MG7004',
          o.doc,
          parentAt,
          `${o.kind} ${o.name}: attached to a ${tcp ? 'TCP' : 'HTTP'} parent: not carried there`,
        ),
      );
      continue;
    }
    const pkey = JSON.stringify(parent);
    const built = ctx.pending.get(pkey) ?? [];
    ctx.pending.set(pkey, built);
    rules.forEach((r, i) => {
      if (!isRecord(r)) return;
      const at = ['spec', 'rules', i];
      const refs = Array.isArray(r['backendRefs']) ? r['backendRefs'] : [];
      const dests = refs.map((b, j) => ({
        d: ref(ctx, o, b, [...at, 'backendRefs', j]),
        w: isRecord(b) && typeof b['weight'] === 'number' ? b['weight'] : 1,
      }));
      const kept = dests.filter((x) => x.d);
      if (!kept.length) {
        mesh.diagnostics.push(
          located(
            'MG7004',
            o.doc,
            at,
            `${o.kind} ${o.name}: rule ${i} sends to no Service the mesh knows: not carried`,
          ),
        );
        return;
      }
      const pct = percentages(kept.map((x) => x.w));
      if (!pct.exact)
        mesh.diagnostics.push(
          located(
            'MG7004',
            o.doc,
            [...at, 'backendRefs'],
            `${o.kind} ${o.name}: weights ${kept.map((x) => x.w).join(':')} are rounded to whole percent (${pct.values.join(':')})`,
          ),
        );
      const to = kept.map((x, j) => ({
        ...x.d!,
        ...(kept.length > 1 ? { weight: pct.values[j] } : {}),
      })) as RouteDoc['to'];
      const name = mesh.routeName(
        typeof r['name'] === 'string'
          ? `${o.name}-${r['name']}`
          : rules.length === 1
            ? o.name
            : `${o.name}-${i}`,
        true,
      );
      const routeDoc = { name, parent } as RouteDoc;
      const matches = o.kind === 'TCPRoute' ? undefined : matchesOf(ctx, o, r, at);
      if (matches?.length) routeDoc.match = matches as RouteDoc['match'];
      routeDoc.to = to;
      const timeouts = isRecord(r['timeouts']) ? r['timeouts'] : {};
      const timeout = meshDuration(timeouts['request']) ?? byAnnotation.timeout;
      if (timeout) routeDoc.timeout = timeout;
      const retry = isRecord(r['retry']) ? r['retry'] : undefined;
      if (retry && typeof retry['attempts'] === 'number' && retry['attempts'] > 0) {
        const codes = Array.isArray(retry['codes']) ? retry['codes'].map(String) : [];
        const perTry = meshDuration(timeouts['backendRequest']);
        routeDoc.retries = {
          attempts: retry['attempts'],
          ...(perTry ? { perTryTimeout: perTry } : {}),
          ...(codes.length ? { on: codes } : {}),
        } as RouteDoc['retries'];
      } else if (byAnnotation.retries && o.kind !== 'TCPRoute') routeDoc.retries = byAnnotation.retries;
      if (o.kind !== 'TCPRoute') filtersOf(ctx, o, routeDoc, r['filters'], [...at, 'filters']);
      const key = routeDoc.match ? routeDoc.match.map(specificity).sort(compare)[0]! : specificity(undefined);
      built.push({
        route: routeDoc,
        origin: `${originOf(o.doc, at)} (${o.kind} ${o.namespace}/${o.name}, rules[${i}])`,
        key,
        object: `${o.namespace}/${o.name}`,
        index: i,
        doc: o.doc,
      });
    });
  }
}
