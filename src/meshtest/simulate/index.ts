import { simulateConsul } from './consul.js';
import { simulateIstio } from './istio.js';
import { simulateLinkerd } from './linkerd.js';
import type { Simulator } from './types.js';

/** The simulated targets, by target name: each evaluates cases against its rendered objects. */
export const simulators: Readonly<Record<string, Simulator>> = {
  istio: simulateIstio,
  linkerd: simulateLinkerd,
  consul: simulateConsul,
};
