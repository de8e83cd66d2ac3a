import { routeSubject } from '../../model/describe.js';
import { createHash } from 'node:crypto';
import { diagnostic, type Diagnostic } from '../../model/diagnostics.js';
import type { ResolvedBackend, ResolvedMesh, ResolvedRoute } from '../../model/types.js';
import type { PlanSettings } from './settings.js';
import { bucketCounts, conditionalProbabilities, formatProbability } from './weights.js';
import { iptablesComment, lineComment, nftTableHeader, TARGET } from './text.js';

/** One endpoint of a service VIP with its share of new connections, in percent. */
interface VipEndpoint {
  readonly host: string;
  readonly port: number;
  readonly weight: number;
  /** `backend/version`, for comments. */
  readonly from: string;
}

/** One service address, kube-proxy style: connections to vip:port are DNATed to an endpoint. */
export interface VipService {
  readonly backend: string;
  readonly namespace: string;
  readonly vip: string;
  readonly port: number;
  /** The route whose split gives the weights (the backend's first route). */
  readonly route: ResolvedRoute;
  readonly endpoints: readonly VipEndpoint[];
}

/**
 * Per backend, the VIP and the endpoints with their weights: the backend's first route's split over
 * versions, each version's share divided evenly over its endpoints (as a round-robin pool would).
 */
export function planServices(
  mesh: ResolvedMesh,
  settings: PlanSettings,
): { services: VipService[]; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const services: VipService[] = [];
  const seen = new Map<string, string>();
  for (const backend of mesh.backends) {
    const route = backend.routes[0];
    if (!route) continue;
    const vip = settings.vips.get(backend.name) ?? backend.localAddress;
    const key = `${vip}:${backend.port}`;
    const clash = seen.get(key);
    if (clash) {
      diagnostics.push(
        diagnostic(
          'MG4003',
          `backends "${clash}" and "${backend.name}" would share the service address ${key} in the iptables vip plan`,
          {
            pointer: backend.pointer,
            hint: `give one of them its own address with --set vip.${backend.name}=<ipv4>`,
          },
        ),
      );
      continue;
    }
    seen.set(key, backend.name);
    diagnostics.push(...explainRoutes(backend, route));
    const endpoints = new Map<string, VipEndpoint>();
    let usable = true;
    for (const dest of route.to) {
      if (dest.weight === 0) continue;
      const target = mesh.backendsByName.get(dest.backend)!;
      const versions = target.versions.filter((v) => dest.versions.includes(v.name));
      const pool = versions.flatMap((v) => v.endpoints.map((e) => ({ e, from: `${target.name}/${v.name}` })));
      for (const v of versions) {
        const bad = v.endpoints.filter((e) => e.family !== 'ipv4');
        if (bad.length || !v.endpoints.length) {
          usable = false;
          diagnostics.push(
            diagnostic(
              'MG3003',
              bad.length
                ? `version "${v.name}" of backend "${target.name}" has endpoint ${bad[0]!.address}, but the iptables vip plan DNATs to IPv4 addresses only`
                : `version "${v.name}" of backend "${target.name}" has no endpoints, which the iptables vip plan needs for route "${route.name}"`,
              {
                pointer: v.pointer,
                hint: 'list IPv4 endpoints (address:port) for this version, or render with --set mode=sidecar',
              },
            ),
          );
        }
      }
      for (const { e, from } of pool) {
        const id = `${e.host}:${e.port}`;
        const share = dest.weight / pool.length;
        const prev = endpoints.get(id);
        endpoints.set(id, {
          host: e.host,
          port: e.port,
          weight: (prev?.weight ?? 0) + share,
          from: prev ? `${prev.from},${from}` : from,
        });
      }
    }
    if (usable && endpoints.size)
      services.push({
        backend: backend.name,
        namespace: backend.namespace,
        vip,
        port: backend.port,
        route,
        endpoints: [...endpoints.values()],
      });
  }
  return { services, diagnostics };
}

