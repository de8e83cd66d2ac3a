import { isIpv4, isIpv6 } from '../../model/address.js';
import { diagnostic, type Diagnostic } from '../../model/diagnostics.js';
import type { ResolvedMesh } from '../../model/types.js';
import type { TargetSetting } from '../types.js';
import { isPort } from '../settings.js';

/** The settings an interception plan reads from `--set key=value`; defaults are Istio's. */
export interface PlanSettings {
  readonly mode: 'sidecar' | 'vip';
  /** The proxy's uid (and gid, when set): its own connections are never redirected. */
  readonly proxyUid: number;
  readonly proxyGid?: number;
  readonly inboundPort: number;
  readonly outboundPort: number;
  /** Ports whose inbound connections reach the proxy; '*' for every port. Undefined: per backend. */
  readonly includeInboundPorts?: readonly number[] | '*';
  readonly excludeInboundPorts: readonly number[];
  readonly excludeOutboundPorts: readonly number[];
  readonly excludeOutboundCidrs: readonly Cidr[];
  /** nftables family of the `meshgen` table. */
  readonly nftFamily: 'inet' | 'ip';
  /** vip mode: per backend, the service address that replaces its local address. */
  readonly vips: ReadonlyMap<string, string>;
}

export interface Cidr {
  readonly family: 'ipv4' | 'ipv6';
  /** As written, with the prefix length added when missing (`10.0.0.1` -> `10.0.0.1/32`). */
  readonly text: string;
}

const DEFAULTS = {
  mode: 'sidecar',
  proxyUid: 1337,
  inboundPort: 15006,
  outboundPort: 15001,
  nftFamily: 'inet',
} as const;

const isId = (v: string) => /^\d{1,10}$/.test(v) && Number(v) <= 4294967294;
const isPorts = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .every(isPort);

/**
 * The settings of `--set`, for the checks, `meshgen targets --target iptables` and docs/iptables.md.
 * The CIDR lists and `vip.<backend>` (which needs the mesh) are checked by `readSettings`.
 */
export const IPTABLES_SETTINGS: readonly TargetSetting[] = [
  {
    name: 'mode',
    values: ['sidecar', 'vip'],
    default: DEFAULTS.mode,
    description: 'one plan per backend (sidecar), or every backend in one plan (vip)',
  },
  {
    name: 'proxyUid',
    default: String(DEFAULTS.proxyUid),
    accepts: 'a uid, 0-4294967294',
    check: isId,
    description:
      "the proxy's uid: its outbound connections are not redirected (`-m owner --uid-owner`, `meta skuid`)",
  },
  {
    name: 'proxyGid',
    accepts: 'a gid, 0-4294967294',
    check: isId,
    description: 'also exempt this gid (`--gid-owner`, `meta skgid`)',
  },
  {
    name: 'inboundPort',
    default: String(DEFAULTS.inboundPort),
    accepts: 'a port, 1-65535',
    check: isPort,
    description: 'where inbound connections are redirected',
  },
  {
    name: 'outboundPort',
    default: String(DEFAULTS.outboundPort),
    accepts: 'a port, 1-65535',
    check: isPort,
    description: 'where outbound connections are redirected',
  },
  {
    name: 'includeInboundPorts',
    defaultText: "the backend's port and its endpoints' ports",
    accepts: 'ports, comma-separated, or `*`',
    check: (v) => v.trim() === '*' || isPorts(v),
    description: 'ports whose inbound connections go to the proxy; `*` for every port',
  },
  {
    name: 'excludeInboundPorts',
    accepts: 'ports, comma-separated',
    check: isPorts,
    description: "inbound ports never redirected, e.g. `22,15090,15021,15020` (Istio's usual exclusions)",
  },
  {
    name: 'excludeOutboundPorts',
    accepts: 'ports, comma-separated',
    check: isPorts,
    description: 'outbound destination ports never redirected, e.g. `53`',
  },
  {
    name: 'excludeOutboundCidrs',
    accepts: 'IPv4 or IPv6 addresses or CIDRs, comma-separated',
    description:
      'outbound destinations never redirected, e.g. `10.0.0.0/8,169.254.169.254`; IPv6 CIDRs go to the `.nft` plan only',
  },
  {
    name: 'nftFamily',
    values: ['inet', 'ip'],
    default: DEFAULTS.nftFamily,
    description: 'family of the nft table: `inet` (IPv4 and IPv6) or `ip`',
  },
  {
    name: 'vip.<backend>',
    defaultText: "the backend's local address",
    accepts: 'an IPv4 address',
    check: isIpv4,
    description: 'vip mode: the service address of that backend, e.g. `vip.web=10.96.0.10`',
  },
];

