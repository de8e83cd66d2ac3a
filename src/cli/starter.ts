/** The commented starter mesh `meshgen init` writes. */
export const starterMesh = (schemaRef: string): string => `# yaml-language-server: $schema=${schemaRef}
# A starter mesh: one frontend, one backend with a canary. Validate it with \`meshgen validate mesh.yaml\`
# and render it with \`meshgen render mesh.yaml --target all -o out\`. The format: \`meshgen schema\`.
apiVersion: meshgen.io/v1alpha1
kind: Mesh
metadata:
  name: hello                     # DNS-1123 label; every emitted object carries it as a label
spec:
  namespace: default              # default namespace of every backend
  mtls: { mode: permissive }      # strict | permissive | disabled
  defaultAccess: allow            # allow | deny: traffic to backends no access rule names

  backends:
    - name: hello
      port: 8080                  # what callers connect to
      protocol: http              # http | http2 | grpc | tcp
      versions:                   # a version is a subset of the workload, selected by labels
        - { name: v1, labels: { version: v1 }, endpoints: ["127.0.0.1:18081"] }
        - { name: v2, labels: { version: v2 }, endpoints: ["127.0.0.1:18082"] }

  frontends:
    - name: public
      port: 8000
      protocol: http              # http | https | tcp | tls-passthrough
      hosts: ["*"]

  routes:
    # routes of one parent are tried in order; the first whose match accepts the request wins
    - name: hello-canary
      parent: { frontend: public }
      match:
        - path: { prefix: / }
      to:                         # integer weights summing to 100
        - { backend: hello, version: v1, weight: 90 }
        - { backend: hello, version: v2, weight: 10 }
      timeout: 5s                 # the whole request, retries included
      retries: { attempts: 1, perTryTimeout: 2s, on: [gateway-error, connect-failure] }  # 2 tries fit in 5s
`;
