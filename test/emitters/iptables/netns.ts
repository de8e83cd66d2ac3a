import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { startProcess, waitFor, type Started } from '../../support/processes.js';

/**
 * Network namespaces made by the tests: every netfilter check and every connection runs inside one,
 * so nothing touches the host's rules or leaves the machine. Names are unique per run.
 */
export interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command with a bounded time, collecting its output. */
function run(
  cmd: string,
  args: readonly string[],
  options: { input?: string; timeoutMs?: number } = {},
): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.pid && child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
    if (child.stdin) {
      child.stdin.on('error', () => undefined); // a command that exits without reading its input
      child.stdin.end(options.input);
    }
  });
}

async function ok(cmd: string, args: readonly string[], input?: string): Promise<string> {
  const r = await run(cmd, args, { input });
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

export class Netns {
  private constructor(readonly name: string) {}

  /** Creates `mg-test-<random>` with its loopback up. */
  static async create(): Promise<Netns> {
    const ns = new Netns(`mg-test-${randomBytes(5).toString('hex')}`);
    await ok('ip', ['netns', 'add', ns.name]);
    await ns.sh('ip', 'link', 'set', 'lo', 'up');
    return ns;
  }

  exec(args: readonly string[], options: { input?: string; timeoutMs?: number } = {}): Promise<Ran> {
    return run('ip', ['netns', 'exec', this.name, ...args], options);
  }

  /** Runs a command in the namespace and fails on a non-zero exit. */
  sh(...args: string[]): Promise<string> {
    return ok('ip', ['netns', 'exec', this.name, ...args]);
  }

  /** Feeds a file to a command in the namespace (`iptables-restore`, `nft -f -`). */
  pipe(input: string, ...args: string[]): Promise<Ran> {
    return this.exec(args, { input });
  }

  /** Starts a long-running process in the namespace; ip netns exec execs it, so the pid is its own. */
  start(args: readonly string[]): Started {
    return startProcess('ip', ['netns', 'exec', this.name, ...args]);
  }

  async delete(): Promise<void> {
    await run('ip', ['netns', 'delete', this.name]);
  }
}

/** A node script: listens on each `name=host:port` argument, answers each connection with its name and logs it. */
export const SERVER = `
const net = require('node:net');
const specs = process.argv.slice(1);
let ready = 0;
for (const spec of specs) {
  const [name, addr] = spec.split('=');
  const i = addr.lastIndexOf(':');
  const srv = net.createServer((s) => { console.log('conn ' + name + ' from ' + s.remoteAddress + ':' + s.remotePort); s.end(name); });
  srv.listen(Number(addr.slice(i + 1)), addr.slice(0, i), () => { if (++ready === specs.length) console.log('ready'); });
}
`;

/** A node script: opens N connections (20 at a time) to host:port and prints a JSON count of the answers. */
const CLIENT = `
const net = require('node:net');
const [host, port, n] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3] ?? 1)];
const counts = {};
function once() {
  return new Promise((resolve) => {
    let data = '';
    const s = net.connect({ host, port });
    s.setTimeout(1500, () => { s.destroy(); resolve('error:timeout'); });
    s.on('data', (d) => (data += d));
    s.on('end', () => resolve(data));
    s.on('error', (e) => resolve('error:' + e.code));
  });
}
(async () => {
  let left = n;
  await Promise.all(Array.from({ length: Math.min(20, n) }, async () => {
    while (left-- > 0) { const r = await once(); counts[r] = (counts[r] ?? 0) + 1; }
  }));
  console.log(JSON.stringify(counts));
})();
`;

/** Waits (bounded) until a started server prints `ready`. */
export async function waitReady(p: Started, timeoutMs = 10_000): Promise<void> {
  await waitFor(
    () => {
      if (p.child.exitCode !== null) throw new Error(`server exited before ready: ${p.output()}`);
      return p.output().includes('ready');
    },
    { what: 'the server to print ready', timeoutMs },
  );
}

/** Connects from inside a namespace, optionally as another uid (setpriv), and counts the answers. */
export async function connect(
  ns: Netns,
  host: string,
  port: number,
  options: { n?: number; uid?: number } = {},
): Promise<Record<string, number>> {
  const as =
    options.uid === undefined
      ? []
      : ['setpriv', `--reuid=${options.uid}`, `--regid=${options.uid}`, '--clear-groups'];
  const r = await ns.exec(
    [...as, process.execPath, '-e', CLIENT, host, String(port), String(options.n ?? 1)],
    { timeoutMs: 60_000 },
  );
  if (r.status !== 0) throw new Error(`client failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, number>;
}
