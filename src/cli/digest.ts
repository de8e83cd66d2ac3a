import {
  CODES,
  compareText,
  diagnostic,
  FAMILY,
  sortDiagnostics,
  type Diagnostic,
} from '../model/diagnostics.js';
import { closest } from '../model/nearest.js';

/**
 * Diagnostics that scale, as Terraform prints them: one line per code, target and message shape
 * (the message with its quoted names and numbers blanked), with the first location and a count of
 * the others; errors before warnings before notes; a count per code at the end. `--verbose` and JSON
 * list every one. Only what is printed is located in the source (locating is the costly part).
 */
export interface Group {
  /** The first of the group, located. */
  readonly first: Diagnostic;
  /** How many diagnostics the group holds, the first included. */
  readonly count: number;
}

const RANK = { error: 0, warning: 1, info: 2 } as const;

/**
 * A message's shape: the message once what varies between similar diagnostics is left out (quoted
 * text and digits; a quote mark itself stays). Built once per group, for its first diagnostic.
 */
export function shapeOf(message: string): string {
  let out = '';
  let q = false;
  for (let i = 0; i < message.length; i++) {
    const c = message.charCodeAt(i);
    if (c === 34 /* " */) q = !q;
    else if (q) {
      if (c === 92 /* \ */) i++;
      continue;
    } else if (c >= 48 && c <= 57) continue;
    out += message[i];
  }
  return out;
}

/**
 * The UTF-16 code units of the message being compared, copied by one native call: a large mesh has
 * a hundred thousand diagnostics, most of their messages joined strings (ropes), and reading a rope
 * a character at a time cost several times the copy. Grown as needed.
 */
let units = new Uint16Array(1024);
let unitBytes = Buffer.from(units.buffer);

/**
 * Whether a message has the given shape, read unit by unit without building its own: a copy of
 * each message's shape costs more than the rest of the grouping.
 */
function hasShape(message: string, shape: Uint16Array): boolean {
  const n = message.length;
  if (n > units.length) {
    units = new Uint16Array(n * 2);
    unitBytes = Buffer.from(units.buffer);
  }
  unitBytes.write(message, 0, 'utf16le');
  const u = units;
  const m = shape.length;
  let k = 0;
  let q = false;
  for (let i = 0; i < n; i++) {
    const c = u[i]!;
    if (c === 34 /* " */) q = !q;
    else if (q) {
      if (c === 92 /* \ */) i++;
      continue;
    } else if (c >= 48 && c <= 57) continue;
    if (k >= m || shape[k++] !== c) return false;
  }
  return k === m;
}

/** A shape's code units (see `hasShape`). */
function shapeUnits(message: string): Uint16Array {
  const shape = shapeOf(message);
  const out = new Uint16Array(shape.length);
  for (let i = 0; i < shape.length; i++) out[i] = shape.charCodeAt(i);
  return out;
}

type Building = { first: Diagnostic; count: number; shape: Uint16Array | undefined };

/**
 * A code's groups, the one its latest diagnostic joined (diagnostics come in runs), and the group
 * each family's first diagnostic joined (see `FAMILY`).
 */
type ByCode = { groups: Building[]; last: Building; families: Map<string, Building> };

/** Whether `d` could join group `g` by its target and severity. */
function sameTarget(g: Building, d: Diagnostic): boolean {
  return (g.first.target ?? '') === (d.target ?? '') && g.first.severity === d.severity;
}

/** Whether `d` belongs to group `g`: same target and severity, and a message of the same shape. */
function joins(g: Building, d: Diagnostic): boolean {
  if (!sameTarget(g, d)) return false;
  if (g.first.message === d.message) return true;
  return hasShape(d.message, (g.shape ??= shapeUnits(g.first.message)));
}

/**
 * The groups in print order. `locate` is called once, with the diagnostics that head a group (or
 * with all of them when `every`, each then its own group).
 */
