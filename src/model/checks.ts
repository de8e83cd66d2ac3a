import { isIp, isIpv4, isIpv4Before, isIpv6, isUnbindableIpv6 } from './address.js';
import { diagnostic, joinPointer, type Diagnostic } from './diagnostics.js';
import { parseDuration } from './duration.js';
import type { MeshDocument } from './types.js';
import { describeLocation } from './describe.js';
import { checkRe2 } from './regex.js';
import { closest as closestName } from './nearest.js';

type Doc = MeshDocument;
type RouteDoc = NonNullable<Doc['spec']['routes']>[number];
type MatchDoc = NonNullable<RouteDoc['match']>[number];

/**
 * The semantic checks: what the schema cannot say. Each check is linear in the size of the mesh (or
 * in the routes of one parent), so validation scales with the file. Runs on schema-valid documents.
 */
export function checkSemantics(doc: Doc): Diagnostic[] {
  const out: Diagnostic[] = [];
  const spec = doc.spec;
  const backends = new Map(spec.backends.map((b) => [b.name, b]));
  const frontends = new Map((spec.frontends ?? []).map((f) => [f.name, f]));

  checkDuplicates(doc, out);
  checkBackends(doc, out);
  checkFrontends(doc, backends, out);
  checkRoutes(doc, backends, frontends, out);
  checkAccess(doc, backends, frontends, out);
  checkShadowing(doc, frontends, out);
  return out;
}

function checkDuplicates(doc: Doc, out: Diagnostic[]): void {
  const spec = doc.spec;
  const unique = (items: readonly { name: string }[], base: string, what: string) => {
    const first = new Map<string, number>();
    items.forEach((item, i) => {
      const prev = first.get(item.name);
      if (prev === undefined) first.set(item.name, i);
      else
        out.push(
          diagnostic('MG2005', `${what} "${item.name}" is defined twice (first as item ${prev + 1})`, {
            pointer: joinPointer(base, i, 'name'),
            hint: `${what} names are unique; rename one of them`,
          }),
        );
    });
  };
  unique(spec.backends, '/spec/backends', 'backend');
  unique(spec.frontends ?? [], '/spec/frontends', 'frontend');
  unique(spec.routes ?? [], '/spec/routes', 'route');
  spec.backends.forEach((b, i) =>
    unique(b.versions, `/spec/backends/${i}/versions`, `backend "${b.name}": version`),
  );
  const ruled = new Map<string, number>();
  (spec.access ?? []).forEach((rule, i) => {
    const prev = ruled.get(rule.backend);
    if (prev === undefined) ruled.set(rule.backend, i);
    else
      out.push(
        diagnostic(
          'MG2025',
          `backend "${rule.backend}" has two access rules (items ${prev + 1} and ${i + 1})`,
          {
            pointer: `/spec/access/${i}/backend`,
            hint: 'put every allow entry of one backend in one rule',
          },
        ),
      );
  });
}

function checkDurationPositive(
  value: string | undefined,
  pointer: string,
  doc: Doc,
  out: Diagnostic[],
): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseDuration(value);
  if (ms === undefined || ms <= 0) {
    out.push(
      diagnostic('MG2006', `${describeLocation(doc, pointer)}: "${value}" must be greater than zero`, {
        pointer,
        hint: 'durations are positive: 250ms, 1s, 1m30s',
      }),
    );
    return undefined;
  }
  return ms;
}

