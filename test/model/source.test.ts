import { describe, expect, it } from 'vitest';
import { SourceFile } from '../../src/model/source.js';

const text = `# a comment
apiVersion: meshgen.io/v1alpha1
spec:
  backends:
    - name: web   # trailing comment
      versions:
        - { name: v1, endpoints: ["127.0.0.1:1"] }
    -
      name: "quoted"
  list: [a, b]
`;

describe('SourceFile.locate', () => {
  const src = new SourceFile('m.yaml', text);
  it.each([
    ['/apiVersion', 2, 13],
    ['/spec/backends/0/name', 5, 13],
    ['/spec/backends/0/versions/0/name', 7, 19],
    ['/spec/backends/0/versions/0/endpoints/0', 7, 35],
    ['/spec/backends/1/name', 9, 13],
    ['/spec/list/1', 10, 13],
  ])('finds the value at %s on line %i, column %i', (pointer, line, column) => {
    expect(src.locate(pointer)).toMatchObject({ line, column });
  });

  it('points at the key when asked', () => {
    expect(src.locate('/spec/backends/0/versions', { key: true })).toMatchObject({ line: 6, column: 7 });
  });

  it('falls back to the deepest existing node for a missing one', () => {
    expect(src.locate('/spec/backends/0/port')).toMatchObject({ line: 5, column: 7 });
  });

  it('gives the end of the range', () => {
    expect(src.locate('/spec/backends/0/name')).toEqual({ line: 5, column: 13, endLine: 5, endColumn: 16 });
  });

  it('returns line text without the line break', () => {
    expect(src.lineText(2)).toBe('apiVersion: meshgen.io/v1alpha1');
  });
});

describe('SourceFile.locate on many pointers', () => {
  it('gives the same positions after switching from scans to one parse', () => {
    const lines = ['items:'];
    for (let i = 0; i < 40; i++) lines.push(`  - { name: n${i}, weight: ${i} }`);
    const text = lines.join('\n') + '\n';
    const src = new SourceFile('m.yaml', text);
    for (let i = 0; i < 40; i++)
      expect(src.locate(`/items/${i}/weight`)).toMatchObject({ line: i + 2, column: 24 + String(i).length });
  });
});
