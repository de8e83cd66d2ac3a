import { diagnostic, type Diagnostic } from '../model/diagnostics.js';
import { formatDuration } from '../model/duration.js';
import type { MeshDocument } from '../model/types.js';
import type { ImportResult, RouteOrigin } from './types.js';

type Spec = MeshDocument['spec'];
export type BackendDoc = Spec['backends'][number];
export type FrontendDoc = NonNullable<Spec['frontends']>[number];
export type RouteDoc = NonNullable<Spec['routes']>[number];
type AccessDoc = NonNullable<Spec['access']>[number];
export type AllowDoc = AccessDoc['allow'][number];

/** A backend while it is being gathered from several objects (Service, Deployment, DestinationRule). */
export interface BackendDraft {
  name: string;
  namespace: string;
  port?: number;
  protocol?: BackendDoc['protocol'];
  serviceAccount?: string;
  /** Version name -> its labels and endpoints, in the order found. */
  versions: Map<string, { labels?: Record<string, string>; endpoints?: string[] }>;
  /** The Service's selector, for the versions of Deployments. */
  selector?: Record<string, string>;
  rest: Partial<Omit<BackendDoc, 'name' | 'namespace' | 'port' | 'protocol' | 'versions' | 'serviceAccount'>>;
}

/** The mesh an importer gathers, in the mesh's own terms, and turns into one document. */
export class MeshBuilder {
  readonly backends = new Map<string, BackendDraft>();
  readonly frontends: FrontendDoc[] = [];
  readonly routes: { route: RouteDoc; origin: string }[] = [];
  readonly access = new Map<string, AllowDoc[]>();
  /** Where each frontend's port was read, for diagnostics about it. */
  readonly frontendAt = new Map<string, Pick<Diagnostic, 'file' | 'line' | 'column'>>();
  readonly diagnostics: Diagnostic[] = [];
  mtls?: Spec['mtls'];
  defaultAccess?: Spec['defaultAccess'];
  trustDomain?: string;

  constructor(readonly namespace: string) {}

  /** The backend of that name, created when first named. */
  backend(name: string, namespace = this.namespace): BackendDraft {
    let b = this.backends.get(name);
    if (!b) {
      b = { name, namespace, versions: new Map(), rest: {} };
      this.backends.set(name, b);
    }
    return b;
  }

  /** A route name not yet taken, from a preferred one. */
  routeName(preferred: string, reserve = false): string {
    const base = dnsLabel(preferred);
    const taken = new Set([...this.routes.map((r) => r.route.name), ...this.reserved]);
    let name = base;
    for (let i = 2; taken.has(name); i++) name = `${base.slice(0, 58)}-${i}`;
    if (reserve) this.reserved.add(name);
    return name;
  }
  /**
   * Names handed out for routes pushed later (the Gateway API importer sorts a parent's routes
   * before pushing them, and a route attached to several parents is one route per parent).
   */
  private readonly reserved = new Set<string>();

  allow(backend: string, entry?: AllowDoc): void {
    const list = this.access.get(backend) ?? [];
    if (entry) list.push(entry);
    this.access.set(backend, list);
  }

  /**
   * In Kubernetes a Gateway's port and a Service's are on different hosts; the mesh's proxy targets
   * give a backend alone on its port the local listener 127.0.0.1:<port>, where a frontend on the
   * same port would collide (MG2018). Such a frontend moves to another port, and says so.
   */
  private separateListeners(backends: readonly BackendDoc[]): void {
    const count = new Map<number, number>();
    for (const b of backends) count.set(b.port, (count.get(b.port) ?? 0) + 1);
    const used = new Set([...count.keys(), ...this.frontends.map((f) => f.port)]);
    for (const f of this.frontends) {
      if (f.address !== undefined || count.get(f.port) !== 1) continue;
      let port = MOVED_PORT_BASE + f.port;
      while (used.has(port) || port > 65535) port = port > 65535 ? MOVED_PORT_BASE : port + 1;
      used.add(port);
      this.diagnostics.push(
        diagnostic(
          'MG7009',
          `frontend "${f.name}" listens on port ${port} in the mesh, not ${f.port}: backend "${backends.find((b) => b.port === f.port)!.name}" has port ${f.port}, whose local listener the proxy targets open on 127.0.0.1`,
          {
            ...this.frontendAt.get(f.name),
            hint: `set the frontend's address to the ingress host's own IP address and its port back to ${f.port}`,
          },
        ),
      );
      f.port = port;
    }
  }