function checkBackends(doc: Doc, out: Diagnostic[]): void {
  doc.spec.backends.forEach((b, i) => {
    const base = `/spec/backends/${i}`;
    if (b.hashOn && b.loadBalancer !== 'ring-hash')
      out.push(
        diagnostic('MG2014', `backend "${b.name}": hashOn needs loadBalancer: ring-hash`, {
          pointer: `${base}/hashOn`,
          hint: 'set loadBalancer: ring-hash, or remove hashOn',
        }),
      );
    if (b.healthCheck) {
      checkDurationPositive(b.healthCheck.interval, `${base}/healthCheck/interval`, doc, out);
      checkDurationPositive(b.healthCheck.timeout, `${base}/healthCheck/timeout`, doc, out);
    }
    if (b.outlierDetection) {
      checkDurationPositive(b.outlierDetection.interval, `${base}/outlierDetection/interval`, doc, out);
      checkDurationPositive(
        b.outlierDetection.baseEjectionTime,
        `${base}/outlierDetection/baseEjectionTime`,
        doc,
        out,
      );
    }
    b.versions.forEach((v, j) => {
      const vp = `${base}/versions/${j}`;
      if (!v.endpoints || v.endpoints.length === 0)
        out.push(
          diagnostic('MG2012', `backend "${b.name}", version "${v.name}" has no endpoints`, {
            pointer: vp,
            hint: 'fine for Kubernetes targets; proxy targets (haproxy, nginx, envoy) need endpoints',
          }),
        );
      (v.endpoints ?? []).forEach((e, k) => {
        const colon = e.lastIndexOf(':');
        const port = Number(e.slice(colon + 1));
        if (port >= 1 && port <= 65535 && isIpv4Before(e, colon)) return; // the common case, in one scan
        if (!(port >= 1 && port <= 65535))
          out.push(
            diagnostic(
              'MG2019',
              `backend "${b.name}", version "${v.name}": endpoint "${e}" has port ${port}, outside 1-65535`,
              {
                pointer: `${vp}/endpoints/${k}`,
              },
            ),
          );
        else if (e.startsWith('[') && !isIpv6(e.slice(1, e.lastIndexOf(']'))))
          out.push(
            diagnostic(
              'MG2019',
              `backend "${b.name}", version "${v.name}": "${e}" is not a valid IPv6 endpoint`,
              {
                pointer: `${vp}/endpoints/${k}`,
              },
            ),
          );
        else if (/^[\d.]+$/.test(e.slice(0, e.lastIndexOf(':'))) && !isIpv4(e.slice(0, e.lastIndexOf(':'))))
          out.push(
            diagnostic(
              'MG2019',
              `backend "${b.name}", version "${v.name}": "${e}" is not a valid IPv4 endpoint`,
              {
                pointer: `${vp}/endpoints/${k}`,
              },
            ),
          );
      });
    });
  });
}

