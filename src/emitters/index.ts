import type { Emitter } from './types.js';
import { istio } from './istio/index.js';
import { linkerd } from './linkerd/index.js';
import { consul } from './consul/index.js';
import { haproxy } from './haproxy/index.js';
import { nginx } from './nginx/index.js';
import { envoy } from './envoy/index.js';
import { iptables } from './iptables/index.js';
import { apache } from './apache/index.js';
import { traefik } from './traefik/index.js';

/** The registry: the CLI, the library, the fidelity matrix and the tests all read this one list. */
export const emitters: readonly Emitter[] = [
  istio,
  linkerd,
  consul,
  haproxy,
  nginx,
  envoy,
  iptables,
  apache,
  traefik,
];

export function findEmitter(target: string): Emitter | undefined {
  return emitters.find((e) => e.target === target);
}
