/**
 * Processes and ports for `meshgen test` (and the project's own tests): wait with a deadline, find
 * free ports, start a program and stop it by its pid, and start what cannot report its ports
 * (HAProxy, NGINX) on ports picked for it, picking again when one was taken in between.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';

export interface WaitOptions {
  /** What is waited for, named in the error when the deadline passes. */
  what: string;
  timeoutMs?: number;
}

/**
 * Polls `condition` until it returns something truthy (which is returned), failing after the
 * deadline with a message naming what it waited for. An error thrown by the condition ends the wait
 * at once (a process that exited will not start listening later).
 */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  { what, timeoutMs = 10_000 }: WaitOptions,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; ; i++) {
    const value = await condition();
    if (value) return value;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((next) => setTimeout(next, Math.min(10 * (i + 1), 100)));
  }
}

/** Whether something accepts a TCP connection on host:port now. */
function accepts(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

/** Waits (bounded) until something accepts TCP connections on host:port. */
export async function waitForPort(port: number, host = '127.0.0.1', timeoutMs = 10_000): Promise<void> {
  await waitFor(() => accepts(port, host), { what: `something to listen on ${host}:${port}`, timeoutMs });
}

/**
 * The ports a server can be given without racing the kernel: below the range it takes source ports
 * of outgoing connections from (and ports for listeners on port 0). A port picked inside that range
 * can become the source port of any connection the machine opens before the server binds it (a
 * load of fresh connections opens thousands); below it, only a server binding that very port can
 * take it. From 20000 up, above the ports meshes and proxy configurations tend to fix (8080, 9000,
 * 15000, 18080...), which a check such as `nginx -t` binds for a moment. Undefined where the range
 * cannot be read or leaves too little below it.
 */
function portsBelowEphemeral(): { from: number; to: number } | undefined {
  let text: string;
  try {
    text = fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8');
  } catch {
    return undefined;
  }
  const low = Number(text.trim().split(/\s+/)[0]);
  const from = 20_000;
  return Number.isInteger(low) && low - from >= 1000 ? { from, to: low - 1 } : undefined;
}

/** Listens on host:port; the server, or undefined when the port is taken. */
function tryListen(port: number, host: string): Promise<net.Server | undefined> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRINUSE' || e.code === 'EACCES') resolve(undefined);
      else reject(e);
    });
    srv.listen({ port, host, exclusive: true }, () => resolve(srv));
  });
}

/**
 * `count` different TCP ports that were free a moment ago: each is held until all are found, then
 * all are released. Nothing keeps them free afterwards, so this is only for what cannot bind port 0
 * and report the port (haproxy, nginx, a mesh file naming its ports): startOnFreePorts starts such
 * a process and picks again when a port was taken in between. The ports are picked at random below
 * the kernel's range of source ports (portsBelowEphemeral), so no outgoing connection takes one in
 * between; where that range is unknown, the kernel picks (port 0). Our own servers listen on port 0.
 */
export async function freePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const servers: net.Server[] = [];
  const range = portsBelowEphemeral();
  try {
    for (let i = 0; i < count; i++) {
      let srv: net.Server | undefined;
      // a bounded number of random picks, then the kernel's own
      for (let attempt = 0; range && !srv && attempt < 50; attempt++) {
        const port = range.from + Math.floor(Math.random() * (range.to - range.from + 1));
        srv = await tryListen(port, host);
      }
      srv ??= await tryListen(0, host);
      if (!srv) throw new Error(`no free port on ${host}`);
      servers.push(srv);
    }
    return servers.map((srv) => (srv.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(servers.map((srv) => new Promise<void>((resolve) => srv.close(() => resolve()))));
  }
}

/**
 * A port nothing listens on, for checking what a proxy does when a connection is refused. It is
 * the port of a listener just closed, below the kernel's range of source ports (freePorts): only
 * another process binding that very port in the meantime could make it accept a connection.
 */
export async function closedPort(host = '127.0.0.1'): Promise<number> {
  return (await freePorts(1, host))[0]!;
}

export interface Started {
  child: ChildProcess;
  output(): string;
  /** Stops the process by its pid: SIGTERM, then SIGKILL after a grace period. */
  stop(): Promise<void>;
}

/** Starts a process whose output is collected; stop() kills it by pid. */
export function startProcess(
  cmd: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Started {
  const child = spawn(cmd, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    output: () => out,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (child.pid) process.kill(child.pid, 'SIGTERM');
      const timer = setTimeout(
        () => child.pid && child.exitCode === null && process.kill(child.pid, 'SIGKILL'),
        3000,
      );
      await exited;
      clearTimeout(timer);
    },
  };
}

/** A failed bind, as haproxy, nginx and Node report it. */
const ADDRESS_IN_USE = /address already in use|EADDRINUSE/i;

/**
 * Starts a process that listens on ports it is given and cannot report (haproxy, nginx, a mesh
 * file's frontend): picks `count` free ports, starts `start(ports)` and waits until the ports
 * `ready(ports)` names accept connections. A port can be taken between the pick and the start; if
 * the process exits saying an address is in use, it picks again, at most `tries` times.
 */
export async function startOnFreePorts(
  count: number,
  start: (ports: number[]) => Started | Promise<Started>,
  options: { ready?: (ports: number[]) => number[]; tries?: number; timeoutMs?: number } = {},
): Promise<{ proc: Started; ports: number[] }> {
  const tries = options.tries ?? 3;
  for (let attempt = 1; ; attempt++) {
    const ports = await freePorts(count);
    const proc = await start(ports);
    const exited = () => proc.child.exitCode !== null || proc.child.signalCode !== null;
    try {
      for (const port of (options.ready ?? ((p) => p))(ports))
        await waitFor(
          async () => {
            if (exited()) throw new Error(`the process exited before listening:\n${proc.output()}`);
            return accepts(port);
          },
          { what: `the process to listen on 127.0.0.1:${port}`, timeoutMs: options.timeoutMs ?? 20_000 },
        );
      if (exited()) throw new Error(`the process exited:\n${proc.output()}`);
      return { proc, ports };
    } catch (e) {
      await proc.stop();
      if (attempt >= tries || !ADDRESS_IN_USE.test(proc.output())) throw e;
    }
  }
}
