/**
 * A line-based unified diff, as `diff -u` prints it. Myers' O(ND) algorithm finds the shortest edit
 * script whenever that is cheap; when it is not (a large text with many scattered changes), the
 * lines that occur once on each side anchor the texts (as patience diff does) and Myers runs on each
 * gap between anchors. Work and memory grow with the size of the texts, never with its square.
 */

export type LineOp = { readonly op: ' ' | '-' | '+'; readonly line: string };

/** Counts the elementary steps (comparisons, frontier updates) a diff took, for tests of its cost. */
export interface DiffWork {
  steps: number;
}

type Lines = readonly string[];

/** Edit operations, one byte each, in order: keep a line, remove one from `a`, add one from `b`. */
const KEEP = 0;
const REMOVE = 1;
const ADD = 2;

/**
 * Myers runs with a budget of steps proportional to the size of its input (plus a floor that small
 * inputs never reach): past it, the texts are anchored on their unique lines instead.
 */
const STEPS_PER_LINE = 8;
const STEPS_FLOOR = 1 << 20;
/** Nested anchoring stops here; a gap still too costly is shown as removed and added whole. */
const MAX_DEPTH = 8;

/** A growing byte array of edit operations. */
class Script {
  bytes = new Uint8Array(1024);
  length = 0;

  push(op: number, count = 1): void {
    this.reserve(count);
    this.bytes.fill(op, this.length, this.length + count);
    this.length += count;
  }

  append(ops: Uint8Array): void {
    this.reserve(ops.length);
    this.bytes.set(ops, this.length);
    this.length += ops.length;
  }

  private reserve(count: number): void {
    if (this.length + count <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < this.length + count) size *= 2;
    const bytes = new Uint8Array(size);
    bytes.set(this.bytes.subarray(0, this.length));
    this.bytes = bytes;
  }
}

/** The shortest edit script turning `a` into `b`, as kept, removed and added lines. */
export function diffLines(a: readonly string[], b: readonly string[], work?: DiffWork): LineOp[] {
  const script = editScript(a, b, work);
  const ops: LineOp[] = [];
  let i = 0;
  let j = 0;
  for (const op of script) {
    if (op === KEEP) {
      ops.push({ op: ' ', line: a[i++]! });
      j++;
    } else if (op === REMOVE) ops.push({ op: '-', line: a[i++]! });
    else ops.push({ op: '+', line: b[j++]! });
  }
  return ops;
}

function editScript(a: readonly string[], b: readonly string[], work: DiffWork = { steps: 0 }): Uint8Array {
  // common prefix and suffix cost nothing and keep the search small
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  work.steps += start + (a.length - endA);
  const script = new Script();
  script.push(KEEP, start);
  diffRange(a, start, endA, b, start, endB, 0, script, work);
  script.push(KEEP, a.length - endA);
  return script.bytes.subarray(0, script.length);
}

/** Appends to `script` the edits turning `a[a0, a1)` into `b[b0, b1)`. */
function diffRange(
  a: Lines,
  a0: number,
  a1: number,
  b: Lines,
  b0: number,
  b1: number,
  depth: number,
  script: Script,
  work: DiffWork,
): void {
  let head = 0;
  while (a0 + head < a1 && b0 + head < b1 && a[a0 + head] === b[b0 + head]) head++;
  let tail = 0;
  while (a1 - tail > a0 + head && b1 - tail > b0 + head && a[a1 - tail - 1] === b[b1 - tail - 1]) tail++;
  work.steps += head + tail;
  script.push(KEEP, head);
  a0 += head;
  b0 += head;
  a1 -= tail;
  b1 -= tail;
  const n = a1 - a0;
  const m = b1 - b0;
  if (n === 0 || m === 0) {
    script.push(REMOVE, n);
    script.push(ADD, m);
  } else {
    const budget = STEPS_PER_LINE * (n + m) + STEPS_FLOOR;
    const found = myers(a, a0, n, b, b0, m, budget, work);
    if (found) script.append(found);
    else if (depth >= MAX_DEPTH || !anchored(a, a0, a1, b, b0, b1, depth, script, work)) {
      script.push(REMOVE, n);
      script.push(ADD, m);
    }
  }
  script.push(KEEP, tail);
}

/**
 * Myers' greedy search for the shortest edit script of `a[a0, a0+n)` and `b[b0, b0+m)`, keeping
 * of each frontier only the diagonals it reached (d + 1 values at step d). Undefined when it
 * would take more than `budget` steps.
 */
