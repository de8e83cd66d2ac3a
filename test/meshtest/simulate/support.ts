import { render } from '../../../src/render.js';
import type { ResolvedMesh } from '../../../src/model/types.js';
import type { OutputFile } from '../../../src/emitters/types.js';
import type { SimCase } from '../../../src/meshtest/simulate/types.js';

/** The files one target renders for a mesh. */
export function filesFor(mesh: ResolvedMesh, target: string): readonly OutputFile[] {
  const out = render(mesh, { targets: [target] }).outputs[0];
  if (!out) throw new Error(`no output for ${target}`);
  return out.files;
}

/** A case: GET / from `caller` to `host`, changed by `over`. */
export function simCase(over: Partial<SimCase> & Pick<SimCase, 'entry' | 'host'>): SimCase {
  return {
    scheme: 'http',
    method: 'GET',
    path: '/',
    query: {},
    headers: {},
    count: 1,
    backends: {},
    ...over,
  };
}
