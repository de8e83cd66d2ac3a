import jsyaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { ObjectFileSink, objectFilesMark, type K8sObject } from '../../src/kubernetes/objects.js';
import { YamlBuffer, reserved, toYaml, toYamlString } from '../../src/yaml/writer.js';

const awkward = {
  plain: 'svc-1.bench/x@y',
  reserved: ['true', 'No', 'on', 'null', '~', 'y', 'yes', 'False'],
  quoted: ['', ' lead', 'trail.', '1abc', 'a: b', 'with "quotes"', 'tab\there', 'line\nbreak', '*', '-x'],
  numbers: [
    0,
    -1,
    1.5,
    1e21,
    7,
    10,
    99,
    100,
    20000,
    4294967295,
    4294967296,
    -0,
    Number.NaN,
    Number.POSITIVE_INFINITY,
  ],
  flags: [true, false, null],
  empty: { object: {}, array: [], onlyUndefined: { a: undefined } },
  skipped: undefined,
  nested: [[], [[1, 2], []], [{}], [{ a: 1, b: [{ c: 'd' }] }], { 'key with space': 'v', on: 'off' }],
  latin1: 'café naïve ÿ',
  keys: { 'meshgen.io/mesh': 'm', 'x-canary': 'true', '8080': 'port', é: 'accent' },
};

describe('toYaml', () => {
  it('reads back as the value it was given (undefined fields left out)', () => {
    const numbers = [0, -1, 1.5, 1e21, 7, 10, 99, 100, 20000, 4294967295, 4294967296];
    const expected = JSON.parse(JSON.stringify({ ...awkward, numbers }));
    const back = jsyaml.load(toYaml({ ...awkward, numbers }));
    expect(back).toEqual(expected);
  });

  it('writes the same text as the string writer, with and without characters beyond Latin-1', () => {
    for (const value of [
      awkward,
      { ...awkward, wide: 'check ✓' },
      { emoji: ['🙂'] },
      [],
      {},
      'top',
      42,
      [{}, [], 'x'],
    ]) {
      expect(toYaml(value)).toBe(toYamlString(value));
    }
    expect(toYaml({ wide: 'a ✓ b' })).toBe('wide: "a ✓ b"\n');
    // Latin-1 text goes through the byte buffer, text beyond it through the string writer
    const buffer = new YamlBuffer(16);
    expect(buffer.write(awkward)).toBe(true);
    expect(buffer.text(0, buffer.length)).toBe(toYamlString(awkward));
    expect(buffer.text(0, buffer.length)).toContain('latin1: "café naïve ÿ"\n');
    expect(buffer.write({ wide: '✓' })).toBe(false);
    expect(toYaml({ a: {}, b: [], c: [{}] })).toBe('a: {}\nb: []\nc:\n  - {}\n');
  });
});

describe('YamlBuffer keys and short quoted values', () => {
  it('writes a key or value the same way the first time and every time after (what it checked is kept)', () => {
    // keys that are plain, reserved, quoted, at and past the length kept, and longer than an implicit key
    const keys = [
      'name',
      'on',
      'No',
      'a b',
      '1x',
      'e5',
      '.5',
      'k'.repeat(64),
      'k'.repeat(65),
      'x'.repeat(1001),
    ];
    // and values that need quotes, short (their quoted text is kept) and long
    const values = ['2s', '', '5xx', 'true', '1.5', 'a: b', '*', `${'x'.repeat(16)}:`, 'é'];
    const value = Object.fromEntries(keys.map((k, i) => [k, { [k]: values[i % values.length] }]));
    const first = toYaml(value);
    expect(first).toBe(toYamlString(value));
    for (let i = 0; i < 3; i++) expect(toYaml(value)).toBe(first);
    expect(first).toContain('\n"on":\n  "on": ""\n');
    expect(first.startsWith('name:\n  name: "2s"\n')).toBe(true);
    expect(first).toContain('\n"a b":\n');
    expect(jsyaml.load(first)).toEqual(value);
    // a key first seen inside text that is then dropped (a character beyond Latin-1) is kept right
    const buffer = new YamlBuffer(16);
    expect(buffer.write({ fresh: 'x', wide: '✓' })).toBe(false);
    expect(buffer.write({ fresh: 'z' })).toBe(true);
    expect(buffer.text(0, buffer.length)).toBe('fresh: z\n');
  });
});

describe('reserved', () => {
  const KEYWORD = /^(?:true|false|yes|no|on|off|y|n|null)$/i;
  const words = ['true', 'false', 'yes', 'no', 'on', 'off', 'y', 'n', 'null'];
  const cases = (w: string): string[] =>
    w.length === 0
      ? ['']
      : cases(w.slice(1)).flatMap((rest) => [w[0]!.toLowerCase() + rest, w[0]!.toUpperCase() + rest]);

  it('finds every keyword in every letter case', () => {
    for (const w of words) for (const v of cases(w)) expect(reserved(v), v).toBe(true);
  });

  it('agrees with the keyword regex on near misses and on every short string of plain characters', () => {
    const near = words.flatMap((w) => [w.slice(1), w.slice(0, -1), w + 's', '_' + w, w.replace(/./, '@')]);
    for (const s of [...near, '', 'nulls', 'falsy', 'offs', 'yess', 'o', 't', 'f', 'name', 'to', '@n', '.']) {
      expect(reserved(s), s).toBe(KEYWORD.test(s));
    }
    // every string of up to three characters over letters that spell keywords, and neighbours of them
    const alphabet = 'nNoOyYfFtTeEsSlLuUrRaA-_.@/0`{^'.split('');
    let strings = [''];
    for (let len = 1; len <= 3; len++) {
      strings = strings.flatMap((p) => alphabet.map((c) => p + c));
      for (const s of strings) expect(reserved(s), s).toBe(KEYWORD.test(s));
    }
  });

  it('quotes keywords and leaves their neighbours plain', () => {
    expect(toYaml({ a: 'NULL', b: 'nul', on: 'Off', name: 'n', x: 'y.', z: 'yes-no' })).toBe(
      'a: "NULL"\nb: nul\n"on": "Off"\nname: "n"\nx: "y."\nz: yes-no\n',
    );
  });
});

describe('ObjectFileSink', () => {
  it('gives every file its own text, across many chunks, a file larger than a chunk and files beyond Latin-1', () => {
    const sink = new ObjectFileSink();
    const objects: K8sObject[] = [];
    for (let i = 0; i < 3000; i++) {
      const o: K8sObject = {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: `cm-${String(i).padStart(4, '0')}`, namespace: 'ns', labels: { app: `a${i}` } },
        data: {
          text: i === 1500 ? 'x'.repeat(400_000) : 'x'.repeat(i % 300),
          note: i % 500 === 7 ? `wide ✓ ${i}` : `plain ${i}`,
        },
      };
      objects.push(o);
      sink.push(o);
    }
    const files = sink.files();
    expect(files).toHaveLength(3000);
    // the files say they are Kubernetes objects without their text being read; a copy does not
    expect(objectFilesMark(files)).toBe(true);
    expect(objectFilesMark([...files])).toBeUndefined();
    expect(Object.keys(files)).toHaveLength(3000);
    expect(objectFilesMark(new ObjectFileSink().files())).toBe(false);
    files.forEach((f, i) => {
      expect(f.path).toBe(`configmap-ns-cm-${String(i).padStart(4, '0')}.yaml`);
      expect(f.contents).toBe(toYamlString(objects[i]));
    });
  });
});
