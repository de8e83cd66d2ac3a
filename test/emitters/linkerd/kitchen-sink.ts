import { meshYaml } from './support.js';

/** Uses every feature the linkerd target renders, so every object shape meets its CRD. */
export const KITCHEN_SINK = meshYaml({
  spec: '  trustDomain: example.org\n  mtls: { mode: strict }\n  defaultAccess: deny',
  backends: `
    - name: api
      port: 8080
      protocol: http2
      versions:
        - { name: v1, labels: { version: v1 } }
        - { name: v2, labels: { version: v2 } }
      outlierDetection: { consecutiveErrors: 3, interval: 5s, baseEjectionTime: 1500ms, maxEjectionPercent: 50 }
    - name: users
      namespace: people
      serviceAccount: users-sa
      port: 8081
      protocol: grpc
      versions:
        - { name: v1, labels: { track: stable } }
      mtls: { mode: permissive }
    - name: legacy
      port: 8082
      versions:
        - { name: v1 }
      mtls: { mode: disabled }
    - name: db
      port: 5432
      protocol: tcp
      versions:
        - { name: a, labels: { release: a } }
        - { name: b, labels: { release: b } }`,
  frontends: `
    - name: edge
      port: 443
      protocol: https
      hosts: [a.example.com, "*.example.org"]
      tls: { secretName: edge-tls, clientCa: certs/ca.crt }
    - name: plain
      port: 80
      protocol: http
    - name: sql
      port: 15432
      protocol: tcp
    - name: pass
      port: 8443
      protocol: tls-passthrough
      hosts: [secure.example.com]`,
  routes: `
    - name: api-regex
      parent: { backend: api }
      match:
        - path: { regex: "/items/[0-9]+" }
          headers: { x-user: { prefix: "adm" }, x-trace: { present: true } }
          queryParams: { debug: { exact: "1" }, v: { regex: "[a-z]+" } }
          method: PUT
      to:
        - { backend: api, version: v2 }
      timeout: 100001ms
      retries: { attempts: 2, perTryTimeout: 250ms, on: [retriable-4xx, "503"] }
      headers:
        request: { set: { x-a: "1" }, add: { x-b: "2" }, remove: [x-c] }
        response: { set: { x-d: "3" }, add: { x-e: "4" }, remove: [server] }
    - name: api-split
      parent: { backend: api }
      to:
        - { backend: api, version: v1, weight: 90 }
        - { backend: api, version: v2, weight: 10 }
      timeout: 1m30s
    - name: edge-users
      parent: { frontend: edge, hosts: [a.example.com] }
      match:
        - path: { prefix: /users/ }
      to:
        - { backend: users }
      rewrite: { pathPrefix: /, host: users.internal }
      timeout: 1h30m
      retries: { attempts: 3, perTryTimeout: 2s, on: [5xx, reset] }
    - name: plain-all
      parent: { frontend: plain }
      to:
        - { backend: api, version: v1 }
    - name: sql
      parent: { frontend: sql }
      to:
        - { backend: db, version: a, weight: 50 }
        - { backend: db, version: b, weight: 50 }
    - name: pass
      parent: { frontend: pass }
      to:
        - { backend: db }
    - name: db-split
      parent: { backend: db }
      to:
        - { backend: db, version: a, weight: 80 }
        - { backend: db, version: b, weight: 20 }`,
  access: `
    - backend: api
      allow:
        - from: [plain]
        - from: [users]
          paths: [/admin/*, /status]
          methods: [GET, POST]
        - from: ["*"]
          paths: [/admin/reports/*]
          methods: [GET]
    - backend: db
      allow:
        - from: [api, sql]`,
});
