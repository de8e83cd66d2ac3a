import { diagnostic, type Diagnostic } from '../model/diagnostics.js';
import type { OutputFile } from '../emitters/types.js';
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
  // the complete config `apache2 -f` runs; the sites/ fragments it includes go with -o
  apache: ['httpd.conf'],
  // the file provider's dynamic configuration; traefik.yml (static) only points at it
  traefik: ['dynamic.yml'],
};

export interface StdoutChoice {
  /** The files printed, target by target, in order; a stream's documents are separated by `---`. */
  readonly printed: readonly { readonly target: string; readonly files: readonly OutputFile[] }[];
  /** Whether the printed files are one stream of YAML documents. */
  readonly stream: boolean;
  /** Per target, the files -o would write that stdout does not get. */
  readonly left: readonly { readonly target: string; readonly paths: readonly string[] }[];
}

/** Each target's choice without --file: its whole stream, its main file, or none. */
function mainOf(o: TargetOutput): { stream: boolean; files: readonly OutputFile[] } | undefined {
  if (isKubernetesOutput(o.files)) return { stream: true, files: o.files };
  if (o.files.length === 1) return { stream: false, files: o.files };
  const main = MAIN_FILES[o.target]?.map((name) => o.files.find((f) => f.path === name)).find((f) => f);
  return main ? { stream: false, files: [main] } : undefined;
}

function listed(names: readonly string[], max = 8): string {
  return names.slice(0, max).join(', ') + (names.length > max ? `, ... (${names.length - max} more)` : '');
}

/** The first `max + 1` paths of the outputs (enough for `listed`), prefixed by target when several. */
function someFiles(outputs: readonly TargetOutput[], max = 8): string[] {
  const names: string[] = [];
  for (const o of outputs)
    for (const f of o.files) {
      if (names.length > max) return names;
      names.push(`${outputs.length > 1 ? `${o.target}/` : ''}${f.path}`);
    }
  return names;
}

/** "a, b, ... (N more)" over all the outputs' files, without listing them all. */
function listedFiles(outputs: readonly TargetOutput[]): string {
  const total = outputs.reduce((n, o) => n + o.files.length, 0);
  const names = someFiles(outputs);
  return names.slice(0, 8).join(', ') + (total > 8 ? `, ... (${total - 8} more)` : '');
}

/**
 * What stdout gets, or the diagnostic saying why it cannot choose: MG4011 when several targets'
 * files would be mixed (or a target has no main file) and no --file picks one, MG4012 when --file
 * names no file of the rendered targets.
 */
export function chooseStdout(outputs: readonly TargetOutput[], file?: string): StdoutChoice | Diagnostic {
  const printed: { target: string; files: readonly OutputFile[] }[] = [];
  let stream = false;
  if (file !== undefined) {
    const matches = outputs.flatMap((o) =>
      o.files
        .filter((f) => f.path === file || `${o.target}/${f.path}` === file)
        .map((f) => ({ target: o.target, f })),
    );
    if (matches.length === 0)
      return diagnostic('MG4012', `--file ${file}: no rendered file has that name`, {
        hint: `the files: ${listedFiles(outputs)}`,
      });
    if (matches.length > 1)
      return diagnostic('MG4011', `--file ${file}: ${matches.length} targets write a file of that name`, {
        hint: `name one with its target: ${matches.map((m) => `--file ${m.target}/${m.f.path}`).join(', ')}`,
      });
    printed.push({ target: matches[0]!.target, files: [matches[0]!.f] });
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
        hint: `the files: ${listedFiles(outputs)}`,
      });
    }
    stream = streams.length > 0;
    for (const { o, main } of mains) printed.push({ target: o.target, files: main!.files });
  }
  const left = outputs
    .map((o) => {
      const shown = printed.find((p) => p.target === o.target)?.files;
      if (shown === o.files) return { target: o.target, paths: [] };
      const names = new Set(shown?.map((f) => f.path));
      return { target: o.target, paths: o.files.map((f) => f.path).filter((p) => !names.has(p)) };
    })
    .filter((l) => l.paths.length > 0);
  return { printed, stream, left };
}

