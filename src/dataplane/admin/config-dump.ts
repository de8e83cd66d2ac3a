import { createHash } from 'node:crypto';
import { redactBootstrap, redactMessage } from './redact.js';

/**
 * /config_dump as Envoy writes it (envoy/admin/v3/config_dump.proto, config_dump_shared.proto): a
 * BootstrapConfigDump, then a ClustersConfigDump (static_clusters from the bootstrap,
 * dynamic_active_clusters from the CDS file), a ListenersConfigDump (static_listeners,
 * dynamic_listeners with their active_state) and a RoutesConfigDump (static_route_configs: the
 * route configurations written inline in a connection manager, whether its listener is static or
 * from LDS, as Envoy lists them). A resource from a discovery file carries the file's version_info;
 * every resource carries last_updated, the time it was last added or changed: a reload that leaves
 * a resource as it was keeps its version and time, as Envoy keeps a listener or cluster whose
 * config did not change.
 */

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

const LISTENER = 'envoy.config.listener.v3.Listener';
const CLUSTER = 'envoy.config.cluster.v3.Cluster';
const ROUTE = 'envoy.config.route.v3.RouteConfiguration';
const HCM = 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ADMIN = 'type.googleapis.com/envoy.admin.v3';

/** A discovery file as read: what it holds (LDS or CDS) and its text. */
export interface DiscoverySource {
  readonly kind: 'lds' | 'cds';
  readonly path: string;
  /** The file as parsed when the configuration was loaded. */
  readonly raw: unknown;
}

/** What /config_dump needs of a configuration: the bootstrap as written and its discovery files. */
export interface DumpedConfig {
  readonly raw: unknown;
  readonly discoverySources?: readonly DiscoverySource[];
}

/** Where a resource sits in the dump. */
type Place =
  'static_clusters' | 'dynamic_active_clusters' | 'static_listeners' | 'dynamic_listeners' | 'routes';

/** One resource of a configuration: where it goes, its JSON as written and its file's version. */
interface Resource {
  /** Its place and name (a route configuration: its listener's key and its place in it too). */
  readonly key: string;
  readonly place: Place;
  readonly value: Obj;
  readonly version: string;
}

/** When each resource of a configuration was last added or changed, and its version then. */
export interface DumpState {
  readonly resources: ReadonlyMap<string, { version: string; lastUpdated: string; hash: string }>;
}
/** A field of a message as written: by its proto name or its JSON name. */
function field(o: Obj, name: string): unknown {
  if (name in o) return o[name];
  const camel = name.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
  return o[camel];
}

/** A repeated field as written: a list, or one value (a form Envoy tolerates). */
function list(o: Obj, name: string): Obj[] {
  const v = field(o, name);
  if (v === undefined || v === null) return [];
  return (Array.isArray(v) ? v : [v]).filter(isObj);
}

/** A discovery file's version_info and resources (without their `@type`). */
function discovery(config: DumpedConfig, kind: 'lds' | 'cds'): { version: string; resources: Obj[] } {
  const response = config.discoverySources?.find((s) => s.kind === kind)?.raw;
  if (!isObj(response)) return { version: '', resources: [] };
  const version = field(response, 'version_info');
  const resources = list(response, 'resources').map((r) => {
    const rest = { ...r };
    delete rest['@type'];
    return rest;
  });
  return { version: typeof version === 'string' ? version : '', resources };
}

/** The route configurations written inline in a listener's connection managers. */
function inlineRoutes(listener: Obj): { where: string; value: Obj }[] {
  const chains = [...list(listener, 'filter_chains'), ...list(listener, 'default_filter_chain')];
  const out: { where: string; value: Obj }[] = [];
  chains.forEach((chain, c) =>
    list(chain, 'filters').forEach((filter, f) => {
      const tc = field(filter, 'typed_config');
      if (!isObj(tc) || tc['@type'] !== `type.googleapis.com/${HCM}`) return;
      const rc = field(tc, 'route_config');
      if (isObj(rc)) out.push({ where: `${c}/${f}`, value: rc });
    }),
  );
  return out;
}

