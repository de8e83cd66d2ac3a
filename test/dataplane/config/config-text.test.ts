import path from 'node:path';
import { describe, expect, test } from 'vitest';
import YAML from 'yaml';
import { configDialect, parseConfigText } from '../../../src/dataplane/config/diagnostics.js';
import { SourceFile } from '../../../src/model/source.js';
import { fastLoad } from '../../../src/model/yaml-fast.js';
import { render } from '../../../src/render.js';
import { loadMesh } from '../../../src/model/load.js';

// A configuration file is read by fastLoad, in the yaml package's dialect, when it can: the value
// must be the one the yaml package gives (and its errors stay the yaml package's).

/** Numbers tagged, so that -0, NaN and 1 against "1" are told apart. */
const show = (v: unknown) =>
  JSON.stringify(v, (_k, x: unknown) =>
    typeof x === 'number' ? `n:${Object.is(x, -0) ? '-0' : String(x)}` : x,
  );

/** The yaml package's value, or 'error'; a key that is a mapping or a sequence is one, as in Envoy. */
function byYaml(text: string): string {
  const doc = YAML.parseDocument(text, { uniqueKeys: true, prettyErrors: false, logLevel: 'silent' });
  let collectionKey = false;
  YAML.visit(doc, {
    Pair(_, pair) {
      if (YAML.isCollection(pair.key)) collectionKey = true;
    },
  });
  return doc.errors.length || collectionKey ? 'error' : show(doc.toJS());
}

const SCALARS = [
  '1',
  '01',
  '0o17',
  '0x1F',
  '-0x1F',
  '0b11',
  '1_000',
  '1.',
  '.5',
  '1e3',
  '1.0e3',
  '+1',
  '-1',
  '.inf',
  '-.Inf',
  '.NaN',
  '~',
  'null',
  'Null',
  'NULL',
  'true',
  'True',
  'TRUE',
  'yes',
  'on',
  'y',
  'off',
  'no',
  '2001-12-14',
  '12:30',
  '1:2:3',
  '+.5',
  '-.5e-3',
  '0.',
  '00',
  '0o',
  '0x',
  '"a"',
  "'b'",
  '"a"#x',
  '[a, b]#x',
  'a#b',
  'a #b',
  '"a" #b',
  '[a:1]',
  '{a:1}',
  '{a: 1}',
  '{"a":1}',
  '[a, "b", {c: d}]',
  'http://x:80',
  '9007199254740993',
  '123456789012345678901234567890',
  '1e400',
  '-0',
  '-0.0',
  '0.0',
  '{ ~: a }',
  '<<',
  '"\\t\\u00e9\\x41"',
  "'it''s'",
  `"${'k'.repeat(1030)}"`,
  'k'.repeat(1030),
];
const FORMS = [
  (v: string) => `k: ${v}\n`,
  (v: string) => `- ${v}\n`,
  (v: string) => `${v}: x\n`,
  (v: string) => `a:\n  - ${v}\n  - b: ${v}\n`,
  (v: string) => `x: [${v}]\n`,
];

describe('configuration text', () => {
  test('every scalar and form gives the value (or the error) the yaml package gives', () => {
    const differ: string[] = [];
    let fast = 0;
    for (const v of SCALARS)
      for (const form of FORMS) {
        const text = form(v);
        if (fastLoad(text, configDialect())) fast++;
        const parsed = parseConfigText(new SourceFile('f.yaml', text));
        const got = 'diagnostics' in parsed ? 'error' : show(parsed.value);
        if (got !== byYaml(text)) differ.push(`${JSON.stringify(text)}: ${got} / yaml: ${byYaml(text)}`);
      }
    expect(differ).toEqual([]);
    // the fast path is taken for most of them (not everything left to the yaml package)
    expect(fast).toBeGreaterThan((SCALARS.length * FORMS.length) / 2);
  });

  test('a key that is a mapping or a sequence is an error at its place, not a warning of the process', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const text = 'admin:\n  address:\n    {a: 1}: x\nother:\n  [b]: y\n';
      const parsed = parseConfigText(new SourceFile('boot.yaml', text));
      expect('diagnostics' in parsed && parsed.diagnostics).toEqual([
        expect.objectContaining({ code: 'MG5001', file: 'boot.yaml', line: 3, column: 5, endColumn: 11 }),
        expect.objectContaining({ code: 'MG5001', file: 'boot.yaml', line: 5, column: 3, endColumn: 6 }),
      ]);
      expect((parsed as { diagnostics: { message: string }[] }).diagnostics[0]!.message).toBe(
        'syntax error: a mapping key is a mapping or a sequence; keys are strings',
      );
      // the same text as a value is read (the key rule only)
      expect(parseConfigText(new SourceFile('boot.yaml', 'k: {a: 1}\n'))).toEqual({ value: { k: { a: 1 } } });
      // Node emits a process warning on a later tick
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).toEqual([]);
  });

  test("the envoy target's files are read by the fast path, with the yaml package's values", async () => {
    const file = path.join(import.meta.dirname, '../../../examples/shop.yaml');
    const loaded = await loadMesh(file);
    const out = render(loaded.mesh!, { targets: ['envoy'] });
    const files = out.outputs.flatMap((o) => o.files).filter((f) => f.path.endsWith('.yaml'));
    expect(files.length).toBeGreaterThan(3);
    for (const f of files) {
      const value = fastLoad(f.contents, configDialect());
      expect(value, f.path).toBeDefined();
      expect(show(value!.value), f.path).toBe(byYaml(f.contents));
    }
  });
});
