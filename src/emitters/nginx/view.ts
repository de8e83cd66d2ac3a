import { comment } from './syntax.js';

/** The view model the nginx templates lay out: every decision is made before it. */
export interface MapView {
  comment: string;
  source: string;
  variable: string;
  entries: { key: string; value: string }[];
}

interface SplitView {
  comment: string;
  key: string;
  variable: string;
  entries: { share: string; value: string }[];
}

interface UpstreamView {
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
  /** The client keep-alive directives of the http block (src/emitters/nginx/keepalive.ts). */
  keepalive: string[];
  http: BlockView;
  stream?: BlockView;
}

export function emptyBlock(): BlockView {
  return { globals: [], maps: [], splits: [], upstreams: [], servers: [] };
}

/**
 * Ends each directive with `;`, except blocks (`if (...) { ... }`), which end with `}`; keeps each
 * comment on its line.
 */
export function terminate(block: BlockView): BlockView {
  const end = (d: string) => (d.endsWith('}') ? d : `${d};`);
  return {
    ...block,
    maps: block.maps.map((m) => ({ ...m, comment: comment(m.comment) })),
    splits: block.splits.map((s) => ({ ...s, comment: comment(s.comment) })),
    upstreams: block.upstreams.map((u) => ({
      ...u,
      comment: comment(u.comment),
      directives: u.directives.map(end),
    })),
    servers: block.servers.map((s) => ({
      ...s,
      comment: comment(s.comment),
      directives: s.directives.map(end),
      locations: s.locations.map((l) => ({ ...l, directives: l.directives.map(end) })),
    })),
  };
}
