import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { render } from '../../../src/render.js';
import type { Started } from '../../support/processes.js';
import { hasBinary } from '../../support/processes.js';
import { meshFrom } from '../../support/meshes.js';
import { connect, Netns, SERVER, waitReady } from './netns.js';

/**
 * A sidecar plan applied for real: the workload's namespace and a peer joined by a veth pair
 * (10.123.0.1 and 10.123.0.2, nothing else routed). Stand-in proxies listen on the plan's ports and
 * answer with their name, so each connection says where it landed.
 */
const ready = hasBinary('ip') && hasBinary('iptables-restore') && hasBinary('nft') && hasBinary('setpriv');

const MESH = `
apiVersion: meshgen.io/v1alpha1
kind: Mesh
metadata: { name: side }
spec:
  namespace: side
  backends:
    - name: web
      port: 9080
      versions:
        - { name: v1, endpoints: ["127.0.0.1:19080"] }
`;
const SETTINGS = {
  proxyUid: '1337',
  inboundPort: '15106',
  outboundPort: '15101',
  excludeOutboundPorts: '9081',
  excludeOutboundCidrs: '10.123.0.3/32',
};
const APP_UID = 1000;

describe.skipIf(!ready).each(['iptables', 'nft'] as const)('a sidecar plan applied with %s', (form) => {
  let pod: Netns;
  let peer: Netns;
  const servers: Started[] = [];

  beforeAll(async () => {
    pod = await Netns.create();
    peer = await Netns.create();
    await pod.sh('ip', 'link', 'add', 'mg0', 'type', 'veth', 'peer', 'name', 'mg1', 'netns', peer.name);
    await pod.sh('ip', 'addr', 'add', '10.123.0.1/24', 'dev', 'mg0');
    await pod.sh('ip', 'link', 'set', 'mg0', 'up');
    await peer.sh('ip', 'addr', 'add', '10.123.0.2/24', 'dev', 'mg1');
    await peer.sh('ip', 'addr', 'add', '10.123.0.3/24', 'dev', 'mg1');
    await peer.sh('ip', 'link', 'set', 'mg1', 'up');
    servers.push(
      pod.start([
        process.execPath,
        '-e',
        SERVER,
        'proxy-outbound=0.0.0.0:15101',
        'proxy-inbound=0.0.0.0:15106',
        'app-other-port=0.0.0.0:7000',
      ]),
      peer.start([process.execPath, '-e', SERVER, 'direct-9080=0.0.0.0:9080', 'direct-9081=0.0.0.0:9081']),
    );
    for (const s of servers) await waitReady(s);
  });

  afterAll(async () => {
    for (const s of servers) await s.stop();
    await pod?.delete();
    await peer?.delete();
  });

  it('reaches the peer directly before the plan is applied (the control)', async () => {
    expect(await connect(pod, '10.123.0.2', 9080, { uid: APP_UID })).toEqual({ 'direct-9080': 1 });
  });

  it('applies', async () => {
    const files = render(meshFrom(MESH), { targets: ['iptables'], settings: SETTINGS }).outputs[0]!.files;
    const plan = files.find((f) => f.path === `web.${form}`)!.contents;
    const r =
      form === 'nft' ? await pod.pipe(plan, 'nft', '-f', '-') : await pod.pipe(plan, 'iptables-restore');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it("sends the application's outbound connection to the outbound proxy port", async () => {
    expect(await connect(pod, '10.123.0.2', 9080, { uid: APP_UID, n: 5 })).toEqual({ 'proxy-outbound': 5 });
  });

  it("lets the proxy uid's own connection through to the peer", async () => {
    expect(await connect(pod, '10.123.0.2', 9080, { uid: 1337, n: 5 })).toEqual({ 'direct-9080': 5 });
  });

  it('lets excluded outbound ports and CIDRs through', async () => {
    expect(await connect(pod, '10.123.0.2', 9081, { uid: APP_UID })).toEqual({ 'direct-9081': 1 });
    expect(await connect(pod, '10.123.0.3', 9080, { uid: APP_UID })).toEqual({ 'direct-9080': 1 });
  });

  it('leaves loopback connections alone', async () => {
    expect(await connect(pod, '127.0.0.1', 7000, { uid: APP_UID })).toEqual({ 'app-other-port': 1 });
  });

  it("sends inbound connections to the backend's port to the inbound proxy port, and no others", async () => {
    expect(await connect(peer, '10.123.0.1', 9080, { n: 5 })).toEqual({ 'proxy-inbound': 5 });
    expect(await connect(peer, '10.123.0.1', 7000)).toEqual({ 'app-other-port': 1 });
  });

  it('logged every connection on the server that answered it', () => {
    const log = servers.map((s) => s.output()).join('');
    expect(log.match(/^conn proxy-outbound from /gm)?.length).toBe(5);
    expect(log.match(/^conn proxy-inbound from 10\.123\.0\.2:/gm)?.length).toBe(5);
  });
});