/** The resources of a configuration, in the order of the dump, and its discovery files' versions. */
function resourcesOf(config: DumpedConfig): { cdsVersion: string; ldsVersion: string; all: Resource[] } {
  const bootstrap = isObj(config.raw) ? config.raw : {};
  const srv = field(bootstrap, 'static_resources');
  const sr = isObj(srv) ? srv : {};
  const cds = discovery(config, 'cds');
  const lds = discovery(config, 'lds');
  const nameOf = (o: Obj) => String(field(o, 'name') ?? '');
  const one = (place: Place, version: string) => (value: Obj) => ({
    key: `${place}/${nameOf(value)}`,
    place,
    value,
    version,
  });
  const listeners = [
    ...list(sr, 'listeners').map(one('static_listeners', '')),
    ...lds.resources.map(one('dynamic_listeners', lds.version)),
  ];
  const routes = listeners.flatMap((l) =>
    inlineRoutes(l.value).map((r) => ({
      key: `routes/${l.key}/${r.where}`,
      place: 'routes' as const,
      value: r.value,
      version: '',
    })),
  );
  return {
    cdsVersion: cds.version,
    ldsVersion: lds.version,
    all: [
      ...list(sr, 'clusters').map(one('static_clusters', '')),
      ...cds.resources.map(one('dynamic_active_clusters', cds.version)),
      ...listeners,
      ...routes,
    ],
  };
}

const hashOf = (v: unknown) => createHash('sha1').update(JSON.stringify(v)).digest('base64');

/**
 * When each resource of `config` was last added or changed, `now` for a configuration just loaded:
 * a resource found in `previous` (same place and name) with the same JSON keeps its version and
 * time there, as Envoy keeps a listener or cluster an update leaves as it was.
 */
export function trackResources(config: DumpedConfig, now: Date, previous?: DumpState): DumpState {
  const at = now.toISOString();
  const resources = new Map<string, { version: string; lastUpdated: string; hash: string }>();
  for (const r of resourcesOf(config).all) {
    const hash = hashOf(r.value);
    const old = previous?.resources.get(r.key);
    resources.set(r.key, old?.hash === hash ? old : { version: r.version, lastUpdated: at, hash });
  }
  return { resources };
}

/** An Any of `type` holding `value` as written, its sensitive fields redacted. */
function any(type: string, value: Obj): Obj {
  return { '@type': `type.googleapis.com/${type}`, ...(redactMessage(type, value) as Obj) };
}

/** proto3 JSON leaves an empty string out. */
const version = (v: string): Obj => (v === '' ? {} : { version_info: v });

/** A repeated field of the dump: proto3 JSON leaves an empty one out. */
const repeated = (name: string, items: Obj[]): Obj => (items.length ? { [name]: items } : {});

/** The body of /config_dump: `config`'s resources, with their versions and times in `state`. */
export function configDump(config: DumpedConfig, state: DumpState): unknown {
  const { cdsVersion, ldsVersion, all } = resourcesOf(config);
  const at = (place: Place) =>
    all
      .filter((r) => r.place === place)
      .map((r) => {
        const t = state.resources.get(r.key);
        return { r, version: t?.version ?? r.version, last_updated: t?.lastUpdated };
      });
  return {
    configs: [
      { '@type': `${ADMIN}.BootstrapConfigDump`, bootstrap: redactBootstrap(config.raw) },
      {
        '@type': `${ADMIN}.ClustersConfigDump`,
        ...version(cdsVersion),
        ...repeated(
          'static_clusters',
          at('static_clusters').map((x) => ({
            cluster: any(CLUSTER, x.r.value),
            last_updated: x.last_updated,
          })),
        ),
        ...repeated(
          'dynamic_active_clusters',
          at('dynamic_active_clusters').map((x) => ({
            ...version(x.version),
            cluster: any(CLUSTER, x.r.value),
            last_updated: x.last_updated,
          })),
        ),
      },
      {
        '@type': `${ADMIN}.ListenersConfigDump`,
        ...version(ldsVersion),
        ...repeated(
          'static_listeners',
          at('static_listeners').map((x) => ({
            listener: any(LISTENER, x.r.value),
            last_updated: x.last_updated,
          })),
        ),
        ...repeated(
          'dynamic_listeners',
          at('dynamic_listeners').map((x) => ({
            name: String(field(x.r.value, 'name') ?? ''),
            active_state: {
              ...version(x.version),
              listener: any(LISTENER, x.r.value),
              last_updated: x.last_updated,
            },
          })),
        ),
      },
      {
        '@type': `${ADMIN}.RoutesConfigDump`,
        ...repeated(
          'static_route_configs',
          at('routes').map((x) => ({ route_config: any(ROUTE, x.r.value), last_updated: x.last_updated })),
        ),
      },
    ],
  };
}
