/**
 * Reads MeshTest files: parse (the mesh's YAML reader), the schema (schemas/meshtest.schema.json),
 * then checks against the mesh (the frontends, callers and backends a case names), every diagnostic
 * located in the test file.
 */
import { createRequire } from 'node:module';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type Ajv2020Module from 'ajv/dist/2020.js';
import { diagnostic, hasErrors, joinPointer, type Diagnostic } from '../model/diagnostics.js';
import { closest } from '../model/nearest.js';
import { unknownFieldDiagnostic } from '../model/schema.js';
import { locateDiagnostics, type SourceFile } from '../model/source.js';
import type { ResolvedMesh } from '../model/types.js';
import { parseYaml, readYamlFile, type Loaded } from '../model/yaml.js';
import { testTargets } from './run.js';
import type { MeshTestDocument, TestCase, TestExpect } from './types.js';

const require = createRequire(import.meta.url);
/** The MeshTest format's JSON Schema (draft 2020-12). */
export const meshTestSchema: Record<string, unknown> = require('../../schemas/meshtest.schema.json');

let compiled: ValidateFunction | undefined;
function validator(): ValidateFunction {
  if (compiled) return compiled;
  const module = require('ajv/dist/2020.js') as { default?: typeof Ajv2020Module.default };
  const Ajv2020 = (module.default ?? module) as typeof Ajv2020Module.default;
  return (compiled = new Ajv2020({
    allErrors: true,
    strict: true,
    strictRequired: false,
    allowUnionTypes: true,
  }).compile(meshTestSchema));
}

export interface TestsResult {
  /** The cases, when the file has no error. */
  readonly cases?: readonly TestCase[];
  /** Located in the file. */
  readonly diagnostics: readonly Diagnostic[];
  /** The file's text, for the lines diagnostics point at. */
  readonly source: SourceFile;
}

/** Parses and checks MeshTest YAML text against a mesh. */
export function parseTests(text: string, file: string, mesh: ResolvedMesh): TestsResult {
  return finish(parseYaml(text, file), file, mesh);
}

/** Reads a MeshTest file and checks it against a mesh. */
export async function loadTests(path: string, mesh: ResolvedMesh): Promise<TestsResult> {
  return finish(await readYamlFile(path), path, mesh);
}

function finish(loaded: Loaded, file: string, mesh: ResolvedMesh): TestsResult {
  const source = loaded.source;
  if (loaded.value === undefined) return { diagnostics: loaded.diagnostics, source };
  const diagnostics = checkShape(loaded.value);
  if (!hasErrors(diagnostics)) diagnostics.push(...checkAgainstMesh(loaded.value as MeshTestDocument, mesh));
  // unknown fields, and backends named as keys (`backends: { web/v9: ... }`), point at the key
  const atKey = (d: Diagnostic) =>
    d.code === 'MG6002' || (d.code === 'MG6005' && /\/(backends|shares)\/[^/]+$/.test(d.pointer ?? ''));
  const located = locateDiagnostics(diagnostics, loaded.source, { key: atKey });
  if (hasErrors(diagnostics)) return { diagnostics: located, source };
  const doc = loaded.value as MeshTestDocument;
  const cases = doc.spec.cases.map((c, i) => ({ ...c, file, pointer: `/spec/cases/${i}` }));
  return { cases, diagnostics: located, source };
}

function checkShape(value: unknown): Diagnostic[] {
  const doc = value as Record<string, unknown> | null;
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc) || doc.kind !== 'MeshTest')
    return [
      diagnostic('MG6001', 'this is not a meshgen MeshTest document', {
        pointer: doc && typeof doc === 'object' && 'kind' in doc ? '/kind' : '',
        hint: 'a test file starts with `apiVersion: meshgen.io/v1alpha1` and `kind: MeshTest`; `meshgen test --init <mesh>` writes one',
      }),
    ];
  const validate = validator();
  if (validate(value)) return [];
  return toDiagnostics(validate.errors ?? []);
}

