import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type protobuf from 'protobufjs';

/**
 * Envoy's v3 API, loaded from the .proto files that ship in the npm package @grpc/grpc-js-xds
 * (deps/envoy-api, deps/xds, deps/googleapis, deps/protoc-gen-validate). Loaded once per process
 * (about 0.8 s), on first use.
 */
const require = createRequire(import.meta.url);
const DEPS = path.join(path.dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
const INCLUDES = ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) => path.join(DEPS, d));
const BUILTIN =
  /^google\/protobuf\/(any|duration|empty|field_mask|struct|timestamp|wrappers|descriptor)\.proto$/;

/** Envoy's service protos the checker needs: the DiscoveryResponse of filesystem config sources. */
const DISCOVERY = ['envoy/service/discovery/v3/discovery.proto'];

let loaded: typeof protobuf | undefined;

/** protobufjs, loaded on first use: importing it would cost every meshgen command about 40 ms. */
export function protobufjs(): typeof protobuf {
  if (loaded) return loaded;
  const pb = require('protobufjs') as typeof protobuf;
  // descriptor.proto is not in the package; protobufjs ships it as JSON (as @grpc/proto-loader does)
  const descriptorJson = require('protobufjs/google/protobuf/descriptor.json') as {
    nested: { google: { nested: { protobuf: { nested: protobuf.INamespace['nested'] } } } };
  };
  (pb as unknown as { common(name: string, json: unknown): void }).common(
    'descriptor',
    descriptorJson.nested.google.nested.protobuf.nested,
  );
  return (loaded = pb);
}

function findProto(file: string): string | null {
  for (const dir of INCLUDES) {
    const p = path.join(dir, file);
    if (fs.existsSync(p)) return p;
  }
  return null;
}

/** Every v3 proto whose imports are all shipped (three import opencensus/opentelemetry protos that are not). */
function loadableV3Files(): string[] {
  const memo = new Map<string, boolean>();
  const ok = (f: string, seen: Set<string>): boolean => {
    if (BUILTIN.test(f)) return true;
    const known = memo.get(f);
    if (known !== undefined) return known;
    if (seen.has(f)) return true;
    const p = findProto(f);
    if (!p) {
      memo.set(f, false);
      return false;
    }
    seen.add(f);
    const imports = [...fs.readFileSync(p, 'utf8').matchAll(/^import\s+(?:public\s+|weak\s+)?"([^"]+)"/gm)];
    const r = imports.every((m) => ok(m[1]!, seen));
    memo.set(f, r);
    return r;
  };
  const out: string[] = [];
  const base = path.join(DEPS, 'envoy-api');
  const walk = (d: string) => {
    for (const e of fs.readdirSync(path.join(base, d), { withFileTypes: true })) {
      const rel = path.posix.join(d, e.name);
      if (e.isDirectory()) walk(rel);
      else if (/\/v3(alpha)?\/[^/]+\.proto$/.test(rel) && ok(rel, new Set())) out.push(rel);
    }
  };
  for (const d of ['envoy/config', 'envoy/extensions', 'envoy/type', 'envoy/data']) walk(d);
  // the DiscoveryResponse a path config source holds (LDS and CDS from files)
  for (const f of DISCOVERY) if (ok(f, new Set())) out.push(f);
  return out.sort();
}

let root: protobuf.Root | undefined;

/** The protobufjs reflection root of Envoy's v3 API (field names as in the .proto files). */
export function envoyRoot(): protobuf.Root {
  if (root) return root;
  const r = new (protobufjs().Root)();
  r.resolvePath = (_origin, target) => findProto(target) ?? target;
  r.loadSync(loadableV3Files(), { keepCase: true });
  r.resolveAll();
  return (root = r);
}