/** The line stderr gets about what stdout did not: `-o <dir> would also write haproxy/hosts`. */
export function leftLine(choice: StdoutChoice): string | undefined {
  const names = choice.left.flatMap((l) => l.paths.map((p) => `${l.target}/${p}`));
  if (!names.length) return undefined;
  const shown = choice.printed.flatMap((p) => p.files.slice(0, 4).map((f) => `${p.target}/${f.path}`));
  return `stdout: ${listed(shown, 3)}; -o <dir> would also write ${listed(names, 5)} (--file NAME prints another)`;
}

/** How much text goes to the stream in one write: big enough to be cheap, small enough to bound memory. */
const CHUNK = 1 << 20;
/** How many chunk buffers take turns (at most BUFFERS x CHUNK bytes held for the stream). */
const BUFFERS = 4;

/**
 * Writes the texts to a stream, `separator` between each two, in chunks of about CHUNK characters,
 * waiting for 'drain' when the stream asks (backpressure), without joining them into one string.
 * Returns 'closed' when the reader went away (EPIPE: `| head -1`), which ends the command quietly,
 * as Unix tools do.
 */
export async function writeChunked(
  stream: NodeJS.WritableStream & { destroyed?: boolean },
  texts: readonly string[],
  separator = '',
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
  // pieces are encoded straight into a chunk-sized buffer: one copy, no joined string. A few
  // buffers take turns, each reused once the stream has written it: a fresh buffer per chunk cost
  // about as much again as the encoding (new pages, and external memory for the GC to account).
  const buffers = [Buffer.allocUnsafe(CHUNK)];
  const written: (Promise<void> | undefined)[] = [undefined];
  let turn = 0;
  let buffer = buffers[0]!;
  let used = 0;
  const send = async (bytes: Buffer, done?: () => void) => {
    if (!stream.write(bytes, done) && !closed && !stream.destroyed) await drained();
  };
  const flush = async () => {
    if (!used || closed) return;
    const full = buffer.subarray(0, used);
    let done!: () => void;
    written[turn] = new Promise<void>((resolve) => {
      done = resolve;
      // a stream closed or failing under a write need not call back before the wait below
      stream.once('close', resolve);
      stream.once('error', resolve);
    }).then(() => {
      stream.off('close', done);
      stream.off('error', done);
    });
    turn = (turn + 1) % BUFFERS;
    used = 0;
    await send(full, () => done());
    if (turn === buffers.length) {
      buffers.push(Buffer.allocUnsafe(CHUNK));
      written.push(undefined);
    } else await written[turn];
    buffer = buffers[turn]!;
  };
  // the separator's bytes are copied as they are: a hundred thousand documents' `---` lines cost
  // more as encoded strings than the copy
  const sep = Buffer.from(separator);
  for (let i = 0; i < texts.length; i++) {
    if (closed || stream.destroyed) break;
    if (i > 0 && sep.length) {
      if (sep.length > CHUNK - used) await flush();
      if (sep.length <= CHUNK - used) for (let j = 0; j < sep.length; j++) buffer[used++] = sep[j]!;
      else await send(sep);
    }
    const piece = texts[i]!;
    // at most 3 bytes per UTF-16 unit: most pieces fit without measuring them
    const bytes = piece.length * 3 <= CHUNK - used ? piece.length : Buffer.byteLength(piece);
    if (bytes > CHUNK - used) await flush();
    if (bytes <= CHUNK - used) used += buffer.write(piece, used);
    else {
      // a piece larger than a chunk goes out in chunk-sized slices of its own encoding
      const whole = Buffer.from(piece);
      for (let at = 0; at < whole.length && !closed; at += CHUNK) await send(whole.subarray(at, at + CHUNK));
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

/**
 * The texts of the printed files, in order, and what goes between each two: a stream's documents
 * are separated by `---`.
 */
export function stdoutTexts(choice: StdoutChoice): { texts: string[]; separator: string } {
  const texts: string[] = [];
  for (const p of choice.printed) for (const f of p.files) texts.push(f.contents);
  return { texts, separator: choice.stream ? '---\n' : '' };
}
