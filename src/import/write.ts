import type { MeshDocument } from '../model/types.js';
import { toYaml } from '../yaml/writer.js';
import type { RouteOrigin } from './types.js';

function indent(text: string, by: string): string {
  return text
    .split('\n')
    .map((l) => (l ? by + l : l))
    .join('\n');
}

/** A comment line: one line, no control characters (an input file name may hold anything). */
function comment(text: string): string {
  // eslint-disable-next-line no-control-regex
  return '# ' + text.replace(/[\u0000-\u001f\u007f]/g, ' ');
}

/**
 * The mesh file `meshgen import` writes: the document as the YAML writer serialises it, each route
 * headed by a comment naming where it came from (`file:line`, the object).
 */
export function meshYaml(document: MeshDocument, origins: readonly RouteOrigin[], from: string): string {
  const { routes, access, ...head } = document.spec;
  const out = [comment(`imported by meshgen import --from ${from}; review the diagnostics it printed`)];
  out.push(toYaml({ ...document, spec: head }).trimEnd());
  if (routes?.length) {
    out.push('  routes:');
    routes.forEach((r, i) => {
      const origin = origins[i]?.origin;
      if (origin) out.push(indent(comment(`from ${origin}`), '    '));
      out.push(indent(toYaml([r]).trimEnd(), '    '));
    });
  }
  if (access?.length) {
    out.push('  access:');
    out.push(indent(toYaml(access).trimEnd(), '    '));
  }
  return out.join('\n') + '\n';
}
