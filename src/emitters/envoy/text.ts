import { toYaml } from '../../yaml/writer.js';
import type { Json } from './common.js';

/**
 * Bootstraps as text, assembled from pieces serialized once. Every sidecar holds the same outbound
 * listeners and clusters (only the workload certificate's file name differs), so the emitter
 * serializes that part once, with a placeholder for the workload, instead of once per sidecar.
 * `serialize(bootstrap)` of the whole object gives the same bytes (a test keeps them equal).
 */
export interface Format {
  /** The whole object. */
  whole(value: Json): string;
  /** Items of `static_resources.listeners` or `.clusters`, ready to splice. */
  items(values: readonly Json[]): string;
  /** head (node, admin) + static_resources { listeners, clusters } from spliced items. */
  assemble(head: Json, listeners: readonly string[], clusters: readonly string[]): string;
}

const indent = (text: string, pad: string) => text.replace(/^(?=.)/gm, pad);

export const YAML_FORMAT: Format = {
  whole: (v) => toYaml(v),
  items: (vs) => (vs.length ? indent(toYaml(vs), '    ') : ''),
  assemble(head, listeners, clusters) {
    const list = (parts: readonly string[]) => {
      const body = parts.join('');
      return body ? `\n${body}` : ' []\n';
    };
    return `${toYaml(head)}static_resources:\n  listeners:${list(listeners)}  clusters:${list(clusters)}`;
  },
};

export const JSON_FORMAT: Format = {
  whole: (v) => JSON.stringify(v, null, 2) + '\n',
  items: (vs) => vs.map((v) => indent(JSON.stringify(v, null, 2), '      ')).join(',\n'),
  assemble(head, listeners, clusters) {
    const list = (parts: readonly string[]) => {
      const body = parts.filter((p) => p !== '').join(',\n');
      return body ? `[\n${body}\n    ]` : '[]';
    };
    const h = JSON.stringify(head, null, 2);
    const open = h === '{}' ? '{\n' : `${h.slice(0, -2)},\n`;
    return `${open}  "static_resources": {\n    "listeners": ${list(listeners)},\n    "clusters": ${list(clusters)}\n  }\n}\n`;
  },
};
