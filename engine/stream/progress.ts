/**
 * A one-line progress bar on stderr, drawn only when stderr is a TTY (so logs and CI output stay
 * clean). Redraws at most every `intervalMs`; `now` is injected so tests need no real clock.
 */
export interface Progress {
  update(bytes: number, lines: number): void;
  done(): void;
}

export interface ProgressOptions {
  /** total bytes when known (a file); null for stdin. */
  total: number | null;
  label: string;
  now: () => number;
  /** where to draw; defaults to process.stderr. */
  out?: { isTTY?: boolean; write(s: string): unknown; columns?: number };
  intervalMs?: number;
  /** draw even when `out` is not a TTY (tests). */
  force?: boolean;
}

const NOOP: Progress = { update() {}, done() {} };

export function createProgress(opts: ProgressOptions): Progress {
  const out = opts.out ?? process.stderr;
  if (!opts.force && !out.isTTY) return NOOP;
  const interval = opts.intervalMs ?? 200;
  const start = opts.now();
  let last = -Infinity;
  let drawn = false;
  const draw = (bytes: number, lines: number): void => {
    const elapsed = Math.max(1, opts.now() - start) / 1000;
    const rate = `${(bytes / 1e6 / elapsed).toFixed(1)} MB/s`;
    const count = `${lines.toLocaleString('en-US')} lines`;
    let bar = '';
    if (opts.total && opts.total > 0) {
      const f = Math.min(1, bytes / opts.total);
      const width = 24;
      const full = Math.round(f * width);
      bar = `[${'#'.repeat(full)}${'-'.repeat(width - full)}] ${(f * 100).toFixed(0).padStart(3)}% `;
    }
    out.write(`\r${opts.label} ${bar}${count} ${rate}\x1b[K`);
    drawn = true;
  };
  let lastBytes = 0;
  let lastLines = 0;
  return {
    update(bytes, lines) {
      lastBytes = bytes;
      lastLines = lines;
      const t = opts.now();
      if (t - last < interval) return;
      last = t;
      draw(bytes, lines);
    },
    done() {
      if (!drawn) return;
      draw(lastBytes, lastLines);
      out.write('\n');
    },
  };
}
