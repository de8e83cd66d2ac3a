import fs from 'node:fs';
import Handlebars from 'handlebars';

/**
 * Compiles a handlebars template kept next to an emitter (`templates/<name>.hbs`), read once when the
 * module loads so that `emit` stays pure. Output is plain text: no HTML escaping.
 */
export function loadTemplate<View>(moduleUrl: string, name: string): (view: View) => string {
  const source = fs.readFileSync(new URL(`./templates/${name}.hbs`, moduleUrl), 'utf8');
  return Handlebars.compile<View>(source, { noEscape: true });
}
