/** A mesh using every feature the proxy targets render, for their own config checks. */
export const KITCHEN_SINK = `
apiVersion: meshgen.io/v1alpha1
kind: Mesh
metadata: { name: sink }
spec:
  namespace: sink
  mtls: { mode: strict }
  defaultAccess: deny
  backends:
    - name: a
      port: 8080
      versions:
        - { name: v1, endpoints: ["127.0.0.1:18001", "[::1]:18002"] }
        - { name: v2, endpoints: ["localhost:18003"] }
      loadBalancer: ring-hash
      hashOn: { header: x-user }
      healthCheck: { path: /healthz, interval: 2s, timeout: 500ms }
    - name: b
      port: 8080
      protocol: http2
      versions: [{ name: v1, endpoints: ["127.0.0.1:18004"] }]
      loadBalancer: ring-hash
      hashOn: { cookie: session }
      mtls: { mode: disabled }
    - name: c
      port: 8080
      protocol: grpc
      versions: [{ name: v1, endpoints: ["127.0.0.1:18005"] }]
      loadBalancer: ring-hash
      hashOn: { sourceIp: true }
      circuitBreaker: { maxConnections: 10, maxPendingRequests: 5 }
      outlierDetection: { consecutiveErrors: 2 }
    - name: d
      port: 9000
      protocol: tcp
      versions: [{ name: v1, endpoints: ["127.0.0.1:18006"] }]
      loadBalancer: random
  frontends:
    - name: plain
      port: 18080
      protocol: http
      hosts: ["*.example.com", api.example.org]
    - name: secure
      port: 18443
      protocol: https
      hosts: [secure.example.com]
      tls: { certificate: certs/site.crt, key: certs/site.key, clientCa: certs/clients-ca.crt }
    - name: pass
      port: 18444
      protocol: tls-passthrough
      hosts: [a.example.com, b.example.com]
    - name: raw
      port: 18445
      protocol: tcp
  routes:
    - name: everything
      parent: { frontend: plain }
      match:
        - path: { regex: "/items/[0-9]+" }
          headers: { x-a: { prefix: "it's" }, x-b: { regex: "a|b" }, x-c: { present: true } }
          queryParams: { q: { present: true }, r: { regex: "[a-z]+" }, x-y: { exact: "1" } }
          method: PATCH
      to: [{ backend: a }]
      retries: { attempts: 1, on: [retriable-4xx, reset, "429", "418"] }
      fault: { abort: { status: 418, percent: 0.5 } }
      mirror: { backend: a, version: v2, percent: 50 }
      headers:
        request: { add: { x-quote: 'say "hi" \\\\ there' } }
        response: { add: { x-z: z } }
    - name: prefixed
      parent: { frontend: plain, hosts: [api.example.org] }
      match: [{ path: { prefix: /v1 } }, { path: { prefix: /v2 } }]
      to:
        - { backend: a, version: v1, weight: 33 }
        - { backend: a, version: v2, weight: 67 }
      rewrite: { pathPrefix: /api }
      timeout: 2s
      retries: { attempts: 2, perTryTimeout: 500ms, on: [gateway-error] }
    - name: h2
      parent: { frontend: secure }
      to: [{ backend: b }]
    - name: grpc
      parent: { backend: c }
      match: [{ path: { exact: /pkg.Svc/Method } }]
      to: [{ backend: c }]
    - name: pass-a
      parent: { frontend: pass, hosts: [a.example.com] }
      to: [{ backend: d }]
    - name: pass-b
      parent: { frontend: pass, hosts: [b.example.com] }
      to: [{ backend: d }]
    - name: raw
      parent: { frontend: raw }
      to: [{ backend: d }]
  access:
    - backend: a
      allow: [{ from: [plain, secure] }]
`;
