import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { distCli, runCli } from '../../support/cli.js';
import { startProcess, waitFor, type Started } from '../../support/processes.js';
import { request } from '../helpers.js';

/** `meshgen proxy`'s configuration errors as the built CLI prints them: located, like the mesh's. */
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshgen-proxy-diag-'));
const procs: Started[] = [];
afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop()));
});

const GOOD = `static_resources:
  listeners:
  - name: http
    address:
      socket_address: { address: 127.0.0.1, port_value: 0 }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress
          route_config:
            virtual_hosts:
            - name: v
              domains: ["*"]
              routes:
              - match: { prefix: / }
                direct_response: { status: 200, body: { inline_string: one } }
          http_filters:
          - name: envoy.filters.http.router
            typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }
`;

/** GOOD with a field Envoy's listener has and the proxy does not (line 4), and a misspelt one (line 12). */
const BAD = GOOD.replace('  - name: http\n', '  - name: http\n    tcp_backlog_size: 1024\n').replace(
  '          stat_prefix: ingress\n',
  '          stat_prefix: ingress\n          generate_request_idd: true\n',
);

function write(name: string, text: string): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
}

/** What `meshgen proxy` prints for BAD in file f, in text. */
const badText = (f: string) =>
  [
    `${f}:4:5: error MG5003: /static_resources/listeners/0/tcp_backlog_size: field tcp_backlog_size of envoy.config.listener.v3.Listener is not implemented by meshgen proxy`,
    '    4 |     tcp_backlog_size: 1024',
    '      |     ^~~~~~~~~~~~~~~~',
    `${f}:13:11: error MG5002: /static_resources/listeners/0/filter_chains/0/filters/0/typed_config/generate_request_idd: unknown field "generate_request_idd" in envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager`,
    '   13 |           generate_request_idd: true',
    '      |           ^~~~~~~~~~~~~~~~~~~~',
    '2 errors',
    '',
  ].join('\n');

describe('meshgen proxy --mode validate', () => {
  it('says OK and exits 0 for a valid bootstrap', () => {
    const f = write('good.yaml', GOOD);
    const r = runCli(['proxy', '-c', f, '--mode', 'validate']);
    expect(r).toMatchObject({ status: 0, stderr: `configuration '${f}' OK\n` });
  });

  it("prints Envoy's warnings, located, and still says OK", () => {
    const f = write(
      'warn.yaml',
      GOOD.replace('stat_prefix: ingress\n', 'stat_prefix: ingress\n          codec_type: auto\n'),
    );
    const r = runCli(['proxy', '-c', f, '--mode', 'validate']);
    expect(r.stderr).toBe(
      [
        `${f}:12:23: warning MG5005: /static_resources/listeners/0/filter_chains/0/filters/0/typed_config/codec_type: enum value auto is not canonical (AUTO)`,
        '   12 |           codec_type: auto',
        '      |                       ^~~~',
        '1 warning',
        `configuration '${f}' OK`,
        '',
      ].join('\n'),
    );
    expect(r.status).toBe(0);
  });

  it('prints every error at once, each at its line and column with the source line and a caret', () => {
    const f = write('bad.yaml', BAD);
    const r = runCli(['proxy', '-c', f, '--mode', 'validate']);
    expect(r.stderr).toBe(badText(f));
    expect(r.status).toBe(1);
  });

  it('prints them as JSON with --format json, as meshgen validate does', () => {
    const f = write('bad.yaml', BAD);
    const r = runCli(['proxy', '-c', f, '--mode', 'validate', '--format', 'json']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual([
      {
        code: 'MG5003',
        severity: 'error',
        message: expect.stringContaining('field tcp_backlog_size'),
        pointer: '/static_resources/listeners/0/tcp_backlog_size',
        file: f,
        line: 4,
        column: 5,
        endLine: 4,
        endColumn: 21,
      },
      expect.objectContaining({
        code: 'MG5002',
        pointer: '/static_resources/listeners/0/filter_chains/0/filters/0/typed_config/generate_request_idd',
        line: 13,
        column: 11,
      }),
    ]);
    const ok = runCli(['proxy', '-c', write('good.yaml', GOOD), '--mode', 'validate', '--format', 'json']);
    expect(ok).toMatchObject({ status: 0, stdout: '[]\n' });
  });

  it('reports every YAML syntax error, located, and a missing file, without a stack trace', () => {
    const f = write('syntax.yaml', 'node: { id: a, id: b }\nstatic_resources:\n  clusters: [\n');
    const r = runCli(['proxy', '-c', f, '--mode', 'validate']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${f}:1:16: error MG5001: syntax error: Map keys must be unique`);
    expect(r.stderr).toContain(`${f}:3:14: error MG5001: syntax error:`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const missing = runCli(['proxy', '-c', path.join(dir, 'none.yaml'), '--mode', 'validate']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toBe(
      `${path.join(dir, 'none.yaml')}: error MG4001: cannot read ${path.join(dir, 'none.yaml')}: no such file\n1 error\n`,
    );
  });
});

describe('meshgen proxy serving', () => {
  it('refuses to start on a bad bootstrap, printing the same diagnostics', () => {
    const f = write('start.yaml', BAD);
    const r = runCli(['proxy', '-c', f]);
    expect(r.stderr).toBe(badText(f));
    expect(r.status).toBe(1);
  });

  it('prints a refused reload as located diagnostics and keeps serving', async () => {
    const f = write('reload.yaml', GOOD);
    const p = startProcess(process.execPath, [distCli(), 'proxy', '-c', f], {
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined },
    });
    procs.push(p);
    const m = await waitFor(() => /serving .*?on 127\.0\.0\.1:(\d+)/.exec(p.output()), {
      what: 'meshgen proxy to say where it serves',
      timeoutMs: 30_000,
    });
    const port = Number(m[1]);
    write('reload.yaml', BAD);
    p.child.kill('SIGHUP');
    await waitFor(() => p.output().includes('2 errors\n'), { what: 'the refused reload to be reported' });
    const after = p.output().slice(p.output().indexOf('meshgen proxy: reload rejected'));
    expect(after).toBe(
      `meshgen proxy: reload rejected, still serving the previous configuration\n${badText(f)}`,
    );
    expect((await request(port, '/')).body).toBe('one');
  });
});
