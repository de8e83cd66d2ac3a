import type { Caller, ResolvedAllow, ResolvedBackend } from '../../model/types.js';
import { TYPE, typed, type Json } from './common.js';

function principal(c: Caller, trustDomain: string): Json {
  // "*" is any mesh identity: any peer whose certificate names an identity of the trust domain
  const name = c.kind === 'any' ? { prefix: `spiffe://${trustDomain}/` } : { exact: c.identity };
  return { authenticated: { principal_name: name } };
}

const oneOrAny = (rules: Json[]): Json => (rules.length === 1 ? rules[0]! : { or_rules: { rules } });

function permission(a: ResolvedAllow, l7: boolean): Json {
  const rules: Json[] = [];
  // url_path compares the path without the query string, as the mesh's paths do
  if (l7 && a.paths && !a.paths.some((p) => p.kind === 'prefix' && p.value === ''))
    rules.push(oneOrAny(a.paths.map((p) => ({ url_path: { path: { [p.kind]: p.value } } }))));
  if (l7 && a.methods)
    rules.push(oneOrAny(a.methods.map((m) => ({ header: { name: ':method', string_match: { exact: m } } }))));
  if (rules.length === 0) return { any: true };
  return rules.length === 1 ? rules[0]! : { and_rules: { rules } };
}

/**
 * The RBAC rules of a backend's inbound side, or undefined when everyone may call it. ALLOW with
 * no policy denies everything (`deny-all`); with rules, requests no policy accepts are denied
 * (HTTP 403, or the connection closed for TCP). `l7` false: the network filter, paths and methods
 * do not exist there (the emitter reports those entries, which then allow nothing).
 */
export function rbacRules(b: ResolvedBackend, trustDomain: string, l7: boolean): Json | undefined {
  const access = b.access;
  if (access.mode === 'allow-all') return undefined;
  const policies: Record<string, Json> = {};
  if (access.mode === 'rules') {
    access.rules.forEach((a, i) => {
      if (!l7 && (a.paths || a.methods)) return;
      policies[`allow-${i}`] = {
        permissions: [permission(a, l7)],
        principals: a.from.map((c) => principal(c, trustDomain)),
      };
    });
  }
  // callers' active health checks must reach the app for it to be counted healthy
  if (b.healthCheck && l7)
    policies['health-check'] = {
      permissions: [
        {
          and_rules: {
            rules: [
              { url_path: { path: { exact: b.healthCheck.path } } },
              { header: { name: ':method', string_match: { exact: 'GET' } } },
            ],
          },
        },
      ],
      principals: [{ any: true }],
    };
  return { action: 'ALLOW', policies };
}

export function httpRbacFilter(rules: Json): Json {
  return { name: 'envoy.filters.http.rbac', typed_config: typed(TYPE.httpRbac, { rules }) };
}

export function networkRbacFilter(rules: Json, statPrefix: string): Json {
  return {
    name: 'envoy.filters.network.rbac',
    typed_config: typed(TYPE.networkRbac, { stat_prefix: statPrefix, rules }),
  };
}
