/** A line-based unified diff (Myers' O(ND) algorithm), as `diff -u` prints it. */

export type LineOp = { readonly op: ' ' | '-' | '+'; readonly line: string };

/** The shortest edit script turning `a` into `b`, as kept, removed and added lines. */
export function diffLines(a: readonly string[], b: readonly string[]): LineOp[] {
  // common prefix and suffix cost nothing and keep the search small
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const middle = myers(a.slice(start, endA), b.slice(start, endB));
  return [
    ...a.slice(0, start).map((line) => ({ op: ' ' as const, line })),
    ...middle,
    ...a.slice(endA).map((line) => ({ op: ' ' as const, line })),
  ];
}

function myers(a: readonly string[], b: readonly string[]): LineOp[] {
  const n = a.length;
  const m = b.length;
  const max = n + m;
  if (max === 0) return [];
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  let found = false;
  for (let d = 0; d <= max && !found; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x =
        k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!)
          ? v[offset + k + 1]!
          : v[offset + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) {
        found = true;
        break;
      }
    }
  }
  // walk back through the saved frontiers
  const ops: LineOp[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d >= 0; d--) {
    const vd = trace[d]!;
    const k = x - y;
    const prevK = k === -d || (k !== d && vd[offset + k - 1]! < vd[offset + k + 1]!) ? k + 1 : k - 1;
    const prevX = d === 0 ? 0 : vd[offset + prevK]!;
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      ops.push({ op: ' ', line: a[--x]! });
      y--;
    }
    if (d === 0) break;
    if (x === prevX) ops.push({ op: '+', line: b[--y]! });
    else ops.push({ op: '-', line: a[--x]! });
  }
  return ops.reverse();
}

const splitLines = (text: string): string[] => {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
};

/**
 * A unified diff of two texts with `context` lines around each change, headed by `--- a/<name>`
 * and `+++ b/<name>`; the empty string when they are equal.
 */
export function unifiedDiff(before: string, after: string, name: string, context = 3): string {
  if (before === after) return '';
  const ops = diffLines(splitLines(before), splitLines(after));
  const out = [`--- a/${name}`, `+++ b/${name}`];
  let i = 0;
  while (i < ops.length) {
    if (ops[i]!.op === ' ') {
      i++;
      continue;
    }
    // a hunk: from `context` lines before this change to `context` lines after the last change
    // that lies within 2 * context of the next
    const from = Math.max(0, i - context);
    let end = i;
    for (let j = i; j < ops.length; j++) {
      if (ops[j]!.op !== ' ') end = j;
      else if (j - end > 2 * context) break;
    }
    const to = Math.min(ops.length, end + context + 1);
    let lineA = 1;
    let lineB = 1;
    for (let j = 0; j < from; j++) {
      if (ops[j]!.op !== '+') lineA++;
      if (ops[j]!.op !== '-') lineB++;
    }
    const hunk = ops.slice(from, to);
    const countA = hunk.filter((o) => o.op !== '+').length;
    const countB = hunk.filter((o) => o.op !== '-').length;
    const range = (start: number, count: number) =>
      count === 1 ? `${start}` : `${count === 0 ? start - 1 : start},${count}`;
    out.push(`@@ -${range(lineA, countA)} +${range(lineB, countB)} @@`);
    for (const o of hunk) out.push(`${o.op}${o.line}`);
    i = to;
  }
  return out.join('\n') + '\n';
}
