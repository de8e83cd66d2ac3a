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

/**
 * A small mesh: "api" (one version) with a retried, timed route by path and a query-matched one;
 * "client" calls it. Retries: 2 on 503 and per-try timeouts of 1s, all within 5s.
 */
export const SMALL = `
apiVersion: meshgen.io/v1alpha1
kind: Mesh
metadata: { name: small }
spec:
  namespace: small
  mtls: { mode: strict }
  backends:
    - name: api
      port: 8080
      versions:
        - { name: v1, labels: { version: v1 }, endpoints: ["127.0.0.1:18181"] }
    - name: client
      port: 8081
      versions:
        - { name: v1, labels: { version: v1 }, endpoints: ["127.0.0.1:18182"] }
  routes:
    - name: debug
      parent: { backend: api }
      match:
        - path: { prefix: /items }
          queryParams: { debug: { exact: "1" } }
      to: [{ backend: api, version: v1 }]
      headers:
        request: { set: { x-debug-route: "yes" } }
    - name: items
      parent: { backend: api }
      match:
        - path: { prefix: /items }
      to: [{ backend: api, version: v1 }]
      timeout: 5s
      retries: { attempts: 2, perTryTimeout: 1s, on: ["503"] }
      headers:
        request: { set: { x-route: items }, add: { x-via: meshgen }, remove: [x-drop] }
        response: { set: { x-served: api } }
`;

/** A file's text replaced, for cases that show the simulators read the rendered objects. */
export function edit(files: readonly OutputFile[], path: string, from: string, to: string): OutputFile[] {
  return files.map((f) => {
    if (f.path !== path) return f;
    if (!f.contents.includes(from)) throw new Error(`${path} has no ${from}`);
    return { path: f.path, contents: f.contents.replace(from, to) };
  });
}
