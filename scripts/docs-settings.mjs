// Rewrites the settings table of each target's page (docs/<target>.md) from the emitters' own
// declarations (`meshgen targets --target <name> --format markdown`). test/emitters/settings.test.ts
// fails while a page and its emitter disagree.
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';

const targets = JSON.parse(
  execFileSync(process.execPath, ['dist/cli.js', 'targets', '--format', 'json'], { encoding: 'utf8' }),
);
for (const target of Object.keys(targets)) {
  const out = execFileSync(
    process.execPath,
    ['dist/cli.js', 'targets', '--target', target, '--format', 'markdown'],
    { encoding: 'utf8' },
  );
  const table = out.slice(out.indexOf(`### ${target} settings\n\n`) + `### ${target} settings\n\n`.length);
  const file = `docs/${target}.md`;
  const page = fs.readFileSync(file, 'utf8');
  const marked = /(<!-- settings:start[^\n]*-->\n)[\s\S]*?(<!-- settings:end -->)/;
  if (!marked.test(page))
    throw new Error(`${file} has no <!-- settings:start --> ... <!-- settings:end --> block`);
  fs.writeFileSync(
    file,
    page.replace(marked, (_, start, end) => `${start}${table}${end}`),
  );
}
