/**
 * One status line on stderr for work that takes more than a second (rendering, writing -o,
 * issuing certificates), redrawn in place and cleared at the end, as npm and cargo do. Nothing at
 * all when stderr is not a terminal, so logs and pipes get only the diagnostics.
 *
 * `MESHGEN_PROGRESS_DELAY_MS` changes the second (tests set 0 to see the line on a small mesh).
 */
export interface Progress {
  /**
   * The current step; shown once the delay has passed, at most every 100 ms, except a new `step`
   * (not a count within one), shown at once: a synchronous step draws nothing until it ends.
   */
  update(text: string, step?: boolean): void;
  /** Clears the line (before anything else is printed on stderr). */
  done(): void;
}

const REDRAW_MS = 100;

export function startProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) return { update() {}, done() {} };
  const delay = Number(process.env.MESHGEN_PROGRESS_DELAY_MS ?? 1000);
  const start = Date.now();
  let text = '';
  let drawn = '';
  let last = 0;
  const draw = (force = false) => {
    const now = Date.now();
    if (!text || now - start < delay || (!force && now - last < REDRAW_MS) || text === drawn) return;
    last = now;
    drawn = text;
    stream.write(`\r\x1b[K${fit(text, (stream.columns || 80) - 1)}`);
  };
  // an async step (writing files) redraws between updates; a synchronous one draws from update()
  const timer = setInterval(() => draw(true), REDRAW_MS);
  timer.unref();
  return {
    update(next, step) {
      text = next;
      draw(step);
    },
    done() {
      clearInterval(timer);
      if (drawn) stream.write('\r\x1b[K');
      drawn = '';
      text = '';
    },
  };
}

/**
 * The line cut to the terminal's width in its middle, so that both the step's name and its end (the
 * count of files written, the file read) stay in view when a long path would push them out.
 */
export function fit(text: string, width: number): string {
  if (text.length <= width) return text;
  if (width < 3) return text.slice(0, Math.max(0, width));
  const head = Math.floor(width / 3);
  return `${text.slice(0, head)}…${text.slice(text.length - (width - head - 1))}`;
}
