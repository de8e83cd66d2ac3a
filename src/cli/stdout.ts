import { diagnostic, type Diagnostic } from '../model/diagnostics.js';
import type { TargetOutput } from '../render.js';
import { isKubernetesOutput } from './layout.js';

/**
 * Without -o, stdout gets what a tool reads: a Kubernetes target's objects as one multi-document
 * stream (`kubectl apply -f -`), another target's main file (below), or the file `--file` names.
 * The other files are only written by -o; stderr names them.
 */
const MAIN_FILES: Readonly<Record<string, readonly string[]>> = {
  haproxy: ['haproxy.cfg'],
  nginx: ['nginx.conf'],
  // the gateway's bootstrap, in the format chosen (`--output-format yaml|json`)
  envoy: ['gateway.yaml', 'gateway.json'],
};

export interface StdoutChoice {
  /** The files printed, in order; YAML documents of a stream are separated by `---`. */
  readonly printed: readonly { readonly target: string; readonly path: string; readonly contents: string }[];
  /** Whether the printed files are one stream of YAML documents. */
  readonly stream: boolean;
  /** Per target, the files -o would write that stdout does not get. */
  readonly left: readonly { readonly target: string; readonly paths: readonly string[] }[];
}

/** Each target's choice without --file: its whole stream, its main file, or none. */
function mainOf(o: TargetOutput): { stream: boolean; paths: string[] } | undefined {
  if (o.files.length === 1) return { stream: isKubernetesOutput(o.files), paths: [o.files[0]!.path] };
  if (isKubernetesOutput(o.files)) return { stream: true, paths: o.files.map((f) => f.path) };
  const main = MAIN_FILES[o.target]?.find((name) => o.files.some((f) => f.path === name));
  return main ? { stream: false, paths: [main] } : undefined;
}

function listed(names: readonly string[], max = 8): string {
  return names.slice(0, max).join(', ') + (names.length > max ? `, ... (${names.length - max} more)` : '');
}

/**
 * What stdout gets, or the diagnostic saying why it cannot choose: MG4011 when several targets'
 * files would be mixed (or a target has no main file) and no --file picks one, MG4012 when --file
 * names no file of the rendered targets.
 */
export function chooseStdout(outputs: readonly TargetOutput[], file?: string): StdoutChoice | Diagnostic {
  const all = outputs.flatMap((o) =>
    o.files.map((f) => `${outputs.length > 1 ? `${o.target}/` : ''}${f.path}`),
  );
  const picked: { target: string; path: string; contents: string }[] = [];
  let stream = false;
  if (file !== undefined) {
    const matches = outputs.flatMap((o) =>
      o.files
        .filter((f) => f.path === file || `${o.target}/${f.path}` === file)
        .map((f) => ({ target: o.target, ...f })),
    );
    if (matches.length === 0)
      return diagnostic('MG4012', `--file ${file}: no rendered file has that name`, {
        hint: `the files: ${listed(all)}`,
      });
    if (matches.length > 1)
      return diagnostic('MG4011', `--file ${file}: ${matches.length} targets write a file of that name`, {
        hint: `name one with its target: ${matches.map((m) => `--file ${m.target}/${m.path}`).join(', ')}`,
      });
    picked.push(matches[0]!);
  } else {
    const mains = outputs.map((o) => ({ o, main: mainOf(o) }));
    const without = mains.filter((m) => !m.main);
    const streams = mains.filter((m) => m.main?.stream);
    // Kubernetes streams concatenate into one; anything else is one file of one target
    if (without.length || (outputs.length > 1 && streams.length !== outputs.length)) {
      const why = without.length
        ? `${without.map((m) => m.o.target).join(', ')} ${without.length === 1 ? 'writes' : 'write'} several files and none is the main one`
        : `stdout would mix the files of ${outputs.map((o) => o.target).join(', ')}`;
      return diagnostic('MG4011', `${why}: choose one with --file, or write them all with -o <dir>`, {
        hint: `the files: ${listed(all)}`,
      });
    }
    stream = streams.length > 0;
    for (const { o, main } of mains) {
      const byPath = new Map(o.files.map((f) => [f.path, f.contents]));
      for (const p of main!.paths) picked.push({ target: o.target, path: p, contents: byPath.get(p)! });
    }
  }
  const printed = new Set(picked.map((p) => `${p.target}/${p.path}`));
  const left = outputs
    .map((o) => ({
      target: o.target,
      paths: o.files.map((f) => f.path).filter((p) => !printed.has(`${o.target}/${p}`)),
    }))
    .filter((l) => l.paths.length > 0);
  return { printed: picked, stream, left };
}

/** The line stderr gets about what stdout did not: `-o <dir> would also write haproxy/hosts`. */
export function leftLine(choice: StdoutChoice): string | undefined {
  const names = choice.left.flatMap((l) => l.paths.map((p) => `${l.target}/${p}`));
  if (!names.length) return undefined;
  const shown = choice.printed.map((p) => `${p.target}/${p.path}`);
  return `stdout: ${listed(shown, 3)}; -o <dir> would also write ${listed(names, 5)} (--file NAME prints another)`;
}

/** How much text goes to the stream in one write: big enough to be cheap, small enough to bound memory. */
const CHUNK = 1 << 20;

/**
 * Writes the pieces to a stream in chunks of about CHUNK characters, waiting for 'drain' when the
 * stream asks (backpressure), without joining them into one string. Returns 'closed' when the reader
 * went away (EPIPE: `| head -1`), which ends the command quietly, as Unix tools do.
 */
export async function writeChunked(
  stream: NodeJS.WritableStream & { destroyed?: boolean },
  pieces: Iterable<string>,
): Promise<'done' | 'closed'> {
  let closed = false;
  let failure: Error | undefined;
  const onError = (e: NodeJS.ErrnoException) => {
    // a closed pipe, or a write after it: the reader has gone; anything else is thrown below
    if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') closed = true;
    else failure ??= e;
    closed = true;
  };
  stream.on('error', onError);
  const drained = () =>
    new Promise<void>((resolve) => {
      const done = () => {
        stream.off('drain', done);
        stream.off('close', done);
        resolve();
      };
      stream.on('drain', done);
      stream.on('close', done);
    });
  let buffer: string[] = [];
  let size = 0;
  const flush = async () => {
    if (!size || closed) return;
    const text = buffer.length === 1 ? buffer[0]! : buffer.join('');
    buffer = [];
    size = 0;
    if (!stream.write(text) && !closed && !stream.destroyed) await drained();
  };
  for (const piece of pieces) {
    if (closed || stream.destroyed) break;
    for (let at = 0; at < piece.length; at += CHUNK) {
      const part = at === 0 && piece.length <= CHUNK ? piece : piece.slice(at, at + CHUNK);
      buffer.push(part);
      size += part.length;
      if (size >= CHUNK) await flush();
      if (closed) break;
    }
  }
  await flush();
  // an EPIPE of the last write arrives after it returned: wait for the write to settle
  if (!closed && !stream.destroyed) await new Promise<void>((resolve) => stream.write('', () => resolve()));
  stream.off('error', onError);
  if (failure) throw failure;
  // later writes to a closed pipe must not raise either
  if (closed) stream.on('error', () => undefined);
  return closed ? 'closed' : 'done';
}

/** The text of the printed files, piece by piece: a stream's documents separated by `---`. */
export function* stdoutPieces(choice: StdoutChoice): Generator<string> {
  let first = true;
  for (const p of choice.printed) {
    if (!first && choice.stream) yield '---\n';
    first = false;
    yield p.contents;
  }
}
