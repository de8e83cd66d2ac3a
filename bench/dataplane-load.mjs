// Benchmark: how long meshgen proxy takes to load and serve one sidecar of a large mesh, and its peak
// memory, beside the render of the same mesh in the same run (the peer: a load that grows faster
// than the render shows as a rising ratio). For each size the mesh of bench/gen-mesh.mjs is rendered
// for the envoy target (discoveryDir: the output folder) and written out; certificates are issued
// for svc-0; then `meshgen proxy -c sidecar-svc-0` is started as a process (admin and inbound ports
// 0; the outbound listeners bind 127.0.0.1:20000 and up, as rendered) until it prints that it
// serves, and its peak RSS (VmHWM) is read before it is stopped. Medians of RUNS runs (default 1).
// Usage: npm run build && node bench/dataplane-load.mjs [sizes...]   (default 1000 10000)
//        MESHGEN_ROOT=<another checkout, built> node bench/dataplane-load.mjs   (measures that one)
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateMesh } from './gen-mesh.mjs';

const here = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const root = path.resolve(process.env.MESHGEN_ROOT ?? here);
const { parseMesh, render, issueCertificates } = await import(path.join(root, 'dist/index.js'));
const cli = path.join(root, 'dist/cli.js');
const sizes = process.argv.slice(2).map(Number);
const runs = Number(process.env.RUNS ?? 1);
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/** Peak resident memory of a process, in MB (Linux: VmHWM in /proc/<pid>/status). */
function peakRssMb(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1]);
  return kb / 1024;
}

/** Starts `meshgen proxy -c file`; resolves when it prints that it serves, with the time and peak RSS. */
function loadOnce(cwd, file) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, [cli, 'proxy', '-c', file, '--drain-time', '0'], {
      cwd,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    let done = false;
    child.stderr.on('data', (chunk) => {
      if (done) return;
      err += chunk;
      if (!/meshgen proxy: serving /.test(err)) return;
      done = true;
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      const mb = peakRssMb(child.pid);
      child.once('exit', () => resolve({ ms, mb }));
      child.kill('SIGTERM');
    });
    child.once('exit', (code) => {
      if (!done) reject(new Error(`meshgen proxy exited ${code} before serving:\n${err.slice(0, 2000)}`));
    });
  });
}

const rows = [];
for (const n of sizes.length ? sizes : [1000, 10000]) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `meshgen-dp-load-${n}-`));
  try {
    const parsed = parseMesh(generateMesh(n), { file: `bench-${n}.yaml` });
    if (!parsed.mesh) throw new Error(`mesh of ${n} backends did not load`);
    const options = { targets: ['envoy'], settings: { discoveryDir: dir, certDir: path.join(dir, 'certs') } };
    const r = [];
    let files = [];
    for (let i = 0; i < runs; i++) {
      const t = process.hrtime.bigint();
      files = render(parsed.mesh, options).outputs.flatMap((o) => o.files);
      r.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    const keep = new Set(['outbound-listeners.yaml', 'outbound-clusters.yaml', 'sidecar-svc-0.yaml']);
    for (const f of files) if (keep.has(f.path)) fs.writeFileSync(path.join(dir, f.path), f.contents);
    // the admin and inbound listeners on ports the OS picks: 15000 and 15006 may be taken
    const sidecar = fs
      .readFileSync(path.join(dir, 'sidecar-svc-0.yaml'), 'utf8')
      .replace(/port_value: 15000\b/, 'port_value: 0')
      .replace(/port_value: 15006\b/, 'port_value: 0');
    fs.writeFileSync(path.join(dir, 'sidecar-svc-0.yaml'), sidecar);
    // certificates for svc-0 (the sidecar's own) and the CA every cluster names
    const small = parseMesh(generateMesh(1), { file: 'bench-1.yaml' });
    fs.mkdirSync(path.join(dir, 'certs'));
    for (const f of await issueCertificates(small.mesh))
      if (['ca.crt', 'svc-0.crt', 'svc-0.key'].includes(f.path))
        fs.writeFileSync(path.join(dir, 'certs', f.path), f.contents);
    const loads = [];
    for (let i = 0; i < runs; i++) loads.push(await loadOnce(dir, 'sidecar-svc-0.yaml'));
    const bytes = ['outbound-listeners.yaml', 'outbound-clusters.yaml'].reduce(
      (s, f) => s + fs.statSync(path.join(dir, f)).size,
      0,
    );
    rows.push({
      n,
      bytes,
      render: median(r),
      load: median(loads.map((l) => l.ms)),
      mb: median(loads.map((l) => l.mb)),
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
console.log(`meshgen at ${root}`);
console.log('backends  discovery MB  render ms  proxy load ms  load/render  peak RSS MB');
for (const x of rows) {
  console.log(
    `${String(x.n).padStart(8)}  ${(x.bytes / 1e6).toFixed(1).padStart(12)}  ${x.render.toFixed(0).padStart(9)}  ${x.load.toFixed(0).padStart(13)}  ${(x.load / x.render).toFixed(2).padStart(11)}  ${x.mb.toFixed(0).padStart(11)}`,
  );
}
