/** The results of a run as a case × target table, as JUnit XML for CI systems, and as JSON. */
import type { CaseResult, TestRunResult } from './types.js';

const CELL: Record<CaseResult['verdict'], string> = {
  pass: 'pass',
  differs: 'differs (known)',
  fail: 'FAIL',
  unsupported: 'unsupported',
  error: 'error',
};

/** A target's column title: simulated targets say so. */
function targetTitle(t: { target: string; simulated: boolean }): string {
  return t.simulated ? `${t.target} (simulated)` : t.target;
}

/** The table, then each failure (expected vs observed), each unsupported case's reason, and a summary. */
export function formatResults(run: TestRunResult): string {
  const targets = run.targets;
  const cases = [...new Map(run.results.map((r) => [`${r.file}\0${r.case}`, r])).values()];
  const header = ['case', ...targets.map(targetTitle)];
  const rows = cases.map((c) => [
    c.case,
    ...targets.map((t) => {
      const r = run.results.find((x) => x.case === c.case && x.file === c.file && x.target === t.target);
      return r ? CELL[r.verdict] : '-';
    }),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((s, i) => s.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const out = [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line), ''];
  for (const r of run.results) {
    const where = `${r.case} on ${targetTitle(r)}`;
    if (r.verdict === 'fail') {
      out.push(`FAIL ${where} (${r.file}):`);
      if (r.difference !== undefined) out.push(`  (held to its declared difference: ${r.difference})`);
      for (const f of r.failures) out.push(`  ${f.what}: expected ${f.expected}, observed ${f.observed}`);
    } else if (r.verdict === 'differs') out.push(`differs (known) ${where}: ${r.difference}`);
    else if (r.verdict === 'unsupported') out.push(`unsupported ${where}: ${r.reason}`);
    else if (r.verdict === 'error') out.push(`error ${where}: ${r.reason}`);
  }
  const count = (v: CaseResult['verdict']) => run.results.filter((r) => r.verdict === v).length;
  const simulated = targets.filter((t) => t.simulated).map((t) => t.target);
  out.push(
    `${count('pass')} passed, ${count('differs')} differ (known), ${count('fail')} failed, ${count('unsupported')} unsupported, ${count('error')} errors` +
      ` (${cases.length} cases × ${targets.length} targets${simulated.length ? `; ${simulated.join(', ')} simulated, not run` : ''})` +
      ` in ${(run.durationMs / 1000).toFixed(1)} s`,
  );
  return out.join('\n') + '\n';
}

function xml(s: string): string {
  // XML 1.0 has no control characters but tab, newline and carriage return
  return [...s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)]
    .filter((c) => c >= ' ' || c === '\t' || c === '\n' || c === '\r')
    .join('');
}

/** JUnit XML: one testsuite per target (simulated ones say so in the name), one testcase per case. */
export function formatJunit(run: TestRunResult): string {
  const out = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const total = (v: CaseResult['verdict'], list = run.results) => list.filter((r) => r.verdict === v).length;
  out.push(
    `<testsuites name="meshgen test" tests="${run.results.length}" failures="${total('fail')}" errors="${total('error')}" skipped="${total('unsupported')}" time="${(run.durationMs / 1000).toFixed(3)}">`,
  );
  for (const t of run.targets) {
    const list = run.results.filter((r) => r.target === t.target);
    const time = list.reduce((s, r) => s + r.durationMs, 0) / 1000;
    out.push(
      `  <testsuite name="${xml(targetTitle(t))}" tests="${list.length}" failures="${total('fail', list)}" errors="${total('error', list)}" skipped="${total('unsupported', list)}" time="${time.toFixed(3)}">`,
    );
    if (t.simulated) out.push(`    <properties><property name="simulated" value="true"/></properties>`);
    for (const r of list) {
      const open = `    <testcase name="${xml(r.case)}" classname="${xml(`${r.file}.${targetTitle(r)}`)}" time="${(r.durationMs / 1000).toFixed(3)}"`;
      if (r.verdict === 'pass') out.push(`${open}/>`);
      else {
        out.push(`${open}>`);
        if (r.difference !== undefined)
          out.push(
            `      <properties><property name="known-difference" value="${xml(r.difference)}"/></properties>`,
          );
        if (r.verdict === 'differs')
          out.push(`      <system-out>${xml(`differs (known): ${r.difference}`)}</system-out>`);
        else if (r.verdict === 'fail') {
          const text = [
            ...(r.difference !== undefined ? [`held to its declared difference: ${r.difference}`] : []),
            ...r.failures.map((f) => `${f.what}: expected ${f.expected}, observed ${f.observed}`),
          ].join('\n');
          out.push(`      <failure message="${xml(r.failures[0]?.what ?? 'failed')}">${xml(text)}</failure>`);
        } else if (r.verdict === 'unsupported')
          out.push(`      <skipped message="${xml(`unsupported by ${r.target}: ${r.reason ?? ''}`)}"/>`);
        else out.push(`      <error message="${xml(r.reason ?? 'error')}"/>`);
        out.push('    </testcase>');
      }
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return out.join('\n') + '\n';
}
