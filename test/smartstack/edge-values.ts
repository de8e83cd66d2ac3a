/**
 * A mesh whose values sit at the edges of what haproxy.cfg and nginx.conf can spell: match values
 * that start with `-` or are a lone `}`, empty header values, an ejection time under a second.
 */
export const EDGE_VALUES = `
apiVersion: meshgen.io/v1alpha1
kind: Mesh
metadata: { name: edges }
spec:
  mtls: { mode: disabled }
  backends:
    - name: web
      port: 8080
      outlierDetection: { consecutiveErrors: 3, baseEjectionTime: 500ms }
      versions: [{ name: v1, endpoints: ["127.0.0.1:9101"] }]
  routes:
    - name: edges
      parent: { backend: web }
      match:
        - headers: { x-a: { exact: "-pk" }, x-b: { prefix: "}" } }
          queryParams: { q: { exact: "}" }, r: { prefix: "--x" } }
      to: [{ backend: web }]
      headers:
        request: { set: { x-empty: "" }, add: { x-empty-too: "" } }
        response: { set: { x-res-empty: "" } }
`;
