import fs from 'node:fs';
import Handlebars from 'handlebars';

/**
 * Compiles a handlebars template kept next to an emitter (`templates/<name>.hbs`), with the partials
 * named (`templates/<partial>.hbs`, used as `{{> partial}}`), in an environment of its own. Read once
 * when the module loads, so that `emit` stays pure. Output is plain text: no HTML escaping.
 */
export function loadTemplate<View>(
  moduleUrl: string,
  name: string,
  partials: readonly string[] = [],
): (view: View) => string {
  const read = (n: string) => fs.readFileSync(new URL(`./templates/${n}.hbs`, moduleUrl), 'utf8');
  const env = Handlebars.create();
  for (const p of partials) env.registerPartial(p, read(p));
  return env.compile<View>(read(name), { noEscape: true });
}