function explainRoutes(backend: ResolvedBackend, route: ResolvedRoute): Diagnostic[] {
  const out: Diagnostic[] = [];
  const rest = backend.routes.slice(1);
  if (route.matches.length || rest.length) {
    const parts = [];
    if (route.matches.length)
      parts.push(
        `its first route "${route.name}" matches requests, which the vip plan cannot see, and takes every connection`,
      );
    else parts.push(`its first route "${route.name}" takes every connection`);
    if (rest.length)
      parts.push(
        `route${rest.length > 1 ? 's' : ''} ${rest.map((r) => `"${r.name}"`).join(', ')} never appl${rest.length > 1 ? 'y' : 'ies'}`,
      );
    out.push(
      diagnostic(
        'MG3002',
        `backend "${backend.name}": the iptables vip plan balances connections, not requests: ${parts.join('; ')}`,
        {
          pointer: route.matches.length ? `${route.pointer}/match` : rest[0]!.pointer,
          hint: 'put the route whose split should hold for all traffic first, or use a proxy target for request routing',
        },
      ),
    );
  }
  if (!route.implicit && route.to.length > 1)
    out.push(
      diagnostic(
        'MG3002',
        `route "${route.name}" uses split, which the iptables target draws per connection, not per request: ${route.to
          .map((d) => `${d.backend}${d.version ? '/' + d.version : ''} ${d.weight}%`)
          .join(', ')} holds over many connections`,
        {
          pointer: `${route.pointer}/to`,
          hint: 'with long-lived connections (HTTP keep-alive, gRPC) the request split can be far from the weights',
        },
      ),
    );
  if (backend.loadBalancer === 'least-request' || backend.loadBalancer === 'random')
    out.push(
      diagnostic(
        'MG3002',
        `backend "${backend.name}" uses load-balancer ${backend.loadBalancer}, which the iptables target replaces with a random choice per connection`,
        {
          pointer: `${backend.pointer}/loadBalancer`,
        },
      ),
    );
  return out;
}

const MAX_CHAIN = 28;

/** Readable chain names when they fit iptables' 28 characters, else a stable hash, like kube-proxy's. */
function shortName(name: string, room: number): string {
  if (name.length <= room) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  return `${name.slice(0, room - 9)}-${hash}`;
}

function chainNames(service: VipService): { svc: string; sep: (i: number) => string } {
  const digits = String(service.endpoints.length - 1).length;
  const base = shortName(service.backend, MAX_CHAIN - 'MGSEP--'.length - digits);
  return { svc: `MGSVC-${base}`, sep: (i) => `MGSEP-${base}-${i}` };
}

function describe(s: VipService): string {
  return `${s.namespace}/${s.backend} ${s.vip}:${s.port} by ${routeSubject(s.route)}`;
}

/** kube-proxy's layout: a dispatch chain, a chain per service, a DNAT chain per endpoint. */
export function renderVipIptables(services: readonly VipService[]): string {
  const head: string[] = [
    `# Generated by meshgen (${TARGET} target, vip mode). Apply in the network namespace that should`,
    '# see the service addresses: iptables-restore < vip.iptables (replaces the nat table).',
    '*nat',
    ':PREROUTING ACCEPT [0:0]',
    ':INPUT ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':POSTROUTING ACCEPT [0:0]',
    ':MESHGEN_SERVICES - [0:0]',
    ':MESHGEN_POSTROUTING - [0:0]',
  ];
  const rules: string[] = [
    '-A PREROUTING -m comment --comment "meshgen service addresses" -j MESHGEN_SERVICES',
    '-A OUTPUT -m comment --comment "meshgen service addresses" -j MESHGEN_SERVICES',
    '-A POSTROUTING -m comment --comment "meshgen masquerade" -j MESHGEN_POSTROUTING',
    // A connection from a loopback source DNATed to a remote endpoint must not leave with 127.x as its
    // source (needs net.ipv4.conf.all.route_localnet=1, as kube-proxy's localhost nodePorts do).
    '-A MESHGEN_POSTROUTING -s 127.0.0.0/8 ! -o lo -m conntrack --ctstate DNAT -j MASQUERADE',
  ];
  for (const s of services) {
    const names = chainNames(s);
    head.push(`:${names.svc} - [0:0]`);
    rules.push(
      `-A MESHGEN_SERVICES -d ${s.vip}/32 -p tcp -m tcp --dport ${s.port} -m comment --comment ${iptablesComment(describe(s))} -j ${names.svc}`,
    );
    const probabilities = conditionalProbabilities(s.endpoints.map((e) => e.weight));
    s.endpoints.forEach((e, i) => {
      const sep = names.sep(i);
      head.push(`:${sep} - [0:0]`);
      const comment = `-m comment --comment ${iptablesComment(`${e.from} ${e.host}:${e.port} ${round(e.weight)}%`)}`;
      const last = i === s.endpoints.length - 1;
      const draw = last
        ? ''
        : ` -m statistic --mode random --probability ${formatProbability(probabilities[i]!)}`;
      rules.push(`-A ${names.svc} ${comment}${draw} -j ${sep}`);
      rules.push(`-A ${sep} -p tcp -m tcp -j DNAT --to-destination ${e.host}:${e.port}`);
    });
  }
  return [...head, ...rules, 'COMMIT', ''].join('\n');
}

