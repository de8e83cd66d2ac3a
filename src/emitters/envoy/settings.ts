import { diagnostic, type Diagnostic } from '../../model/diagnostics.js';
import type { EmitOptions, TargetSetting } from '../types.js';
import { isPort } from '../settings.js';

/** What `--set` and `--output-format` choose for the Envoy target. */
export interface EnvoySettings {
  readonly format: 'yaml' | 'json';
  /** Folder of the mesh CA (`ca.crt`) and each workload's `<name>.crt` / `<name>.key`. */
  readonly certDir: string;
  /** The admin listener's port on 127.0.0.1. */
  readonly adminPort: number;
  /** The sidecar's inbound listener port (where interception redirects callers' connections). */
  readonly inboundPort: number;
  /** `--set sidecars=a,b`: the backends whose sidecars are rendered; every backend's when unset. */
  readonly sidecars?: ReadonlySet<string>;
  /** Absolute folder where the sidecars read the shared outbound listeners and clusters (LDS, CDS). */
  readonly discoveryDir: string;
}

const DEFAULTS: EnvoySettings = {
  format: 'yaml',
  certDir: 'certs',
  adminPort: 15000,
  inboundPort: 15006,
  discoveryDir: '/etc/envoy/meshgen',
};

/** Envoy reads a path config source at an absolute path; a folder name within a file system's limit. */
function isDiscoveryDir(v: string): boolean {
  // eslint-disable-next-line no-control-regex
  return v.startsWith('/') && v.length <= 1024 && !/[\u0000-\u001f\u007f]/.test(v);
}

/** The settings of `--set`, for the checks, `meshgen targets --target envoy` and docs/envoy.md. */
export const ENVOY_SETTINGS: readonly TargetSetting[] = [
  {
    name: 'certDir',
    default: DEFAULTS.certDir,
    accepts: 'a folder',
    check: (v) => v !== '',
    description:
      "folder of `ca.crt` and the workloads' `.crt`/`.key` (the layout `meshgen certs` writes), as HAProxy's and NGINX's; a relative folder is read from where the proxy runs",
  },
  {
    name: 'adminPort',
    default: String(DEFAULTS.adminPort),
    accepts: 'a port, 1-65535',
    check: isPort,
    description: 'admin listener port, on `127.0.0.1`',
  },
  {
    name: 'inboundPort',
    default: String(DEFAULTS.inboundPort),
    accepts: 'a port, 1-65535',
    check: isPort,
    description: "sidecar inbound port (the iptables plan's `inboundPort`)",
  },
  {
    name: 'discoveryDir',
    default: DEFAULTS.discoveryDir,
    accepts: 'an absolute folder',
    check: isDiscoveryDir,
    description:
      "absolute folder where each sidecar's `dynamic_resources` read the shared `outbound-listeners` and `outbound-clusters` files (Envoy's LDS and CDS from the file system); copy them there",
  },
  {
    name: 'sidecars',
    defaultText: 'every backend',
    accepts: 'backend names, comma-separated',
    description:
      'the backends whose `sidecar-<backend>` files are written (`--set sidecars=web,api`); empty for none',
  },
];

/** Reads the options; a bad value is an error diagnostic and the default is kept. */
export function readSettings(options: EmitOptions, diagnostics: Diagnostic[]): EnvoySettings {
  const s = options.settings ?? {};
  let format = DEFAULTS.format;
  if (options.format !== undefined) {
    if (options.format === 'yaml' || options.format === 'json') format = options.format;
    else
      diagnostics.push(
        diagnostic('MG4003', `the envoy target writes yaml or json, not "${options.format}"`, {
          hint: 'use --output-format yaml or --output-format json',
        }),
      );
  }
  const port = (key: 'adminPort' | 'inboundPort'): number => {
    const raw = s[key];
    if (raw === undefined) return DEFAULTS[key];
    const n = Number(raw);
    if (/^\d+$/.test(raw) && n >= 1 && n <= 65535) return n;
    diagnostics.push(
      diagnostic('MG4003', `envoy setting ${key}=${raw} is not a port (1-65535)`, {
        hint: `--set ${key}=${DEFAULTS[key]}`,
      }),
    );
    return DEFAULTS[key];
  };
  let certDir = s['certDir'] ?? DEFAULTS.certDir;
  if (certDir === '') {
    diagnostics.push(
      diagnostic('MG4003', 'envoy setting certDir is empty', { hint: `--set certDir=${DEFAULTS.certDir}` }),
    );
    certDir = DEFAULTS.certDir;
  }
  const adminPort = port('adminPort');
  const inboundPort = port('inboundPort');
  if (adminPort === inboundPort)
    diagnostics.push(
      diagnostic('MG4003', `envoy settings adminPort and inboundPort are both ${adminPort}`, {
        hint: 'give them different ports',
      }),
    );
  const sidecars =
    s['sidecars'] === undefined
      ? undefined
      : new Set(
          s['sidecars']
            .split(',')
            .map((name) => name.trim())
            .filter((name) => name !== ''),
        );
  let discoveryDir = s['discoveryDir'] ?? DEFAULTS.discoveryDir;
  if (!isDiscoveryDir(discoveryDir)) {
    diagnostics.push(
      diagnostic(
        'MG4003',
        `envoy setting discoveryDir=${JSON.stringify(discoveryDir)} is not an absolute folder (Envoy reads its discovery files at absolute paths)`,
        { hint: `--set discoveryDir=${DEFAULTS.discoveryDir}` },
      ),
    );
    discoveryDir = DEFAULTS.discoveryDir;
  }
  return {
    format,
    certDir: certDir.replace(/\/+$/, '') || '/',
    adminPort,
    inboundPort,
    sidecars,
    discoveryDir: discoveryDir.replace(/\/+$/, '') || '/',
  };
}
