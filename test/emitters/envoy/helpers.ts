import YAML from 'yaml';
import type { Diagnostic } from '../../../src/model/diagnostics.js';
import type { ResolvedMesh } from '../../../src/model/types.js';
import { emitEnvoy } from '../../../src/emitters/envoy/index.js';
import type { EmitOptions } from '../../../src/emitters/types.js';

export type Boot = any;

export interface Rendered {
  readonly boots: Record<string, Boot>;
  readonly texts: Record<string, string>;
  readonly diagnostics: readonly Diagnostic[];
}

/** Renders with the Envoy emitter and parses every bootstrap back (YAML or JSON, by extension). */
export function renderEnvoy(mesh: ResolvedMesh, options: EmitOptions = {}): Rendered {
  const r = emitEnvoy(mesh, options);
  const boots: Record<string, Boot> = {};
  const texts: Record<string, string> = {};
  for (const f of r.files) {
    texts[f.path] = f.contents;
    if (f.path.endsWith('.json')) boots[f.path] = JSON.parse(f.contents);
    else if (f.path.endsWith('.yaml')) boots[f.path] = YAML.parse(f.contents);
  }
  return { boots, texts, diagnostics: r.diagnostics };
}

/**
 * A sidecar as Envoy runs it: its bootstrap with the listeners and clusters of the shared discovery
 * files (outbound-listeners, outbound-clusters) added to its own, without their `@type`.
 */
export function effective(r: Rendered, sidecar: string): Boot {
  const boot = structuredClone(r.boots[sidecar]);
  const ext = sidecar.slice(sidecar.lastIndexOf('.'));
  const shared = (name: string): Boot[] =>
    (r.boots[`${name}${ext}`]?.resources ?? []).map(({ '@type': _type, ...rest }: Boot) => rest);
  if (boot.dynamic_resources) {
    boot.static_resources.listeners.push(...shared('outbound-listeners'));
    boot.static_resources.clusters.push(...shared('outbound-clusters'));
    delete boot.dynamic_resources;
  }
  return boot;
}

export const listener = (boot: Boot, name: string): Boot => {
  const l = boot.static_resources.listeners.find((x: Boot) => x.name === name);
  if (!l) throw new Error(`no listener ${name}`);
  return l;
};

export const cluster = (boot: Boot, name: string): Boot => {
  const c = boot.static_resources.clusters.find((x: Boot) => x.name === name);
  if (!c) throw new Error(`no cluster ${name}`);
  return c;
};

export const hcm = (l: Boot, chain = 0): Boot =>
  l.filter_chains[chain].filters.find((f: Boot) => f.name === 'envoy.filters.network.http_connection_manager')
    .typed_config;

/** The Envoy routes of backend `backend`'s outbound listener in a sidecar. */
export const outboundRoutes = (boot: Boot, backend: string): Boot[] =>
  hcm(listener(boot, `outbound|${backend}`)).route_config.virtual_hosts[0].routes;

/** Every cluster name a bootstrap's listeners refer to: routes, weighted clusters, mirrors, tcp_proxy. */
export function referencedClusters(boot: Boot): string[] {
  const out: string[] = [];
  const visit = (v: unknown, key: string): void => {
    if (Array.isArray(v)) v.forEach((x) => visit(x, key));
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      // RouteAction.cluster, TcpProxy.cluster, RequestMirrorPolicy.cluster, ClusterWeight.name
      if (typeof o.cluster === 'string') out.push(o.cluster);
      if (key === 'clusters' && typeof o.name === 'string' && 'weight' in o) out.push(o.name);
      for (const [k, x] of Object.entries(o)) visit(x, k);
    }
  };
  visit(boot.static_resources.listeners, 'listeners');
  return out;
}
