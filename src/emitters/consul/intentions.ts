import type { ResolvedAllow, ResolvedBackend, ResolvedMesh } from '../../model/types.js';
import type { Output } from './model.js';

/**
 * One service-intentions entry per backend, always explicit (so the outcome does not depend on
 * Consul's default intention policy, which follows the ACL default policy):
 * - no rule, `defaultAccess: allow` / `deny`: source `*` with Action allow / deny;
 * - rules: each named caller gets its own source (Consul prefers the exact name over `*`, so a
 *   caller's source also carries the rules written for `*`); a rule without paths or methods is an
 *   L4 `Action: allow`, others become L7 `Permissions` ending in a deny of every path, so requests
 *   no rule accepts are denied whatever the default; `*` gets the `*` rules, or Action deny.
 */
export function emitIntentions(mesh: ResolvedMesh, out: Output): void {
  for (const b of mesh.backends) {
    const access = b.access;
    let sources: Record<string, unknown>[];
    if (access.mode !== 'rules')
      sources = [{ Name: '*', Action: access.mode === 'allow-all' ? 'allow' : 'deny' }];
    else {
      const named = new Map<string, ResolvedAllow[]>();
      const star: ResolvedAllow[] = [];
      for (const rule of access.rules)
        for (const caller of rule.from) {
          if (caller.kind === 'any') star.push(rule);
          else {
            const list = named.get(caller.name);
            if (list) list.push(rule);
            else named.set(caller.name, [rule]);
          }
        }
      sources = [];
      for (const [name, rules] of named) sources.push(source(b, name, [...rules, ...star], out));
      sources.push(star.length ? source(b, '*', star, out) : { Name: '*', Action: 'deny' });
    }
    out.add({ Kind: 'service-intentions', Name: b.name, Sources: sources }, b.namespace);
  }
}

function source(
  b: ResolvedBackend,
  name: string,
  rules: readonly ResolvedAllow[],
  out: Output,
): Record<string, unknown> {
  if (rules.some((r) => !r.paths && !r.methods)) return { Name: name, Action: 'allow' };
  if (b.protocol === 'tcp') {
    out.warn(
      'MG3002',
      `backend "${b.name}" is TCP, where Consul intentions cannot check paths or methods; "${name}" is allowed every connection`,
      rules[0]!.pointer,
    );
    return { Name: name, Action: 'allow' };
  }
  const permissions: Record<string, unknown>[] = [];
  for (const r of rules) {
    const methods = r.methods ? [...r.methods] : undefined;
    if (!r.paths) permissions.push({ Action: 'allow', HTTP: { Methods: methods } });
    else
      for (const p of r.paths)
        permissions.push({
          Action: 'allow',
          HTTP:
            p.kind === 'exact'
              ? { PathExact: p.value, Methods: methods }
              : { PathPrefix: p.value || '/', Methods: methods },
        });
  }
  permissions.push({ Action: 'deny', HTTP: { PathPrefix: '/' } });
  return { Name: name, Permissions: permissions };
}