function checkFrontends(
  doc: Doc,
  backends: Map<string, Doc['spec']['backends'][number]>,
  out: Diagnostic[],
): void {
  const listeners = new Map<string, string>();
  const ports = new Map<number, number>();
  for (const b of backends.values()) ports.set(b.port, (ports.get(b.port) ?? 0) + 1);
  const portOwner = new Map(doc.spec.backends.map((b) => [b.port, b.name]));
  (doc.spec.frontends ?? []).forEach((f, i) => {
    const base = `/spec/frontends/${i}`;
    if (f.protocol === 'https') {
      if (!f.tls)
        out.push(
          diagnostic('MG2011', `frontend "${f.name}" is https but has no tls`, {
            pointer: base,
            hint: 'add tls: { certificate, key } for proxy targets and secretName for mesh targets',
          }),
        );
      else if (!f.tls.secretName && !(f.tls.certificate && f.tls.key))
        out.push(
          diagnostic('MG2023', `frontend "${f.name}": tls needs certificate and key, or secretName`, {
            pointer: `${base}/tls`,
          }),
        );
      else if (Boolean(f.tls.certificate) !== Boolean(f.tls.key))
        out.push(
          diagnostic('MG2023', `frontend "${f.name}": tls.certificate and tls.key go together`, {
            pointer: `${base}/tls`,
          }),
        );
    } else if (f.tls) {
      out.push(
        diagnostic('MG2022', `frontend "${f.name}" is ${f.protocol}: its tls is not used`, {
          pointer: `${base}/tls`,
          hint: f.protocol === 'http' ? 'use protocol: https to terminate TLS' : 'remove tls',
        }),
      );
    }
    const address = f.address ?? '0.0.0.0';
    if (f.address !== undefined && !isIp(f.address))
      out.push(
        diagnostic('MG2027', `frontend "${f.name}": address "${f.address}" is not an IP address`, {
          pointer: `${base}/address`,
          hint: 'write an IPv4 address (0.0.0.0, 10.0.0.5) or an IPv6 address without brackets (::, ::1)',
        }),
      );
    if (f.address !== undefined && isUnbindableIpv6(f.address))
      out.push(
        diagnostic(
          'MG2027',
          `frontend "${f.name}": address "${f.address}" is a link-local or multicast IPv6 address, which a proxy cannot listen on without naming an interface`,
          {
            pointer: `${base}/address`,
            hint: "listen on the host's global or unique-local address, or on :: for all of them",
          },
        ),
      );
    const key = `${address}:${f.port}`;
    const other = listeners.get(key) ?? listeners.get(`0.0.0.0:${f.port}`);
    if (
      other !== undefined ||
      (address === '0.0.0.0' && [...listeners.keys()].some((k) => k.endsWith(`:${f.port}`)))
    )
      out.push(
        diagnostic(
          'MG2018',
          `frontend "${f.name}" listens on ${key}, as frontend "${other ?? 'another'}" does`,
          {
            pointer: `${base}/port`,
            hint: 'give each frontend its own port or address',
          },
        ),
      );
    listeners.set(key, f.name);
    // proxy targets give a backend alone on its port the local listener 127.0.0.1:<port>
    const owner = portOwner.get(f.port);
    if (
      owner !== undefined &&
      ports.get(f.port) === 1 &&
      (address === '0.0.0.0' || address.startsWith('127.'))
    )
      out.push(
        diagnostic(
          'MG2018',
          `frontend "${f.name}" listens on ${key}, which collides with backend "${owner}"'s local listener 127.0.0.1:${f.port}`,
          {
            pointer: `${base}/port`,
            hint: 'pick another port for the frontend, or give it an address outside 127.0.0.0/8',
          },
        ),
      );
  });
}

