import { parseAllDocuments } from 'yaml';
import { consul } from '../../../src/emitters/consul/index.js';
import type { ResolvedMesh } from '../../../src/model/types.js';
import type { EmitResult } from '../../../src/emitters/types.js';

/** Parsed output is navigated freely in tests; a wrong path fails the assertion that reads it. */

export type Loose = any;

export function emitConsul(mesh: ResolvedMesh, consulFormat = 'crd'): EmitResult {
  return consul.emit(mesh, { settings: { consulFormat } });
}

/** Every custom resource of the CRD flavour, parsed back from the YAML files. */
export function crdObjects(mesh: ResolvedMesh): Record<string, unknown>[] {
  return emitConsul(mesh, 'crd').files.flatMap((f) =>
    parseAllDocuments(f.contents).map((d) => d.toJS() as Record<string, unknown>),
  );
}

/** Every config entry of the JSON flavour. */
export function jsonEntries(mesh: ResolvedMesh): Record<string, Loose>[] {
  return emitConsul(mesh, 'json').files.map((f) => JSON.parse(f.contents) as Record<string, Loose>);
}

export function entry(mesh: ResolvedMesh, kind: string, name: string): Record<string, Loose> {
  const found = jsonEntries(mesh).find((e) => e.Kind === kind && e.Name === name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found;
}

/**
 * Reads back the HCL subset the writer produces (attributes, `{}` objects, `[]` lists with trailing
 * commas, JSON-escaped strings, numbers, booleans), rejecting anything else.
 */
export function parseHcl(text: string): Record<string, unknown> {
  let i = 0;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const fail = (what: string): never => {
    throw new Error(`HCL: ${what} at ${i}: ${JSON.stringify(text.slice(i, i + 20))}`);
  };
  const key = (): string => {
    ws();
    if (text[i] === '"') return str();
    const m = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(text.slice(i));
    if (!m) fail('expected a key');
    i += m![0].length;
    return m![0];
  };
  const str = (): string => {
    const m = /^"(?:[^"\\]|\\.)*"/.exec(text.slice(i));
    if (!m) fail('expected a string');
    i += m![0].length;
    return JSON.parse(m![0]) as string;
  };
  const value = (): unknown => {
    ws();
    const c = text[i];
    if (c === '"') return str();
    if (c === '{') {
      i++;
      const o: Record<string, unknown> = {};
      for (;;) {
        ws();
        if (text[i] === '}') {
          i++;
          return o;
        }
        const k = key();
        ws();
        if (text[i] !== '=') fail('expected =');
        i++;
        o[k] = value();
      }
    }
    if (c === '[') {
      i++;
      const a: unknown[] = [];
      for (;;) {
        ws();
        if (text[i] === ']') {
          i++;
          return a;
        }
        a.push(value());
        ws();
        if (text[i] !== ',') fail('expected ,');
        i++;
      }
    }
    const m = /^(?:true|false|-?\d+(?:\.\d+)?)/.exec(text.slice(i));
    if (!m) fail('expected a value');
    i += m![0].length;
    return m![0] === 'true' ? true : m![0] === 'false' ? false : Number(m![0]);
  };
  const top: Record<string, unknown> = {};
  for (;;) {
    ws();
    if (i >= text.length) return top;
    const k = key();
    ws();
    if (text[i] !== '=') fail('expected =');
    i++;
    top[k] = value();
  }
}
