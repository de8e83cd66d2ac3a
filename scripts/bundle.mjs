// Bundles the library and CLI entry points (dist/index.js, dist/cli.js, and the CLI's worker thread
// dist/diff-worker.js) from tsc's per-module output,
// so that loading meshgen reads a few files instead of about a hundred: Node's ESM loader spends
// about 0.5 ms resolving, reading and linking each module, which was half of the library's import
// time. The library is one file; the CLI keeps each command's dynamic imports in chunks of their
// own, so a command still loads only what it uses. Packages and Node's modules stay imports.
//
// Each module's import.meta.url is replaced by the URL its own file had, so the files read relative
// to a module (templates, the mesh schema, the precompiled validator) are found as before: the
// bundles sit at dist/'s top level. The per-module files stay in dist/ with their type declarations.
//
// Rollup, not esbuild: esbuild turns every top-level const into a var when it bundles, and V8 then
// runs the hot loops that read module-level tables (the YAML writer's, for one) measurably slower.
// Rollup's WebAssembly build: the native one needs a package per platform, each of which the lock
// file must list and the registry must hold.
import fs from 'node:fs';
import path from 'node:path';
import { rollup } from '@rollup/wasm-node';

const dist = path.resolve('dist');

/**
 * import.meta.url of a module of dist/, as seen from a bundle file at dist/'s top level; each
 * module is read with tsc's source map, so the bundles' maps lead back to src/.
 */
const ownUrl = {
  name: 'own-import-meta-url',
  load(id) {
    if (!id.startsWith(dist + path.sep) || !fs.existsSync(id + '.map')) return null;
    return { code: fs.readFileSync(id, 'utf8'), map: JSON.parse(fs.readFileSync(id + '.map', 'utf8')) };
  },
  transform(code, id) {
    if (!id.startsWith(dist + path.sep)) return null;
    const rel = path.relative(dist, id).split(path.sep).join('/');
    const url = `new URL(${JSON.stringify('./' + rel)}, import.meta.url).href`;
    return { code: code.replaceAll('import.meta.url', url), map: null };
  },
};

/** Relative imports are bundled; packages and node: modules are not. */
const external = (id) => !id.startsWith('.') && !path.isAbsolute(id);

const onwarn = (warning, warn) => {
  // import cycles between modules are fine in ESM and in the bundle alike
  if (warning.code !== 'CIRCULAR_DEPENDENCY') warn(warning);
};

// both bundles are built from tsc's files before either entry file is replaced
const library = await rollup({ input: path.join(dist, 'index.js'), external, onwarn, plugins: [ownUrl] });
// the CLI, and the worker thread of `meshgen diff --target` (dist/diff-worker.js), sharing chunks
const cli = await rollup({
  input: { cli: path.join(dist, 'cli.js'), 'diff-worker': path.join(dist, 'diff-worker.js') },
  external,
  onwarn,
  plugins: [ownUrl],
});
for (const old of fs.readdirSync(dist))
  if (/^chunk-.*\.js(\.map)?$/.test(old)) fs.rmSync(path.join(dist, old));
await library.write({
  file: path.join(dist, 'index.js'),
  format: 'es',
  inlineDynamicImports: true,
  sourcemap: true,
});
await cli.write({
  dir: dist,
  format: 'es',
  entryFileNames: '[name].js',
  chunkFileNames: 'chunk-[hash].js',
  sourcemap: true,
});
await Promise.all([library.close(), cli.close()]);