function checkRoutes(
  doc: Doc,
  backends: Map<string, Doc['spec']['backends'][number]>,
  frontends: Map<string, NonNullable<Doc['spec']['frontends']>[number]>,
  out: Diagnostic[],
): void {
  (doc.spec.routes ?? []).forEach((r, i) => {
    const base = `/spec/routes/${i}`;
    const label = `route "${r.name}"`;
    let tcp = false;
    // parent
    const p = r.parent;
    if ((p.backend === undefined) === (p.frontend === undefined)) {
      out.push(
        diagnostic('MG2024', `${label}: parent must name one backend or one frontend`, {
          pointer: `${base}/parent`,
          hint: 'write parent: { backend: <name> } or parent: { frontend: <name> }',
        }),
      );
    } else if (p.backend !== undefined) {
      const b = backends.get(p.backend);
      if (!b) out.push(unknownBackend(p.backend, `${base}/parent/backend`, label, backends));
      else tcp = b.protocol === 'tcp';
      if (p.hosts)
        out.push(
          diagnostic('MG2020', `${label}: parent.hosts applies to frontends only`, {
            pointer: `${base}/parent/hosts`,
            hint: 'remove hosts, or attach the route to a frontend',
          }),
        );
    } else {
      const f = frontends.get(p.frontend!);
      if (!f)
        out.push(
          diagnostic('MG2003', `${label}: no frontend is named "${p.frontend}"`, {
            pointer: `${base}/parent/frontend`,
            hint: suggest(p.frontend!, frontends.keys()),
          }),
        );
      else {
        tcp = f.protocol === 'tcp' || f.protocol === 'tls-passthrough';
        const served = f.hosts ?? ['*'];
        (p.hosts ?? []).forEach((h, k) => {
          if (!served.some((s) => hostCovers(s, h)))
            out.push(
              diagnostic(
                'MG2020',
                `${label}: host "${h}" is not served by frontend "${f.name}" (${served.join(', ')})`,
                {
                  pointer: `${base}/parent/hosts/${k}`,
                },
              ),
            );
        });
      }
    }
    // destinations
    const weights = r.to.map((t) => t.weight);
    r.to.forEach((t, k) => {
      const tp = `${base}/to/${k}`;
      const b = backends.get(t.backend);
      if (!b) out.push(unknownBackend(t.backend, `${tp}/backend`, label, backends));
      else {
        if (t.version !== undefined && !b.versions.some((v) => v.name === t.version))
          out.push(unknownVersion(b, t.version, `${tp}/version`, label));
        if ((b.protocol === 'tcp') !== tcp)
          out.push(
            diagnostic(
              'MG2026',
              `${label} is ${tcp ? 'a TCP' : 'an HTTP'} route but sends to ${b.protocol} backend "${b.name}"`,
              {
                pointer: `${tp}/backend`,
              },
            ),
          );
      }
      if (t.weight === undefined && r.to.length > 1)
        out.push(
          diagnostic(
            'MG2016',
            `${label}: destination ${k + 1} (${t.backend}${t.version ? ' ' + t.version : ''}) has no weight`,
            {
              pointer: tp,
              hint: 'with more than one destination, give each a weight; weights sum to 100',
            },
          ),
        );
    });
    if (weights.every((w) => w !== undefined) || r.to.length === 1) {
      const sum = weights.reduce<number>((s, w) => s + (w ?? 100), 0);
      if (sum !== 100)
        out.push(
          diagnostic('MG2004', `${label}: weights sum to ${sum}, not 100`, {
            pointer: `${base}/to`,
            hint: "weights are percentages of the route's traffic",
          }),
        );
    }
    // durations
    const timeout = checkDurationPositive(r.timeout, `${base}/timeout`, doc, out);
    const perTry = checkDurationPositive(r.retries?.perTryTimeout, `${base}/retries/perTryTimeout`, doc, out);
    checkDurationPositive(r.fault?.delay?.duration, `${base}/fault/delay/duration`, doc, out);
    if (timeout !== undefined && perTry !== undefined && r.retries) {
      if (perTry > timeout)
        out.push(
          diagnostic(
            'MG2007',
            `${label}: retries.perTryTimeout ${r.retries.perTryTimeout} is longer than timeout ${r.timeout}`,
            {
              pointer: `${base}/retries/perTryTimeout`,
              hint: 'timeout bounds the whole request, all tries included',
            },
          ),
        );
      else if ((r.retries.attempts + 1) * perTry > timeout)
        out.push(
          diagnostic(
            'MG2008',
            `${label}: ${r.retries.attempts + 1} tries of ${r.retries.perTryTimeout} cannot fit in timeout ${r.timeout}; the last retries may never start`,
            {
              pointer: `${base}/retries`,
              hint: 'raise timeout, or lower attempts or perTryTimeout',
            },
          ),
        );
    }
    // mirror
    if (r.mirror) {
      const b = backends.get(r.mirror.backend);
      if (!b) out.push(unknownBackend(r.mirror.backend, `${base}/mirror/backend`, label, backends));
      else if (r.mirror.version !== undefined && !b.versions.some((v) => v.name === r.mirror!.version))
        out.push(unknownVersion(b, r.mirror.version, `${base}/mirror/version`, label));
    }
    // HTTP-only features on TCP routes
    if (tcp) {
      for (const field of ['match', 'retries', 'fault', 'mirror', 'rewrite', 'headers'] as const)
        if (r[field] !== undefined)
          out.push(
            diagnostic('MG2010', `${label} is a TCP route: ${field} applies to HTTP only`, {
              pointer: `${base}/${field}`,
              hint: 'TCP routes take only to and timeout',
            }),
          );
    }
    // rewrite.pathPrefix needs every match entry to use a path prefix
    if (r.rewrite?.pathPrefix !== undefined && !tcp) {
      const bad = !r.match || r.match.some((m) => m.path?.prefix === undefined);
      if (bad)
        out.push(
          diagnostic('MG2015', `${label}: rewrite.pathPrefix needs every match entry to use path.prefix`, {
            pointer: `${base}/rewrite/pathPrefix`,
            hint: 'the rewrite replaces the matched prefix; add path: { prefix: ... } to each match entry',
          }),
        );
    }
    // regular expressions
    (r.match ?? []).forEach((m, k) => checkMatchRegexes(m, `${base}/match/${k}`, label, out));
  });
}

