import fs from 'node:fs';
import { createRequire } from 'node:module';
import type HandlebarsModule from 'handlebars';

// handlebars is loaded when a template is first used: importing it costs every meshgen command
// about 50 ms, most of which render no proxy target
const require = createRequire(import.meta.url);
let handlebars: typeof HandlebarsModule | undefined;

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
  const text = read(name);
  const parts = partials.map((p) => [p, read(p)] as const);
  let template: ((view: View) => string) | undefined;
  return (view) => {
    if (!template) {
      const env = (handlebars ??= require('handlebars') as typeof HandlebarsModule).create();
      for (const [p, t] of parts) env.registerPartial(p, t);
      template = env.compile<View>(text, { noEscape: true });
    }
    return template(view);
  };
}