function round(n: number): string {
  return String(Math.round(n * 1000) / 1000);
}

/**
 * The nftables form: one verdict map keyed by `ip daddr . tcp dport` sends a connection to its
 * service's chain, whose one rule DNATs through a `numgen random` map. The hooks hold a constant
 * number of rules whatever the number of services; the lookup is one map access.
 */
export function renderVipNft(services: readonly VipService[], family: 'inet' | 'ip'): string {
  const dnat = family === 'inet' ? 'dnat ip to' : 'dnat to';
  const out: string[] = [
    `# Generated by meshgen (${TARGET} target, vip mode). Apply in the network namespace that should`,
    '# see the service addresses: nft -f vip.nft (replaces the table meshgen, nothing else).',
    ...nftTableHeader(family),
    '\tmap services {',
    '\t\ttype ipv4_addr . inet_service : verdict',
  ];
  if (services.length) {
    out.push('\t\telements = {');
    services.forEach((s, i) =>
      out.push(`\t\t\t${s.vip} . ${s.port} : goto svc-${s.backend}${i < services.length - 1 ? ',' : ''}`),
    );
    out.push('\t\t}');
  }
  out.push(
    '\t}',
    '',
    '\tchain prerouting {',
    '\t\ttype nat hook prerouting priority -100; policy accept;',
    '\t\tip daddr . tcp dport vmap @services',
    '\t}',
    '',
    '\tchain output {',
    '\t\ttype nat hook output priority -100; policy accept;',
    '\t\tip daddr . tcp dport vmap @services',
    '\t}',
    '',
    '\tchain postrouting {',
    '\t\ttype nat hook postrouting priority 100; policy accept;',
    '\t\tip saddr 127.0.0.0/8 oifname != "lo" ct status dnat masquerade',
    '\t}',
  );
  for (const s of services) {
    out.push('', `\t# ${lineComment(describe(s))}`);
    for (const e of s.endpoints)
      out.push(`\t# ${lineComment(`${e.from} ${e.host}:${e.port} ${round(e.weight)}%`)}`);
    const [only] = s.endpoints;
    if (s.endpoints.length === 1 && only) {
      out.push(`\tchain svc-${s.backend} {`, `\t\tmeta l4proto tcp ${dnat} ${only.host}:${only.port}`, '\t}');
      continue;
    }
    // A named map per service, with enumerated values: anonymous maps (`map { 0-44 : ... }` inline)
    // made the kernel take minutes to load 10,000 services, since naming each anonymous set scans
    // all the others. The smallest exact modulus keeps each map short (90/10 over 2+1 endpoints: 20).
    const buckets = bucketCounts(s.endpoints.map((e) => e.weight));
    const elements: string[] = [];
    s.endpoints.forEach((e, i) => {
      for (let k = 0; k < buckets.counts[i]!; k++)
        elements.push(`${elements.length} : ${e.host} . ${e.port}`);
    });
    out.push(
      `\tmap ep-${s.backend} {`,
      `\t\ttypeof numgen random mod ${buckets.modulus} : ip daddr . tcp dport`,
      `\t\telements = { ${elements.join(', ')} }`,
      '\t}',
      `\tchain svc-${s.backend} {`,
      `\t\tmeta l4proto tcp ${dnat} numgen random mod ${buckets.modulus} map @ep-${s.backend}`,
      '\t}',
    );
  }
  out.push('}', '');
  return out.join('\n');
}