function checkMatchRegexes(m: MatchDoc, base: string, label: string, out: Diagnostic[]): void {
  // the pointer is built only for a regex that is reported
  const check = (re: string | undefined, pointer: () => string) => {
    if (re === undefined) return;
    const problem = checkRe2(re);
    if (problem)
      out.push(
        diagnostic('MG2017', `${label}: regex ${JSON.stringify(re)} is not valid RE2: ${problem}`, {
          pointer: pointer(),
          hint: 'RE2 has no lookaround or backreferences',
        }),
      );
  };
  if (m.path?.regex !== undefined) check(m.path.regex, () => `${base}/path/regex`);
  if (m.headers)
    for (const name of Object.keys(m.headers))
      check(m.headers[name]!.regex, () => joinPointer(`${base}/headers`, name, 'regex'));
  if (m.queryParams)
    for (const name of Object.keys(m.queryParams))
      check(m.queryParams[name]!.regex, () => joinPointer(`${base}/queryParams`, name, 'regex'));
}

function checkAccess(
  doc: Doc,
  backends: Map<string, Doc['spec']['backends'][number]>,
  frontends: Map<string, NonNullable<Doc['spec']['frontends']>[number]>,
  out: Diagnostic[],
): void {
  const meshMtls = doc.spec.mtls?.mode ?? 'permissive';
  (doc.spec.access ?? []).forEach((rule, i) => {
    const base = `/spec/access/${i}`;
    const b = backends.get(rule.backend);
    if (!b) {
      out.push(unknownBackend(rule.backend, `${base}/backend`, `access rule ${i + 1}`, backends));
      return;
    }
    const mode = b.mtls?.mode ?? meshMtls;
    if (mode === 'disabled')
      out.push(
        diagnostic('MG2009', `access rules on backend "${b.name}" need mTLS, but its mtls mode is disabled`, {
          pointer: `${base}/backend`,
          hint: 'nothing would authenticate the caller: enable mtls (strict or permissive) for this backend',
        }),
      );
    rule.allow.forEach((a, j) =>
      a.from.forEach((name, k) => {
        if (name !== '*' && !backends.has(name) && !frontends.has(name))
          out.push(
            diagnostic(
              'MG2021',
              `access rule for backend "${b.name}": no backend or frontend is named "${name}"`,
              {
                pointer: `${base}/allow/${j}/from/${k}`,
                hint: suggest(name, [...backends.keys(), ...frontends.keys(), '*']),
              },
            ),
          );
      }),
    );
  });
}

/**
 * First-match shadowing: a route none of whose match entries can be reached because an earlier route
 * of the same parent (serving at least the same hosts) accepts everything it would. Decided for
 * entries with path conditions only; entries with headers, query parameters or a method never shadow.
 */
