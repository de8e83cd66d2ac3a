import fs from 'node:fs';

export interface AccessLogger {
  write(line: string): void;
  close(): void;
}

/** Access log sinks by path; /dev/stdout and /dev/stderr go to the process streams. */
export function openLogger(path: string): AccessLogger {
  if (path === '/dev/stdout') return { write: (l) => void process.stdout.write(l), close: () => {} };
  if (path === '/dev/stderr') return { write: (l) => void process.stderr.write(l), close: () => {} };
  if (path === '/dev/null') return { write: () => {}, close: () => {} };
  const s = fs.createWriteStream(path, { flags: 'a' });
  s.on('error', () => {});
  return { write: (l) => void s.write(l), close: () => s.end() };
}
