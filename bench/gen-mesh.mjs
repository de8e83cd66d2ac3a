// Generates a large, valid mesh for benchmarks: N backends with two versions each, a split route with
// matches and retries per backend, and access rules on every tenth backend.
// Usage: node bench/gen-mesh.mjs N > mesh.yaml   (or import { generateMesh }).
export function generateMesh(n, { variant = 0, changedEvery = 0 } = {}) {
  const out = [];
  out.push('apiVersion: meshgen.io/v1alpha1', 'kind: Mesh', 'metadata:', `  name: bench-${n}`, 'spec:');
  out.push(
    '  namespace: bench',
    '  trustDomain: cluster.local',
    '  mtls: { mode: strict }',
    '  defaultAccess: allow',
  );
  out.push('  backends:');
  for (let i = 0; i < n; i++) {
    const a = 10 + ((i >> 16) & 0xff);
    const b = (i >> 8) & 0xff;
    const c = i & 0xff;
    out.push(
      `    - name: svc-${i}`,
      `      port: ${20000 + (i % 40000)}`,
      '      protocol: http',
      '      versions:',
      `        - name: v1`,
      `          labels: { version: v1, app: svc-${i} }`,
      `          endpoints: ["10.${a - 10}.${b}.${c}:8080", "10.${a - 10}.${b}.${c}:8081"]`,
      `        - name: v2`,
      `          labels: { version: v2, app: svc-${i} }`,
      `          endpoints: ["10.${a - 10}.${b}.${c}:9080"]`,
      '      loadBalancer: least-request',
      '      circuitBreaker: { maxConnections: 1024, maxPendingRequests: 128, maxRequests: 1024, maxRetries: 3 }',
      '      outlierDetection: { consecutiveErrors: 5, interval: 10s, baseEjectionTime: 30s, maxEjectionPercent: 50 }',
    );
  }
  out.push('  routes:');
  for (let i = 0; i < n; i++) {
    const changed = changedEvery > 0 && i % changedEvery === 0 && variant > 0;
    const w = changed ? 50 : 90;
    out.push(
      `    - name: svc-${i}-canary`,
      `      parent: { backend: svc-${i} }`,
      '      match:',
      '        - path: { prefix: /api/ }',
      '          headers: { x-canary: { exact: "true" } }',
      '          method: GET',
      '        - path: { exact: /healthz }',
      '      to:',
      `        - { backend: svc-${i}, version: v1, weight: ${w} }`,
      `        - { backend: svc-${i}, version: v2, weight: ${100 - w} }`,
      '      timeout: 10s',
      '      retries: { attempts: 3, perTryTimeout: 2s, on: [5xx, connect-failure] }',
    );
  }
  out.push('  access:');
  for (let i = 0; i < n; i += 10) {
    out.push(
      `    - backend: svc-${i}`,
      '      allow:',
      `        - from: [svc-${(i + 1) % n}, svc-${(i + 2) % n}]`,
      '          paths: [/api/*]',
      '          methods: [GET, POST]',
    );
  }
  return out.join('\n') + '\n';
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop())) {
  process.stdout.write(generateMesh(Number(process.argv[2] ?? 1000)));
}
