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
  /** Laid out as they are built (`upstreamText`): a large mesh's views are not kept until the end. */
  upstreams: string[];
  /** Laid out as they are built (`serverText`). */
  servers: string[];
}

export function emptyBlock(): BlockView {
  return { globals: [], maps: [], splits: [], upstreams: [], servers: [] };
}

/** A directive ends with `;`, a block (`if (...) { ... }`) with its `}`: what follows it on its line. */
function ending(d: string): string {
  return d.endsWith('}') ? '\n' : ';\n';
}

/**
 * The text of an `http` or `stream` block's maps, split_clients, upstreams and servers, each after
 * a blank line, indented inside the block; each comment kept on its line. Each item is written
 * piece by piece into a list joined once (a large mesh has a million lines here, which a template's
 * per-item calls made the most expensive part of a render).
 */
export function layoutBlock(block: BlockView): string {
  const items: string[] = [];
  for (const m of block.maps) {
    const out = ['\n    # ', comment(m.comment), '\n    map ', m.source, ' ', m.variable, ' {\n'];
    for (const e of m.entries) out.push('        ', e.key, ' ', e.value, ';\n');
    out.push('    }\n');
    items.push(out.join(''));
  }
  for (const s of block.splits) {
    const out = ['\n    # ', comment(s.comment), '\n    split_clients ', s.key, ' ', s.variable, ' {\n'];
    for (const e of s.entries) out.push('        ', e.share, ' ', e.value, ';\n');
    out.push('    }\n');
    items.push(out.join(''));
  }
  for (const u of block.upstreams) items.push(u);
  for (const s of block.servers) items.push(s);
  return items.join('');
}

/** A `server` block, after a blank line, indented inside its `http` or `stream` block. */
export function serverText(s: ServerView): string {
  const out = ['\n    # ', comment(s.comment), '\n    server {\n'];
  for (const d of s.directives) out.push('        ', d, ending(d));
  for (const l of s.locations) {
    out.push('\n        location ', l.match, ' {\n');
    for (const d of l.directives) out.push('            ', d, ending(d));
    out.push('        }\n');
  }
  out.push('    }\n');
  return out.join('');
}

/** An `upstream` block, after a blank line, indented inside its `http` or `stream` block. */
export function upstreamText(u: UpstreamView): string {
  const out = ['\n    # ', comment(u.comment), '\n    upstream ', u.name, ' {\n'];
  for (const d of u.directives) out.push('        ', d, ending(d));
  for (const server of u.servers) out.push('        server ', server, ';\n');
  out.push('    }\n');
  return out.join('');
}
