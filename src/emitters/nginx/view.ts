/** The view model the nginx templates lay out: every decision is made before it. */
export interface MapView {
  comment: string;
  source: string;
  variable: string;
  entries: { key: string; value: string }[];
}

export interface SplitView {
  comment: string;
  key: string;
  variable: string;
  entries: { share: string; value: string }[];
}

export interface UpstreamView {
  comment: string;
  name: string;
  directives: string[];
  servers: string[];
}

export interface LocationView {
  match: string;
  directives: string[];
}

export interface ServerView {
  comment: string;
  directives: string[];
  locations: LocationView[];
}

export interface BlockView {
  globals: string[];
  maps: MapView[];
  splits: SplitView[];
  upstreams: UpstreamView[];
  servers: ServerView[];
}

export interface ConfigView {
  mesh: string;
  certDir: string;
  modules: string[];
  http: BlockView;
  stream?: BlockView;
}

export function emptyBlock(): BlockView {
  return { globals: [], maps: [], splits: [], upstreams: [], servers: [] };
}

/** A double-quoted nginx string: nginx reads `\\` as `\` and `\"` as `"`, and keeps other escapes. */
export function q(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Regex metacharacters escaped, for a literal inside a PCRE pattern. */
export function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `x-user` -> `$http_x_user`. */
export function headerVar(name: string): string {
  return `$http_${name.toLowerCase().replace(/-/g, '_')}`;
}

/** Ends each directive with `;`, except blocks (`if (...) { ... }`), which end with `}`. */
export function terminate(block: BlockView): BlockView {
  const end = (d: string) => (d.endsWith('}') ? d : `${d};`);
  return {
    ...block,
    upstreams: block.upstreams.map((u) => ({ ...u, directives: u.directives.map(end) })),
    servers: block.servers.map((s) => ({
      ...s,
      directives: s.directives.map(end),
      locations: s.locations.map((l) => ({ ...l, directives: l.directives.map(end) })),
    })),
  };
}
