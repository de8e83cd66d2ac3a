import { headerMatcher, stringMatcher, type HeaderMatch, type Obj, type StrMatch } from './common.js';
import type { PathError } from './supported.js';

export interface RbacConfig {
  action: 'ALLOW' | 'DENY';
  policies: { name: string; permissions: Permission[]; principals: Principal[] }[];
}

export type Permission =
  | { any: true }
  | { header: HeaderMatch }
  | { urlPath: StrMatch }
  | { and: Permission[] }
  | { or: Permission[] }
  | { not: Permission };

export type Principal =
  | { any: true }
  | { authenticated: StrMatch | null }
  | { header: HeaderMatch }
  | { and: Principal[] }
  | { or: Principal[] }
  | { not: Principal };

export function rbacConfig(r: Obj, p: string): RbacConfig {
  const errors: PathError[] = [];
  const perm = (x: Obj, pp: string): Permission => {
    if (x.any) return { any: true };
    if (x.header) return { header: headerMatcher(x.header, `${pp}/header`, errors) };
    if (x.url_path) return { urlPath: stringMatcher(x.url_path.path ?? {}, `${pp}/url_path/path`, errors) };
    if (x.and_rules)
      return {
        and: (x.and_rules.rules ?? []).map((y: Obj, i: number) => perm(y, `${pp}/and_rules/rules/${i}`)),
      };
    if (x.or_rules)
      return {
        or: (x.or_rules.rules ?? []).map((y: Obj, i: number) => perm(y, `${pp}/or_rules/rules/${i}`)),
      };
    if (x.not_rule) return { not: perm(x.not_rule, `${pp}/not_rule`) };
    return { any: true };
  };
  const princ = (x: Obj, pp: string): Principal => {
    if (x.any) return { any: true };
    if (x.authenticated)
      return {
        authenticated: x.authenticated.principal_name
          ? stringMatcher(x.authenticated.principal_name, pp, errors)
          : null,
      };
    if (x.header) return { header: headerMatcher(x.header, `${pp}/header`, errors) };
    if (x.and_ids)
      return { and: (x.and_ids.ids ?? []).map((y: Obj, i: number) => princ(y, `${pp}/and_ids/ids/${i}`)) };
    if (x.or_ids)
      return { or: (x.or_ids.ids ?? []).map((y: Obj, i: number) => princ(y, `${pp}/or_ids/ids/${i}`)) };
    if (x.not_id) return { not: princ(x.not_id, `${pp}/not_id`) };
    return { any: true };
  };
  return {
    action: (r.action ?? 'ALLOW') as 'ALLOW' | 'DENY',
    policies: Object.entries((r.policies ?? {}) as Record<string, Obj>).map(([name, pol]) => ({
      name,
      permissions: ((pol.permissions ?? []) as Obj[]).map((x, i) =>
        perm(x, `${p}/policies/${name}/permissions/${i}`),
      ),
      principals: ((pol.principals ?? []) as Obj[]).map((x, i) =>
        princ(x, `${p}/policies/${name}/principals/${i}`),
      ),
    })),
  };
}