/** Reads and checks the settings; a bad value is an MG4003 diagnostic and the default is kept. */
export function readSettings(
  mesh: ResolvedMesh,
  raw: Readonly<Record<string, string>> = {},
): { settings: PlanSettings; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const bad = (key: string, value: string, expected: string) =>
    diagnostics.push(
      diagnostic(
        'MG4003',
        `setting ${key}=${JSON.stringify(value)} is not valid for the iptables target: ${expected}`,
        {
          hint: `run \`meshgen render <file> --target iptables --set ${key}=...\` with ${expected}`,
        },
      ),
    );
  const integer = (
    key: string,
    min: number,
    max: number,
    fallback: number | undefined,
  ): number | undefined => {
    const v = raw[key];
    if (v === undefined) return fallback;
    if (/^\d+$/.test(v) && Number(v) >= min && Number(v) <= max) return Number(v);
    bad(key, v, `an integer from ${min} to ${max}`);
    return fallback;
  };
  const ports = (key: string, allowStar: boolean): readonly number[] | '*' | undefined => {
    const v = raw[key];
    if (v === undefined) return undefined;
    if (allowStar && v.trim() === '*') return '*';
    const items = v
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    if (items.every((s) => /^\d+$/.test(s) && Number(s) >= 1 && Number(s) <= 65535))
      return [...new Set(items.map(Number))].sort((a, b) => a - b);
    bad(key, v, `a comma-separated list of ports from 1 to 65535${allowStar ? ', or *' : ''}`);
    return undefined;
  };
  const cidrs = (key: string): Cidr[] => {
    const v = raw[key];
    if (v === undefined) return [];
    const out: Cidr[] = [];
    for (const item of v.split(',').map((s) => s.trim())) {
      if (item === '') continue;
      const [addr = '', len, extra] = item.split('/');
      const family = isIpv4(addr) ? 'ipv4' : isIpv6(addr) ? 'ipv6' : undefined;
      const max = family === 'ipv4' ? 32 : 128;
      if (
        !family ||
        extra !== undefined ||
        (len !== undefined && !(/^\d+$/.test(len) && Number(len) <= max))
      ) {
        bad(key, v, 'a comma-separated list of IPv4 or IPv6 addresses or CIDRs');
        return [];
      }
      out.push({ family, text: `${addr}/${len ?? max}` });
    }
    return out;
  };
  const choice = <T extends string>(key: string, allowed: readonly T[], fallback: T): T => {
    const v = raw[key];
    if (v === undefined) return fallback;
    if ((allowed as readonly string[]).includes(v)) return v as T;
    bad(key, v, `one of ${allowed.join(', ')}`);
    return fallback;
  };

  const vips = new Map<string, string>();
  for (const [key, value] of Object.entries(raw)) {
    if (!key.startsWith('vip.')) continue;
    const name = key.slice(4);
    if (!mesh.backendsByName.has(name)) {
      diagnostics.push(
        diagnostic('MG4003', `setting ${key} names no backend of mesh "${mesh.name}"`, {
          hint: `backends: ${mesh.backends.map((b) => b.name).join(', ')}`,
        }),
      );
    } else if (!isIpv4(value)) bad(key, value, 'an IPv4 address');
    else vips.set(name, value);
  }

  const settings: PlanSettings = {
    mode: choice('mode', ['sidecar', 'vip'], DEFAULTS.mode),
    proxyUid: integer('proxyUid', 0, 4294967294, DEFAULTS.proxyUid)!,
    proxyGid: integer('proxyGid', 0, 4294967294, undefined),
    inboundPort: integer('inboundPort', 1, 65535, DEFAULTS.inboundPort)!,
    outboundPort: integer('outboundPort', 1, 65535, DEFAULTS.outboundPort)!,
    includeInboundPorts: ports('includeInboundPorts', true),
    excludeInboundPorts: (ports('excludeInboundPorts', false) as number[] | undefined) ?? [],
    excludeOutboundPorts: (ports('excludeOutboundPorts', false) as number[] | undefined) ?? [],
    excludeOutboundCidrs: cidrs('excludeOutboundCidrs'),
    nftFamily: choice('nftFamily', ['inet', 'ip'], DEFAULTS.nftFamily),
    vips,
  };
  if (settings.nftFamily === 'ip' && settings.excludeOutboundCidrs.some((c) => c.family === 'ipv6'))
    bad(
      'excludeOutboundCidrs',
      raw['excludeOutboundCidrs'] ?? '',
      'IPv4 CIDRs only with nftFamily=ip (an ip table sees no IPv6)',
    );
  return { settings, diagnostics };
}
