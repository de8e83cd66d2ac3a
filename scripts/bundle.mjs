// Bundles the library and CLI entry points (dist/index.js, dist/cli.js) from tsc's per-module output,
// so that loading meshgen reads a few files instead of about a hundred: Node's ESM loader spends
// about 0.5 ms resolving, reading and linking each module, which was about half of the library's
// import time. Dynamic imports stay separate chunks, so a command still loads only what it uses.
// Each module's import.meta.url is replaced by the URL its own file had, so the files read relative
// to a module (templates, the mesh schema, the precompiled validator) are found as before.
// The per-module files stay in dist/ beside the bundle, with their type declarations.
import fs from 'node:fs';
import path from 'node:path';
import * as esbuild from 'esbuild';

const dist = path.resolve('dist');

/** import.meta.url of a module of dist/, as seen from a bundle file at dist/'s top level. */
const ownUrl = {
  name: 'own-import-meta-url',
  setup(build) {
    build.onLoad({ filter: /\.js$/ }, async (args) => {
      if (!args.path.startsWith(dist + path.sep)) return undefined;
      const rel = path.relative(dist, args.path).split(path.sep).join('/');
      const text = await fs.promises.readFile(args.path, 'utf8');
      return {
        contents: text.replaceAll(
          'import.meta.url',
          `new URL(${JSON.stringify('./' + rel)}, import.meta.url).href`,
        ),
        loader: 'js',
      };
    });
  },
};

// The bundled entry files replace tsc's (read before they are written), beside them in dist/ so that
// a URL relative to a bundle's own is one relative to dist/. The library is one file: what it
// imports dynamically is small. The CLI keeps each command's dynamic imports in chunks of its own.
const common = {
  outdir: dist,
  allowOverwrite: true,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  plugins: [ownUrl],
  logLevel: 'warning',
};
for (const old of fs.readdirSync(dist)) if (/^chunk-.*\.js$/.test(old)) fs.rmSync(path.join(dist, old));
await esbuild.build({ ...common, entryPoints: { index: path.join(dist, 'index.js') } });
await esbuild.build({
  ...common,
  entryPoints: { cli: path.join(dist, 'cli.js') },
  splitting: true,
  chunkNames: 'chunk-[hash]',
});