  finish(name: string): ImportResult {
    const backends: BackendDoc[] = [...this.backends.values()].map((b) => {
      const versions = [...b.versions].map(([vname, v]) => ({
        name: vname,
        ...(v.labels && !isDefaultLabels(vname, v.labels) ? { labels: v.labels } : {}),
        ...(v.endpoints?.length ? { endpoints: v.endpoints } : {}),
      }));
      return {
        name: b.name,
        ...(b.namespace !== this.namespace ? { namespace: b.namespace } : {}),
        ...(b.serviceAccount && b.serviceAccount !== b.name ? { serviceAccount: b.serviceAccount } : {}),
        port: b.port ?? 80,
        ...(b.protocol ? { protocol: b.protocol } : {}),
        versions: (versions.length
          ? versions
          : [{ name: 'default', labels: b.selector ?? { app: b.name } }]) as BackendDoc['versions'],
        ...b.rest,
      };
    });
    this.separateListeners(backends);
    const routes = this.routes.map((r) => r.route);
    const origins: RouteOrigin[] = this.routes.map((r) => ({ route: r.route.name, origin: r.origin }));
    const access = [...this.access].map(([backend, allow]) => ({ backend, allow }));
    const spec: Spec = {
      namespace: this.namespace,
      ...(this.trustDomain ? { trustDomain: this.trustDomain } : {}),
      ...(this.mtls ? { mtls: this.mtls } : {}),
      ...(this.defaultAccess ? { defaultAccess: this.defaultAccess } : {}),
      backends: backends as Spec['backends'],
      ...(this.frontends.length ? { frontends: this.frontends } : {}),
      ...(routes.length ? { routes } : {}),
      ...(access.length ? { access } : {}),
    };
    const document: MeshDocument = {
      apiVersion: 'meshgen.io/v1alpha1',
      kind: 'Mesh',
      metadata: { name: dnsLabel(name) },
      spec,
    };
    return { document: backends.length ? document : undefined, origins, diagnostics: this.diagnostics };
  }
}

/** Where a frontend and one backend share a port, the port a frontend moves to: above every used port. */
const MOVED_PORT_BASE = 10000;

function isDefaultLabels(version: string, labels: Record<string, string>): boolean {
  const keys = Object.keys(labels);
  return keys.length === 1 && labels['version'] === version;
}

/** A DNS-1123 label made from any name: lower case, [-a-z0-9], at most 63 characters. */
function dnsLabel(s: string): string {
  const label = s
    .toLowerCase()
    .replace(/[^-a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  return label || 'unnamed';
}

const GO_DURATION = /^(\d+(?:\.\d+)?)(h|m|s|ms|us|µs|ns)/;
const UNIT_MS: Record<string, number> = {
  h: 3_600_000,
  m: 60_000,
  s: 1000,
  ms: 1,
  us: 0.001,
  µs: 0.001,
  ns: 1e-6,
};

/** A Go or protobuf duration (`1.5s`, `1m30s`, `250ms`) as a mesh duration, or undefined if it is none or zero. */
export function meshDuration(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  let rest = value.trim();
  let ms = 0;
  if (!rest) return undefined;
  while (rest) {
    const m = GO_DURATION.exec(rest);
    if (!m) return undefined;
    ms += Number(m[1]) * UNIT_MS[m[2]!]!;
    rest = rest.slice(m[0].length);
  }
  if (ms <= 0) return undefined;
  return formatDuration(Math.max(1, Math.round(ms)));
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function stringRecord(v: unknown): Record<string, string> | undefined {
  if (!isRecord(v)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v))
    if (typeof x === 'string' || typeof x === 'number') out[k] = String(x);
  return out;
}