function toDiagnostics(errors: readonly ErrorObject[]): Diagnostic[] {
  const out = new Map<string, Diagnostic>();
  // a oneOf or anyOf reports its branches' errors too: keep the summary alone for its path
  const summaries = new Set(
    errors.filter((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf').map((e) => e.instancePath),
  );
  for (const e of errors) {
    const at = e.instancePath;
    if (e.keyword !== 'oneOf' && e.keyword !== 'anyOf' && summaries.has(at)) continue;
    if (e.keyword === 'propertyNames' || e.keyword === 'if') continue;
    const where = at === '' ? 'the document' : at;
    const p = e.params as Record<string, unknown>;
    let d: Diagnostic;
    if (e.keyword === 'additionalProperties') d = unknownFieldDiagnostic('MG6002', e, where);
    else if (e.keyword === 'required')
      d = diagnostic('MG6003', `${where} is missing the required field "${String(p.missingProperty)}"`, {
        pointer: at,
      });
    else if (e.keyword === 'oneOf' && at.endsWith('/request'))
      d = diagnostic('MG6003', `${where} must name either a frontend or a caller and the backend it calls`, {
        pointer: at,
        hint: 'request: { frontend: public } or request: { caller: checkout, backend: payments }',
      });
    else if (e.propertyName !== undefined)
      d = diagnostic('MG6004', `${where}: the key ${JSON.stringify(e.propertyName)} is not valid`, {
        pointer: joinPointer(at, e.propertyName),
      });
    else d = diagnostic('MG6004', `${where} ${e.message ?? 'is not valid'}`, { pointer: at });
    out.set(`${d.code}|${d.pointer}|${d.message}`, d);
  }
  return [...out.values()];
}

function checkAgainstMesh(doc: MeshTestDocument, mesh: ResolvedMesh): Diagnostic[] {
  const out: Diagnostic[] = [];
  const backends = [...mesh.backendsByName.keys()];
  const unknown = (pointer: string, message: string, near?: string) =>
    out.push(diagnostic('MG6005', message, { pointer, hint: near ? `did you mean "${near}"?` : undefined }));
  const checkBackend = (pointer: string, name: string) => {
    if (!mesh.backendsByName.has(name))
      unknown(pointer, `backend "${name}" is not in mesh "${mesh.name}"`, closest(name, backends));
  };
  const checkWho = (pointer: string, who: string) => {
    const [name, version] = who.split('/') as [string, string | undefined];
    const b = mesh.backendsByName.get(name);
    if (!b) return checkBackend(pointer, name);
    if (version !== undefined && !b.versions.some((v) => v.name === version))
      unknown(
        pointer,
        `backend "${name}" has no version "${version}"`,
        closest(
          version,
          b.versions.map((v) => v.name),
        ),
      );
  };
  const names = new Map<string, number>();
  doc.spec.cases.forEach((c, i) => {
    const at = `/spec/cases/${i}`;
    const first = names.get(c.name);
    if (first !== undefined)
      out.push(
        diagnostic('MG6006', `case "${c.name}" is named twice (first at case ${first + 1})`, {
          pointer: `${at}/name`,
        }),
      );
    else names.set(c.name, i);
    const r = c.request;
    if (r.frontend !== undefined) {
      const f = mesh.frontendsByName.get(r.frontend);
      if (!f)
        unknown(
          `${at}/request/frontend`,
          `frontend "${r.frontend}" is not in mesh "${mesh.name}"`,
          closest(r.frontend, [...mesh.frontendsByName.keys()]),
        );
      else if (r.scheme === 'https' && f.protocol !== 'https')
        out.push(
          diagnostic('MG6007', `frontend "${f.name}" speaks ${f.protocol}, not https`, {
            pointer: `${at}/request/scheme`,
          }),
        );
    }
    if (r.caller !== undefined) checkBackend(`${at}/request/caller`, r.caller);
    if (r.backend !== undefined) checkBackend(`${at}/request/backend`, r.backend);
    if (r.clientCertificate !== undefined)
      checkBackend(`${at}/request/clientCertificate`, r.clientCertificate);
    for (const who of Object.keys(c.backends ?? {})) checkWho(joinPointer(`${at}/backends`, who), who);
    if (c.expect) checkExpect(`${at}/expect`, c.expect);
    const declared = new Map<string, number>();
    (c.differences ?? []).forEach((d, j) => {
      const here = `${at}/differences/${j}`;
      const targets = testTargets();
      if (!targets.includes(d.target))
        out.push(
          diagnostic('MG6008', `"${d.target}" is not a target of meshgen test`, {
            pointer: `${here}/target`,
            hint: closest(d.target, targets)
              ? `did you mean "${closest(d.target, targets)}"?`
              : `targets: ${targets.join(', ')}`,
          }),
        );
      const before = declared.get(d.target);
      if (before !== undefined)
        out.push(
          diagnostic('MG6009', `the difference of target "${d.target}" is declared twice in this case`, {
            pointer: `${here}/target`,
            hint: `merge it into differences[${before}]`,
          }),
        );
      else declared.set(d.target, j);
      // checked as the target sees it: the difference over the case's expectation
      checkExpect(`${here}/expect`, { ...c.expect, ...d.expect }, d.expect);
    });
  });
  return out;

  /**
   * The expectation `e` (a case's, or a difference merged over it); names and contradictions are
   * reported where `own` (the fields written at `at`) has a part in them, so none is reported twice.
   */
  function checkExpect(at: string, e: TestExpect, own: TestExpect = e): void {
    if (typeof own.backend === 'string') checkBackend(`${at}/backend`, own.backend);
    if (own.version !== undefined || (own.backend !== undefined && e.version !== undefined)) {
      if (typeof e.backend !== 'string')
        out.push(diagnostic('MG6007', 'expect.version needs expect.backend', { pointer: `${at}/version` }));
      else
        checkWho(`${at}/${own.version !== undefined ? 'version' : 'backend'}`, `${e.backend}/${e.version}`);
    }
    for (const who of Object.keys(own.shares ?? {})) checkWho(joinPointer(`${at}/shares`, who), who);
    const contradiction = (fields: readonly (keyof TestExpect)[], message: string) => {
      const field = fields.find((f) => own[f] !== undefined);
      if (field) out.push(diagnostic('MG6007', message, { pointer: `${at}/${field}` }));
    };
    if (e.denied && typeof e.backend === 'string')
      contradiction(
        ['denied', 'backend'],
        'a denied request reaches no backend: drop expect.backend or expect.denied',
      );
    if (e.timeout && e.status !== undefined && e.status !== 504)
      contradiction(['status', 'timeout'], 'a timeout answers 504: drop expect.status or expect.timeout');
    if (own.shares) {
      const sum = Object.values(own.shares).reduce((a, b) => a + b, 0);
      if (Math.abs(sum - 1) > 1e-6)
        contradiction(['shares'], `the shares sum to ${Math.round(sum * 1000) / 1000}, not 1`);
    }
  }
}
