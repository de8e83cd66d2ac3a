/**
 * What a stock Consul server refuses when config entries are written one by one, in file order, as
 * `consul config write` does: the checks of hashicorp/consul that meshgen's entries can meet.
 *
 * - agent/consul/state/config_entry.go, checkMutualTLSMode: MutualTLSMode permissive on
 *   service-defaults is refused unless the mesh entry (Kind "mesh") sets
 *   AllowEnablingPermissiveMutualTLS (a permissive mode already stored stays allowed).
 * - agent/consul/discoverychain/compile.go: a discovery chain with a router or splitter on a service
 *   whose protocol is not http, http2 or grpc is refused ("does not permit advanced routing or
 *   splitting behavior"); a service without service-defaults, or whose service-defaults was refused,
 *   is tcp; and every service a chain's splits and routes lead to must have the chain's protocol
 *   (recordProtocol: "uses inconsistent protocols").
 * - agent/consul/state/config_entry.go, validateProposedConfigEntryInServiceGraph: an ingress
 *   listener's protocol must be its services' protocol, and intentions with L7 permissions need an
 *   HTTP-like destination.
 */
type Entry = Record<string, any>;

export interface Refusal {
  readonly kind: string;
  readonly name: string;
  readonly reason: string;
}

const HTTP_LIKE = new Set(['http', 'http2', 'grpc']);

export function writeEntries(entries: readonly Entry[]): Refusal[] {
  const refused: Refusal[] = [];
  let permissiveAllowed = false;
  const protocol = new Map<string, string>();
  const protocolOf = (name: string) => protocol.get(name) ?? 'tcp';
  for (const e of entries) {
    const name = String(e.Name ?? 'mesh');
    const refuse = (reason: string) => refused.push({ kind: e.Kind, name, reason });
    switch (e.Kind) {
      case 'mesh':
        permissiveAllowed = e.AllowEnablingPermissiveMutualTLS === true;
        break;
      case 'service-defaults':
        if (e.MutualTLSMode === 'permissive' && !permissiveAllowed) {
          refuse('MutualTLSMode=permissive is not allowed (AllowEnablingPermissiveMutualTLS is false)');
          break;
        }
        protocol.set(name, e.Protocol ?? 'tcp');
        break;
      case 'service-router':
      case 'service-splitter': {
        if (!HTTP_LIKE.has(protocolOf(name))) {
          refuse(
            `discovery chain "${name}" uses a protocol "${protocolOf(name)}" that does not permit advanced routing or splitting behavior`,
          );
          break;
        }
        const targets: string[] =
          e.Kind === 'service-splitter'
            ? (e.Splits ?? []).map((x: Entry) => x.Service ?? name)
            : (e.Routes ?? []).map((x: Entry) => x.Destination?.Service ?? name);
        for (const t of targets)
          if (protocolOf(t) !== protocolOf(name))
            refuse(
              `discovery chain "${name}" uses inconsistent protocols; service "${t}" has "${protocolOf(t)}" which is not "${protocolOf(name)}"`,
            );
        break;
      }
      case 'ingress-gateway':
        for (const l of e.Listeners ?? [])
          for (const s of l.Services ?? [])
            if (s.Name !== '*' && protocolOf(s.Name) !== l.Protocol)
              refuse(
                `service "${s.Name}" has protocol "${protocolOf(s.Name)}", which does not match defined listener protocol "${l.Protocol}"`,
              );
        break;
      case 'service-intentions':
        if ((e.Sources ?? []).some((s: Entry) => s.Permissions?.length) && !HTTP_LIKE.has(protocolOf(name)))
          refuse(
            `service "${name}" has protocol "${protocolOf(name)}", which is incompatible with L7 intentions permissions`,
          );
        break;
    }
  }
  return refused;
}