export function groupDiagnostics(
  diagnostics: readonly Diagnostic[],
  locate: (ds: readonly Diagnostic[]) => Diagnostic[],
  every = false,
): Group[] {
  let groups: Building[];
  if (every) groups = locate(diagnostics).map((d) => ({ first: d, count: 1, shape: undefined }));
  else {
    // the groups of a code (a few), tried from the one its previous diagnostic joined: under one
    // code, target and severity the groups have different shapes, so at most one matches and the
    // order of the tries cannot change the result. Groups keep the order of their first. A family's
    // messages share a shape: once one has found its group, the others join it unread.
    groups = [];
    const byCode = new Map<string, ByCode>();
    for (const d of diagnostics) {
      const family = d[FAMILY];
      let mine = byCode.get(d.code);
      let g: Building | undefined;
      if (mine === undefined) {
        g = { first: d, count: 1, shape: undefined };
        byCode.set(d.code, (mine = { groups: [g], last: g, families: new Map() }));
        groups.push(g);
      } else {
        if (family !== undefined) {
          const known = mine.families.get(family);
          if (known !== undefined && sameTarget(known, d)) g = known;
        }
        if (g === undefined && joins(mine.last, d)) g = mine.last;
        if (g === undefined)
          for (const c of mine.groups)
            if (c !== mine.last && joins(c, d)) {
              g = c;
              break;
            }
        if (g) g.count++;
        else {
          g = { first: d, count: 1, shape: undefined };
          mine.groups.push(g);
          groups.push(g);
        }
        mine.last = g;
      }
      if (family !== undefined && !mine.families.has(family)) mine.families.set(family, g);
    }
    const located = locate(groups.map((g) => g.first));
    groups.forEach((g, i) => (g.first = located[i]!));
  }
  const order = new Map(sortDiagnostics(groups.map((g) => g.first)).map((d, i) => [d, i]));
  return groups.sort(
    (a, b) => RANK[a.first.severity] - RANK[b.first.severity] || order.get(a.first)! - order.get(b.first)!,
  );
}

/**
 * A count with commas between groups of three digits, as `toLocaleString('en-US')` writes it,
 * without loading the locale data that costs a command printing a few lines more than the printing.
 */
function grouped(n: number): string {
  const digits = String(n);
  let out = '';
  for (let i = 0; i < digits.length; i++) {
    if (i > 0 && (digits.length - i) % 3 === 0) out += ',';
    out += digits[i];
  }
  return out;
}

/** `and 9,999 more similar (MG3009 [istio]); --verbose lists every one` */
export function moreLine(g: Group): string {
  const others = g.count - 1;
  const target = g.first.target ? ` [${g.first.target}]` : '';
  return `       and ${grouped(others)} more similar (${g.first.code}${target}); --verbose lists every one`;
}

/** Per code, most frequent first: `  MG3009 warning  92,000  target relies on a setting ...`. */
export function perCodeSummary(diagnostics: readonly Diagnostic[]): string[] {
  const counts = new Map<string, { severity: Diagnostic['severity']; n: number }>();
  for (const d of diagnostics) {
    const c = counts.get(d.code);
    if (c) c.n++;
    else counts.set(d.code, { severity: d.severity, n: 1 });
  }
  const rows = [...counts].sort(
    ([a, x], [b, y]) => RANK[x.severity] - RANK[y.severity] || y.n - x.n || compareText(a, b),
  );
  const width = Math.max(...rows.map(([, c]) => grouped(c.n).length));
  return rows.map(([code, c]) => {
    const title = (CODES as Record<string, { title: string } | undefined>)[code]?.title ?? '';
    return `  ${code} ${c.severity.padEnd(7)} ${grouped(c.n).padStart(width)}  ${title}`.trimEnd();
  });
}

/**
 * `--suppress CODE` (repeatable, or a comma list): the codes to leave out, or MG4013 for one that
 * is not a code or is an error's (an error cannot be hidden: it stops the command).
 */
export function parseSuppress(values: readonly string[]): Set<string> | Diagnostic {
  const codes = new Set<string>();
  // the codes that can be suppressed: what a did-you-mean offers
  const known = Object.entries(CODES)
    .filter(([, c]) => c.severity !== 'error')
    .map(([code]) => code);
  for (const raw of values.flatMap((v) => v.split(',')).map((v) => v.trim().toUpperCase())) {
    if (!raw) continue;
    const entry = (CODES as Record<string, { severity: string } | undefined>)[raw];
    if (!entry) {
      const near = closest(raw, known);
      return diagnostic('MG4013', `--suppress ${raw}: no diagnostic has that code`, {
        hint: near ? `did you mean ${near}?` : 'codes are MG followed by four digits (docs/cli.md)',
      });
    }
    if (entry.severity === 'error')
      return diagnostic('MG4013', `--suppress ${raw}: ${raw} is an error, which cannot be suppressed`, {
        hint: 'only warnings and notes can be suppressed',
      });
    codes.add(raw);
  }
  return codes;
}
