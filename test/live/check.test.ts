import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseCheck, runCheck } from '../../src/live/check.js';
import { startBackend, type TestBackend } from '../support/backends.js';
import { closedPort } from '../support/processes.js';

describe('parseCheck', () => {
  it('reads http:/path and tcp, nothing else', () => {
    expect(parseCheck('http:/healthz')).toEqual({ kind: 'http', path: '/healthz' });
    expect(parseCheck('tcp')).toEqual({ kind: 'tcp' });
    expect(parseCheck('http:healthz')).toBeUndefined();
    expect(parseCheck('http:/a b')).toBeUndefined();
    expect(parseCheck('udp')).toBeUndefined();
  });
});

describe('runCheck', () => {
  let backend: TestBackend | undefined;
  afterEach(async () => {
    await backend?.close();
  });

  it('passes on an answer below 400 and fails on 503, naming the status', async () => {
    backend = await startBackend('api', 'v1');
    expect(await runCheck({ kind: 'http', path: '/healthz' }, backend.address, 1000)).toBeUndefined();
    expect(backend.seen.map((s) => s.path)).toEqual(['/healthz']);
    backend.behave({ status: 503 });
    expect(await runCheck({ kind: 'http', path: '/healthz' }, backend.address, 1000)).toContain('503');
  });

  it('fails on a refused connection and on no answer within the timeout', async () => {
    const port = await closedPort();
    expect(await runCheck({ kind: 'tcp' }, `127.0.0.1:${port}`, 1000)).toMatch(/ECONNREFUSED/);
    backend = await startBackend('api', 'v1');
    backend.behave({ delayMs: 2000 });
    expect(await runCheck({ kind: 'http', path: '/' }, backend.address, 200)).toContain(
      'no answer within 200 ms',
    );
  });

  it('passes a tcp check on a listening port', async () => {
    const srv = net.createServer((s) => s.destroy());
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const { port } = srv.address() as net.AddressInfo;
    expect(await runCheck({ kind: 'tcp' }, `127.0.0.1:${port}`, 1000)).toBeUndefined();
    await new Promise((r) => srv.close(r));
  });
});
