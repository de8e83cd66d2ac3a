/**
 * Endpoint changes through HAProxy's runtime API instead of a reload. A configuration rendered with
 * `--set serverSlots=N` gives each backend version N server lines in every backend section that
 * serves it (src/emitters/haproxy), the ones without an endpoint in maintenance, and an admin-level
 * stats socket. An endpoint that comes goes into a free slot (`set server <pool>/<slot> addr <ip>
 * port <port>`, then `state ready`), one that goes puts its slot back in maintenance (`state maint`);
 * the endpoints that stay keep their slots, so their connections are not touched.
 */
import net from 'node:net';
import type { SlotGroup } from '../emitters/haproxy/index.js';
import type { Endpoint, ResolvedMesh } from '../model/types.js';

/** The addresses in one backend version's slots; undefined: a spare slot, in maintenance. */
export interface SlotState {
  readonly backend: string;
  readonly version: string;
  readonly pools: readonly string[];
  readonly slots: readonly (string | undefined)[];
}

export type RuntimePlan =
  | { readonly ok: true; readonly commands: readonly string[]; readonly next: readonly SlotState[] }
  | { readonly ok: false; readonly why: string };

/** The slots as rendered: a configuration's first state. */
export function slotStates(groups: readonly SlotGroup[]): SlotState[] {
  return groups.map((g) => ({ backend: g.backend, version: g.version, pools: g.pools, slots: g.endpoints }));
}

const rendered = (e: Endpoint): string =>
  e.family === 'ipv6' ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;

/**
 * The commands that bring the running slots to the endpoints of `mesh`, whose backends, versions
 * and routes are those of the running configuration (an endpoint-only change), or why they cannot:
 * more endpoints than slots, or an endpoint that is a host name (`set server addr` takes an IP).
 */
export function planRuntime(states: readonly SlotState[], mesh: ResolvedMesh): RuntimePlan {
  const commands: string[] = [];
  const removals: string[] = [];
  const next: SlotState[] = [];
  for (const s of states) {
    const version = mesh.backendsByName.get(s.backend)?.versions.find((v) => v.name === s.version);
    if (!version) return { ok: false, why: `backend "${s.backend}" has no version "${s.version}" now` };
    const dns = version.endpoints.find((e) => e.family === 'dns');
    if (dns)
      return {
        ok: false,
        why: `endpoint ${dns.address} of ${s.backend}/${s.version} is a host name, and set server addr takes an IP address`,
      };
    if (version.endpoints.length > s.slots.length)
      return {
        ok: false,
        why: `${s.backend}/${s.version} has ${version.endpoints.length} endpoints and ${s.slots.length} server slots`,
      };
    // the endpoints that stay keep their slots (each address as many times as it is listed)
    const wanted = new Map<string, Endpoint[]>();
    for (const e of version.endpoints) wanted.set(rendered(e), [...(wanted.get(rendered(e)) ?? []), e]);
    const slots = [...s.slots];
    const freed: number[] = [];
    slots.forEach((address, i) => {
      const left = address === undefined ? undefined : wanted.get(address);
      if (left?.length) left.pop();
      else {
        if (address !== undefined) freed.push(i);
        slots[i] = undefined;
      }
    });
    const free = slots.flatMap((a, i) => (a === undefined && !freed.includes(i) ? [i] : []));
    // fill the spare slots first, then the freed ones: an address never changes under a server that
    // was serving until this change if a spare slot can take it
    const order = [...free, ...freed];
    for (const [address, endpoints] of wanted)
      for (const e of endpoints) {
        const i = order.shift()!;
        slots[i] = address;
        for (const pool of s.pools) {
          const server = `${pool}/${s.version}-${i}`;
          // a freed slot goes to maintenance before its address changes, so that no new request
          // reaches the old endpoint under the new name
          if (freed.includes(i)) commands.push(`set server ${server} state maint`);
          commands.push(
            `set server ${server} addr ${e.host} port ${e.port}`,
            `set server ${server} state ready`,
          );
        }
      }
    for (const i of freed)
      if (slots[i] === undefined)
        for (const pool of s.pools) removals.push(`set server ${pool}/${s.version}-${i} state maint`);
    next.push({ ...s, slots });
  }
  // new endpoints serve before the ones that go stop taking requests
  return { ok: true, commands: [...commands, ...removals], next };
}

/** A reply of `set server` that is not a success. */
function refused(command: string, reply: string): boolean {
  const text = reply.trim();
  if (/ addr /.test(command)) return !/^(IP changed|no need to change)/i.test(text);
  return text !== '';
}

/**
 * Sends the commands over the stats socket in one interactive session (`prompt`: each reply ends
 * with a prompt) and resolves when every one succeeded; rejects with the first refusal, a
 * connection error or a timeout.
 */
export function runtimeCommands(
  socket: string,
  commands: readonly string[],
  timeoutMs = 10_000,
): Promise<void> {
  if (!commands.length) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const conn = net.createConnection(socket);
    let text = '';
    const timer = setTimeout(() => {
      conn.destroy();
      reject(new Error(`no answer on ${socket} within ${timeoutMs} ms`));
    }, timeoutMs);
    conn.on('connect', () => conn.write(`prompt\n${commands.join('\n')}\nquit\n`));
    conn.on('data', (d: Buffer) => (text += d.toString()));
    conn.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`${socket}: ${e.message}`));
    });
    conn.on('close', () => {
      clearTimeout(timer);
      // "\n> " after `prompt`, then each reply followed by "\n> "
      const replies = text.split('\n> ').slice(1, 1 + commands.length);
      if (replies.length < commands.length)
        return reject(new Error(`${socket} answered ${replies.length} of ${commands.length} commands`));
      const bad = commands.findIndex((c, i) => refused(c, replies[i]!));
      if (bad >= 0) return reject(new Error(`"${commands[bad]}": ${replies[bad]!.trim()}`));
      resolve();
    });
  });
}
