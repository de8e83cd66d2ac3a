import { comment } from './syntax.js';

/** The view model of the nginx configuration: every decision is made before it is laid out. */
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

export function emptyBlock(): BlockView {
  return { globals: [], maps: [], splits: [], upstreams: [], servers: [] };
}

/** A directive ends with `;`, a block (`if (...) { ... }`) with its `}`. */
function end(d: string): string {
  return d.endsWith('}') ? d : `${d};`;
}

/**
 * The text of an `http` or `stream` block's maps, split_clients, upstreams and servers, each after
 * a blank line, indented inside the block; each comment kept on its line. Written line by line into
 * one list joined once: a large mesh has a million lines here, which a template's per-item calls
 * made the most expensive part of a render.
 */
export function layoutBlock(block: BlockView): string {
  const out: string[] = [];
  for (const m of block.maps) {
    out.push('\n    # ', comment(m.comment), '\n    map ', m.source, ' ', m.variable, ' {\n');
    for (const e of m.entries) out.push('        ', e.key, ' ', e.value, ';\n');
    out.push('    }\n');
  }
  for (const s of block.splits) {
    out.push('\n    # ', comment(s.comment), '\n    split_clients ', s.key, ' ', s.variable, ' {\n');
    for (const e of s.entries) out.push('        ', e.share, ' ', e.value, ';\n');
    out.push('    }\n');
  }
  for (const u of block.upstreams) {
    out.push('\n    # ', comment(u.comment), '\n    upstream ', u.name, ' {\n');
    for (const d of u.directives) out.push('        ', end(d), '\n');
    for (const server of u.servers) out.push('        server ', server, ';\n');
    out.push('    }\n');
  }
  for (const s of block.servers) {
    out.push('\n    # ', comment(s.comment), '\n    server {\n');
    for (const d of s.directives) out.push('        ', end(d), '\n');
    for (const l of s.locations) {
      out.push('\n        location ', l.match, ' {\n');
      for (const d of l.directives) out.push('            ', end(d), '\n');
      out.push('        }\n');
    }
    out.push('    }\n');
  }
  return out.join('');
}
