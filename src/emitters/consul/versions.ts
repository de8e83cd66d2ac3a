import type { VersionSupport } from '../versions.js';

export const CONSUL_VERSIONS: VersionSupport = {
  default: '1.22',
  oldest: '1.16',
  rules: [
    {
      since: '1.16',
      what: 'the oldest version: MutualTLSMode on service-defaults, and AllowEnablingPermissiveMutualTLS on the mesh entry, without which Consul refuses MutualTLSMode permissive (meshgen writes the mesh entry)',
      source:
        'consul agent/consul/state/config_entry.go (checkMutualTLSMode); api/config_entry_mesh.go; consul-k8s control-plane/api/v1alpha1/mesh_types.go',
    },
  ],
};
