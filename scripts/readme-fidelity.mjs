// Rewrites the fidelity matrix in README.md from the emitters' own declarations (`meshgen targets
// --format markdown`). test/readme.test.ts fails while the README and the emitters disagree.
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';

const table = execFileSync(process.execPath, ['dist/cli.js', 'targets', '--format', 'markdown'], {
  encoding: 'utf8',
});
const readme = fs.readFileSync('README.md', 'utf8');
const next = readme.replace(
  /(<!-- fidelity:start[^\n]*-->\n)[\s\S]*?(<!-- fidelity:end -->)/,
  `$1${table}$2`,
);
fs.writeFileSync('README.md', next);