function checkShadowing(
  doc: Doc,
  frontends: Map<string, NonNullable<Doc['spec']['frontends']>[number]>,
  out: Diagnostic[],
): void {
  interface Cover {
    all: string | undefined;
    prefixes: Map<string, string>;
    exacts: Map<string, string>;
    hosts: readonly string[] | undefined;
  }
  const byParent = new Map<string, Cover[]>();
  (doc.spec.routes ?? []).forEach((r, i) => {
    const parentKey = r.parent.backend !== undefined ? `b:${r.parent.backend}` : `f:${r.parent.frontend}`;
    const hosts =
      r.parent.frontend !== undefined
        ? (r.parent.hosts ?? frontends.get(r.parent.frontend)?.hosts ?? ['*'])
        : undefined;
    // the first route of a parent has nothing before it to be shadowed by
    const covers = byParent.get(parentKey);
    const relevant = (covers ?? []).filter(
      (c) => !hosts || !c.hosts || hosts.every((h) => c.hosts!.some((ch) => hostCovers(ch, h))),
    );
    const coveredBy = (m: MatchDoc | undefined): string | undefined => {
      for (const c of relevant) {
        if (c.all) return c.all;
        if (!m || m.path?.regex !== undefined) continue;
        const p = m.path;
        if (!p) continue;
        const value = p.prefix ?? p.exact!;
        if (p.exact !== undefined && c.exacts.has(value)) return c.exacts.get(value);
        for (let n = 1; n <= value.length; n++) {
          const by = c.prefixes.get(value.slice(0, n));
          if (by) return by;
        }
      }
      return undefined;
    };
    const entries = r.match ?? [undefined];
    const by = relevant.length ? entries.map(coveredBy) : [];
    if (by.length && by.every((x) => x !== undefined)) {
      const names = [...new Set(by)].join('", "');
      out.push(
        diagnostic(
          'MG2013',
          `route "${r.name}" can never match: earlier route "${names}" accepts every request it would`,
          {
            pointer: `/spec/routes/${i}/${r.match ? 'match' : 'name'}`,
            hint: 'routes are tried in order and the first match wins: move this route before the other, or narrow the earlier one',
          },
        ),
      );
    }
    let cover: Cover | undefined;
    for (const m of entries) {
      const unconditional = !m || (!m.headers && !m.queryParams && !m.method);
      if (!unconditional) continue;
      const p = m?.path;
      if (p?.regex !== undefined) continue;
      cover ??= { all: undefined, prefixes: new Map(), exacts: new Map(), hosts };
      if (!p || p.prefix === '/') cover.all = r.name;
      else if (p.prefix !== undefined) cover.prefixes.set(p.prefix, r.name);
      else if (p.exact !== undefined) cover.exacts.set(p.exact, r.name);
    }
    if (cover) {
      if (covers) covers.push(cover);
      else byParent.set(parentKey, [cover]);
    }
  });
}

/** Whether a served host pattern (`*`, `*.example.com`, `shop.example.com`) covers a host. */
function hostCovers(pattern: string, host: string): boolean {
  if (pattern === '*' || pattern === host) return true;
  if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1)) || host === pattern;
  return false;
}

function unknownBackend(
  name: string,
  pointer: string,
  label: string,
  backends: Map<string, unknown>,
): Diagnostic {
  return diagnostic('MG2001', `${label}: no backend is named "${name}"`, {
    pointer,
    hint: suggest(name, backends.keys()),
  });
}

function unknownVersion(
  b: Doc['spec']['backends'][number],
  version: string,
  pointer: string,
  label: string,
): Diagnostic {
  return diagnostic('MG2002', `${label}: backend "${b.name}" has no version "${version}"`, {
    pointer,
    hint: `its versions: ${b.versions.map((v) => v.name).join(', ')}`,
  });
}

function suggest(name: string, names: Iterable<string>): string | undefined {
  const all = [...names];
  const near = closestName(name, all);
  return near
    ? `did you mean "${near}"?`
    : all.length
      ? `known: ${all.slice(0, 10).join(', ')}${all.length > 10 ? ', ...' : ''}`
      : undefined;
}
