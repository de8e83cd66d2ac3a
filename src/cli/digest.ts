import { CODES, diagnostic, sortDiagnostics, type Diagnostic } from '../model/diagnostics.js';
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
 * Whether two messages have the same shape: equal once what varies between similar diagnostics is
 * left out (quoted text and digits; a quote mark itself stays). Compared char by char without
 * building either shape: a large mesh has a hundred thousand diagnostics, and a regular
 * expression's copies of each cost more than the rest of the grouping.
 */
function sameShape(a: string, b: string): boolean {
  let i = 0;
  let j = 0;
  let qa = false;
  let qb = false;
  for (;;) {
    // the next char of each shape, or -1 at the end
    let ca = -1;
    while (i < a.length) {
      const c = a.charCodeAt(i++);
      if (c === 34 /* " */) qa = !qa;
      else if (qa) {
        if (c === 92 /* \ */) i++;
        continue;
      } else if (c >= 48 && c <= 57) continue;
      ca = c;
      break;
    }
    let cb = -1;
    while (j < b.length) {
      const c = b.charCodeAt(j++);
      if (c === 34 /* " */) qb = !qb;
      else if (qb) {
        if (c === 92 /* \ */) j++;
        continue;
      } else if (c >= 48 && c <= 57) continue;
      cb = c;
      break;
    }
    if (ca !== cb) return false;
    if (ca === -1) return true;
  }
}

type Building = { first: Diagnostic; count: number };

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
  if (every) groups = locate(diagnostics).map((d) => ({ first: d, count: 1 }));
  else {
    // by code, target and severity (strings the diagnostics share, so no key is built), then
    // the few groups of different shapes under them; groups keep the order of their first
    groups = [];
    const byCode = new Map<string, Map<string, Map<string, Building[]>>>();
    for (const d of diagnostics) {
      let byTarget = byCode.get(d.code);
      if (!byTarget) byCode.set(d.code, (byTarget = new Map()));
      let bySeverity = byTarget.get(d.target ?? '');
      if (!bySeverity) byTarget.set(d.target ?? '', (bySeverity = new Map()));
      let candidates = bySeverity.get(d.severity);
      if (!candidates) bySeverity.set(d.severity, (candidates = []));
      let g: Building | undefined;
      for (const c of candidates)
        if (c.first.message === d.message || sameShape(c.first.message, d.message)) {
          g = c;
          break;
        }
      if (g) g.count++;
      else {
        g = { first: d, count: 1 };
        candidates.push(g);
        groups.push(g);
      }
    }
    const located = locate(groups.map((g) => g.first));
    groups.forEach((g, i) => (g.first = located[i]!));
  }
  const order = new Map(sortDiagnostics(groups.map((g) => g.first)).map((d, i) => [d, i]));
  return groups.sort(
    (a, b) => RANK[a.first.severity] - RANK[b.first.severity] || order.get(a.first)! - order.get(b.first)!,
  );
}

/** `and 9,999 more similar (MG3009 [istio]); --verbose lists every one` */
export function moreLine(g: Group): string {
  const others = g.count - 1;
  const target = g.first.target ? ` [${g.first.target}]` : '';
  return `       and ${others.toLocaleString('en-US')} more similar (${g.first.code}${target}); --verbose lists every one`;
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
    ([a, x], [b, y]) => RANK[x.severity] - RANK[y.severity] || y.n - x.n || a.localeCompare(b),
  );
  const width = Math.max(...rows.map(([, c]) => c.n.toLocaleString('en-US').length));
  return rows.map(([code, c]) => {
    const title = (CODES as Record<string, { title: string } | undefined>)[code]?.title ?? '';
    return `  ${code} ${c.severity.padEnd(7)} ${c.n.toLocaleString('en-US').padStart(width)}  ${title}`.trimEnd();
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
