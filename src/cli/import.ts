import path from 'node:path';
import { Option, type Command } from 'commander';
import { hasErrors } from '../model/diagnostics.js';
import { readInputs } from '../import/documents.js';
import { importers, importMesh } from '../import/index.js';
import { writeFilesAtomically } from './output.js';
import { report } from './report.js';

/** 0 imported, 1 the input gave errors (or warnings under --strict), 2 usage or I/O. */
const EXIT = { ok: 0, invalid: 1, usage: 2 } as const;

interface ImportCliOptions {
  from: string;
  output?: string;
  namespace?: string;
  name?: string;
  parent?: string;
  strict?: boolean;
  format: 'text' | 'json';
}

async function importCommand(paths: string[], opts: ImportCliOptions): Promise<number> {
  const read = await readInputs(paths);
  if (read.diagnostics.length) {
    report({ diagnostics: read.diagnostics, sources: new Map() }, opts.format);
    return EXIT.usage;
  }
  const result = importMesh(read.inputs, {
    from: opts.from,
    namespace: opts.namespace,
    name: opts.name,
    parent: opts.parent,
    strict: opts.strict,
  });
  report({ diagnostics: result.diagnostics, sources: result.sources }, opts.format);
  if (hasErrors(result.diagnostics) || !result.yaml) return EXIT.invalid;
  if (opts.output) {
    await writeFilesAtomically(path.dirname(opts.output), [
      { path: path.basename(opts.output), contents: result.yaml },
    ]);
    if (opts.format === 'text') process.stderr.write(`wrote ${opts.output}\n`);
  } else process.stdout.write(result.yaml);
  return EXIT.ok;
}

/** Registers `meshgen import --from <source> <files...>`. */
export function registerImport(program: Command): void {
  program
    .command('import')
    .description('read Istio, Gateway API, Linkerd or Consul configuration into one mesh file')
    .argument(
      '<inputs...>',
      'YAML, JSON or HCL (Consul config entries) files, folders of them, or - for standard input',
    )
    .addOption(
      new Option('--from <source>', 'what the input is')
        .choices(importers.map((i) => i.from))
        .makeOptionMandatory(),
    )
    .option('-o, --output <file>', 'write the mesh here (atomically) instead of printing it')
    .option(
      '--namespace <ns>',
      'namespace of objects that name none, and of the mesh (default: the most used)',
    )
    .option(
      '--name <name>',
      'metadata.name of the mesh (default: its meshgen.io/mesh label or the namespace)',
    )
    .option(
      '--parent <ref>',
      'attach Gateway API routes without parentRefs to gateway/NAME[:PORT] (made on PORT when not among the inputs) or service/NAME',
    )
    .option('--strict', 'treat what cannot be carried (warnings) as errors')
    .addOption(
      new Option('--format <format>', 'diagnostics as text or json')
        .choices(['text', 'json'])
        .default('text'),
    )
    .addHelpText(
      'after',
      `
Examples:
  meshgen import --from istio samples/bookinfo/ -o mesh.yaml
  kubectl get virtualservices,destinationrules,gateways,services -A -o yaml | meshgen import --from istio -
  meshgen import --from istio istio.yaml --strict
  meshgen import --from consul config-entries/ -o mesh.yaml     # HCL, JSON or the CRDs
  meshgen import --from gateway-api routes/ --parent gateway/prod-web-gw:80   # routes without parentRefs

Every field that cannot be carried is a diagnostic located in the input; kinds not used are named.
Exit codes: 0 imported, 1 error diagnostics (warnings too with --strict), 2 usage or I/O error.`,
    )
    .action(async (inputs: string[], opts: ImportCliOptions) => {
      process.exitCode = await importCommand(inputs, opts);
    });
}
