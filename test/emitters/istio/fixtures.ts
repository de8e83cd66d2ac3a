/** A mesh using every feature the Istio target renders, for schema checks and per-feature tests. */
export const FULL_MESH = `apiVersion: meshgen.io/v1alpha1
kind: Mesh
metadata:
  name: full
spec:
  namespace: shop
  trustDomain: example.org
  mtls: { mode: strict }
  defaultAccess: deny
  backends:
    - name: reviews
      port: 9080
      versions:
        - { name: v1, labels: { version: v1 } }
        - { name: v2, labels: { version: v2, track: canary } }
        - { name: v3, labels: { version: v3 } }
      loadBalancer: ring-hash
      hashOn: { cookie: session }
      circuitBreaker: { maxConnections: 100, maxPendingRequests: 10, maxRequests: 200, maxRetries: 4 }
      outlierDetection: { consecutiveErrors: 7, interval: 1500ms, baseEjectionTime: 1m, maxEjectionPercent: 30 }
    - name: ratings
      namespace: data
      serviceAccount: ratings-sa
      port: 9090
      protocol: grpc
      versions:
        - { name: v1 }
      loadBalancer: random
      mtls: { mode: permissive }
    - name: legacy
      port: 8000
      protocol: http2
      versions:
        - { name: v1 }
      loadBalancer: ring-hash
      hashOn: { header: x-user }
      mtls: { mode: disabled }
    - name: sticky
      port: 8001
      versions:
        - { name: v1 }
      loadBalancer: ring-hash
      hashOn: { sourceIp: true }
      healthCheck: { path: /healthz }
    - name: db
      port: 5432
      protocol: tcp
      versions:
        - { name: a, labels: { release: a } }
        - { name: b, labels: { release: b } }
      loadBalancer: least-request
      circuitBreaker: { maxConnections: 50, maxRequests: 10 }
  frontends:
    - name: public
      port: 443
      protocol: https
      hosts: [shop.example.com, api.example.com, "*.example.com"]
      tls: { secretName: shop-tls, clientCa: certs/ca.crt }
    - name: plain
      port: 80
      protocol: http
    - name: files
      port: 8443
      protocol: https
      tls: { certificate: /etc/certs/tls.crt, key: /etc/certs/tls.key }
    - name: sni
      port: 9443
      protocol: tls-passthrough
      hosts: [db.example.com]
    - name: raw
      port: 15432
      protocol: tcp
  routes:
    - name: reviews-jason
      parent: { backend: reviews }
      match:
        - path: { regex: "/reviews/[0-9]+" }
          headers: { end-user: { exact: jason }, x-trace: { present: true }, x-env: { prefix: prod }, x-re: { regex: "a+" } }
          queryParams: { debug: { exact: "1" }, lang: { prefix: en }, v: { regex: "[0-9]+" }, flag: { present: true } }
          method: POST
      to:
        - { backend: reviews, version: v2 }
      retries: { attempts: 3, perTryTimeout: 250ms, on: [5xx, gateway-error, connect-failure, reset, retriable-4xx, "503"] }
      timeout: 2s
    - name: reviews-canary
      parent: { backend: reviews }
      match:
        - path: { prefix: /reviews }
        - path: { exact: /reviews-all }
      to:
        - { backend: reviews, version: v1, weight: 90 }
        - { backend: reviews, version: v3, weight: 10 }
      mirror: { backend: reviews, version: v2, percent: 12.5 }
      headers:
        request: { set: { x-env: prod }, add: { x-via: meshgen }, remove: [x-debug] }
        response: { set: { x-served-by: reviews }, add: { x-extra: "1" }, remove: [server] }
    - name: reviews-rest
      parent: { backend: reviews }
      to:
        - { backend: reviews, weight: 70 }
        - { backend: reviews, version: v2, weight: 30 }
      fault:
        delay: { duration: 2s, percent: 5 }
        abort: { status: 503, percent: 1.5 }
    - name: ratings-api
      parent: { backend: ratings }
      match:
        - path: { prefix: /old/ }
      to:
        - { backend: ratings }
      rewrite: { pathPrefix: /new/, host: ratings.internal }
    - name: db-split
      parent: { backend: db }
      to:
        - { backend: db, version: a, weight: 80 }
        - { backend: db, version: b, weight: 20 }
    - name: shop-api
      parent: { frontend: public, hosts: [api.example.com] }
      match:
        - path: { prefix: /api/ }
      to:
        - { backend: ratings }
    - name: shop-all
      parent: { frontend: public, hosts: ["*.example.com"] }
      to:
        - { backend: reviews, version: v1 }
    - name: shop-www
      parent: { frontend: public, hosts: [shop.example.com] }
      to:
        - { backend: reviews, version: v3 }
    - name: plain-all
      parent: { frontend: plain }
      to:
        - { backend: reviews }
    - name: files-all
      parent: { frontend: files }
      to:
        - { backend: reviews }
    - name: sni-db
      parent: { frontend: sni }
      to:
        - { backend: db, version: b }
    - name: raw-db
      parent: { frontend: raw }
      to:
        - { backend: db }
      timeout: 10s
  access:
    - backend: reviews
      allow:
        - from: [plain, public]
          paths: [/reviews, /reviews/*]
          methods: [GET, POST]
        - from: ["*"]
          paths: [/healthz]
    - backend: ratings
      allow:
        - from: [reviews, sticky]
    - backend: db
      allow:
        - from: [reviews]
          methods: [GET]
`;