function myers(
  a: Lines,
  a0: number,
  n: number,
  b: Lines,
  b0: number,
  m: number,
  budget: number,
  work: DiffWork,
): Uint8Array | undefined {
  const offset = n + m + 1;
  const v = new Int32Array(2 * (n + m) + 3);
  // trace[d(d+1)/2 + (k+d)/2]: the furthest x on diagonal k after step d
  let trace = new Int32Array(256);
  let steps = 0;
  let last = -1;
  for (let d = 0; d <= n + m; d++) {
    let found = false;
    for (let k = -d; k <= d; k += 2) {
      let x =
        k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!)
          ? v[offset + k + 1]!
          : v[offset + k - 1]! + 1;
      let y = x - k;
      const from = x;
      while (x < n && y < m && a[a0 + x] === b[b0 + y]) {
        x++;
        y++;
      }
      steps += 1 + x - from;
      v[offset + k] = x;
      if (x >= n && y >= m) {
        found = true;
        break;
      }
    }
    if (found) {
      last = d;
      break;
    }
    const base = (d * (d + 1)) / 2;
    if (base + d + 1 > trace.length) {
      const grown = new Int32Array(Math.max(trace.length * 2, base + d + 1));
      grown.set(trace);
      trace = grown;
    }
    for (let k = -d; k <= d; k += 2) trace[base + (k + d) / 2] = v[offset + k]!;
    if (steps > budget) {
      work.steps += steps;
      return undefined;
    }
  }
  work.steps += steps;
  // walk back through the saved frontiers, writing the operations from the end
  const out = new Uint8Array(n + m);
  let p = out.length;
  let x = n;
  let y = m;
  const at = (d: number, k: number) => trace[(d * (d + 1)) / 2 + (k + d) / 2]!;
  for (let d = last; d >= 0; d--) {
    const k = x - y;
    let prevX = 0;
    let prevK = 1;
    if (d > 0) {
      prevK = k === -d || (k !== d && at(d - 1, k - 1) < at(d - 1, k + 1)) ? k + 1 : k - 1;
      prevX = at(d - 1, prevK);
    }
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      out[--p] = KEEP;
      x--;
      y--;
    }
    if (d === 0) break;
    if (x === prevX) {
      out[--p] = ADD;
      y--;
    } else {
      out[--p] = REMOVE;
      x--;
    }
  }
  return out.subarray(p);
}

/**
 * Anchors the ranges on the lines that occur exactly once in each (the longest run of them in the
 * same order on both sides) and diffs the gaps between them. False when there is no such line.
 */
function anchored(
  a: Lines,
  a0: number,
  a1: number,
  b: Lines,
  b0: number,
  b1: number,
  depth: number,
  script: Script,
  work: DiffWork,
): boolean {
  // per line: its count in a (up to 2), and its position in b when it occurs there once (-2: more)
  const inA = new Map<string, number>();
  for (let i = a0; i < a1; i++) {
    const id = a[i]!;
    inA.set(id, inA.has(id) ? -1 : i);
  }
  const inB = new Map<string, number>();
  for (let j = b0; j < b1; j++) {
    const id = b[j]!;
    if (inA.has(id) && inA.get(id)! >= 0) inB.set(id, inB.has(id) ? -1 : j);
  }
  work.steps += a1 - a0 + (b1 - b0);
  // the pairs in a's order; the longest increasing run of their b positions (patience sorting)
  const pairsA: number[] = [];
  const pairsB: number[] = [];
  for (let i = a0; i < a1; i++) {
    const j = inB.get(a[i]!);
    if (j !== undefined && j >= 0 && inA.get(a[i]!) === i) {
      pairsA.push(i);
      pairsB.push(j);
    }
  }
  if (pairsA.length === 0) return false;
  const tops: number[] = [];
  const back = new Int32Array(pairsA.length);
  for (let p = 0; p < pairsB.length; p++) {
    let lo = 0;
    let hi = tops.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (pairsB[tops[mid]!]! < pairsB[p]!) lo = mid + 1;
      else hi = mid;
    }
    back[p] = lo > 0 ? tops[lo - 1]! : -1;
    tops[lo] = p;
    work.steps += 1 + Math.ceil(Math.log2(tops.length + 1));
  }
  const anchors: number[] = [];
  for (let p = tops[tops.length - 1]!; p >= 0; p = back[p]!) anchors.push(p);
  anchors.reverse();
  let i = a0;
  let j = b0;
  for (const p of anchors) {
    diffRange(a, i, pairsA[p]!, b, j, pairsB[p]!, depth + 1, script, work);
    script.push(KEEP);
    i = pairsA[p]! + 1;
    j = pairsB[p]! + 1;
  }
  diffRange(a, i, a1, b, j, b1, depth + 1, script, work);
  return true;
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
  const a = splitLines(before);
  const b = splitLines(after);
  const ops = editScript(a, b);
  const out = [`--- a/${name}`, `+++ b/${name}`];
  // lines of a and b before operation `at`, moved forward as the hunks are written
  let at = 0;
  let seenA = 0;
  let seenB = 0;
  let i = 0;
  while (i < ops.length) {
    if (ops[i] === KEEP) {
      i++;
      continue;
    }
    // a hunk: from `context` lines before this change to `context` lines after the last change
    // that lies within 2 * context of the next
    const from = Math.max(0, i - context);
    let end = i;
    for (let j = i; j < ops.length; j++) {
      if (ops[j] !== KEEP) end = j;
      else if (j - end > 2 * context) break;
    }
    const to = Math.min(ops.length, end + context + 1);
    for (; at < from; at++) {
      if (ops[at] !== ADD) seenA++;
      if (ops[at] !== REMOVE) seenB++;
    }
    let countA = 0;
    let countB = 0;
    for (let j = from; j < to; j++) {
      if (ops[j] !== ADD) countA++;
      if (ops[j] !== REMOVE) countB++;
    }
    const range = (start: number, count: number) =>
      count === 1 ? `${start}` : `${count === 0 ? start - 1 : start},${count}`;
    out.push(`@@ -${range(seenA + 1, countA)} +${range(seenB + 1, countB)} @@`);
    for (; at < to; at++) {
      const op = ops[at];
      if (op === KEEP) {
        out.push(` ${a[seenA++]!}`);
        seenB++;
      } else if (op === REMOVE) out.push(`-${a[seenA++]!}`);
      else out.push(`+${b[seenB++]!}`);
    }
    i = to;
  }
  return out.join('\n') + '\n';
}
