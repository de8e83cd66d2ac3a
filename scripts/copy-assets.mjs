// Copies the non-TypeScript files the library reads at run time (handlebars templates) into dist/.
import fs from 'node:fs';
import path from 'node:path';

const src = 'src';
const dist = 'dist';
function walk(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const from = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(from);
    else if (/\.(hbs|json)$/.test(entry.name)) {
      const to = path.join(dist, path.relative(src, from));
      fs.mkdirSync(path.dirname(to), { recursive: true });
      fs.copyFileSync(from, to);
    }
  }
}
walk(src);
