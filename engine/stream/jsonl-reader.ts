import { isAscii } from 'node:buffer';
import { createReadStream, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { UnreadableInputError } from './errors';
import { createProgress, type Progress } from './progress';

/**
 * Streams a JSONL (or any line-based) input line by line, with 1-based line numbers, in bounded
 * memory: it holds one read chunk plus at most one partial line, and a line longer than
 * `maxLineBytes` is reported (as `tooLong`) and skipped instead of being buffered.
 *
 * The callback is synchronous on purpose: it keeps the hot loop free of per-line promises, which
 * is what lets learn and diff run at hundreds of thousands of lines per second.
 */
export interface LineHandler {
  line(text: string, lineNo: number): void;
  /**
   * Optional, for hot loops: the line is `text.slice(start, end)` (without its CR/LF). When the
   * handler has it, the lines of an all-ASCII stretch of a chunk are decoded as one string and
   * passed this way, so no string is made per line; other lines still go to `line`. Substrings of
   * `text` keep the whole chunk alive in V8: copy what you keep past the call.
   */
  lineAt?(text: string, start: number, end: number, lineNo: number): void;
  /** a line over the size limit; it was not buffered. */
  tooLong?(lineNo: number, bytes: number): void;
}

export interface ReadOptions {
  maxLineBytes?: number;
  chunkBytes?: number;
  /** draw a progress bar on stderr when it is a TTY. */
  progress?: boolean | Progress;
  now?: () => number;
  label?: string;
  /** bytes decoded at once for a `lineAt` handler (default 64 KiB); small values are for tests */
  segmentBytes?: number;
  /** for tests and stdin: read from this stream instead of opening `input`. */
  stream?: Readable;
}

export interface ReadResult {
  lines: number;
  bytes: number;
  /** lines skipped because they exceeded maxLineBytes. */
  tooLong: number;
}

export const DEFAULT_MAX_LINE_BYTES = 1 << 20;
const NL = 0x0a;
const DEFAULT_SEGMENT_BYTES = 64 * 1024;
const CR = 0x0d;

/** `input` is a file path, or "-" for stdin. Rejects with UnreadableInputError when it cannot be read. */
export async function readLines(input: string, handler: LineHandler, opts: ReadOptions = {}): Promise<ReadResult> {
  const maxLine = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  let total: number | null = null;
  let stream: Readable;
  if (opts.stream) {
    stream = opts.stream;
  } else if (input === '-') {
    stream = process.stdin;
  } else {
    try {
      const st = statSync(input);
      if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
      total = st.size;
    } catch (cause) {
      throw new UnreadableInputError(input, { cause });
    }
    stream = createReadStream(input, { highWaterMark: opts.chunkBytes ?? 1 << 20 });
  }
  const progress: Progress = typeof opts.progress === 'object'
    ? opts.progress
    : opts.progress
      ? createProgress({ total, label: opts.label ?? 'reading', now: opts.now ?? Date.now })
      : { update() {}, done() {} };

  let lineNo = 0;
  let bytes = 0;
  let tooLong = 0;
  // A partial line carried over from the previous chunk (null when none).
  let carry: Buffer | null = null;
  // True while skipping the rest of an over-long line.
  let skipping = false;
  let skipBytes = 0;

  const lineAt = handler.lineAt;
  const segment = opts.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
  const emit = (buf: Buffer, start: number, end: number): void => {
    lineNo++;
    if (end > start && buf[end - 1] === CR) end--;
    handler.line(buf.toString('utf8', start, end), lineNo);
  };
  const overLong = (size: number): void => {
    lineNo++;
    tooLong++;
    handler.tooLong?.(lineNo, size);
  };

  try {
    for await (const chunk of stream as AsyncIterable<Buffer | string>) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      bytes += buf.length;
      let pos = 0;
      if (skipping || carry) {
        const nl = buf.indexOf(NL);
        const upto = nl === -1 ? buf.length : nl;
        if (skipping) {
          skipBytes += upto;
          if (nl === -1) { progress.update(bytes, lineNo); continue; }
          skipping = false;
          overLong(skipBytes);
        } else if (carry) {
          if (carry.length + upto > maxLine) {
            skipBytes = carry.length + upto;
            carry = null;
            if (nl === -1) { skipping = true; progress.update(bytes, lineNo); continue; }
            overLong(skipBytes);
          } else if (nl === -1) {
            carry = Buffer.concat([carry, buf]);
            progress.update(bytes, lineNo);
            continue;
          } else {
            const joined = Buffer.concat([carry, buf.subarray(0, nl)]);
            carry = null;
            emit(joined, 0, joined.length);
          }
        }
        pos = nl + 1;
      }
      // complete lines, in segments of up to `segment` bytes: an all-ASCII segment is decoded once
      // (latin1 is UTF-8 on ASCII) and its lines passed by offset; a segment with other bytes goes
      // line by line. Small segments keep the decoded strings in the young generation.
      const lastNl = lineAt !== undefined && pos < buf.length ? buf.lastIndexOf(NL) : -1;
      while (pos < lastNl) {
        let segEnd = lastNl;
        if (segEnd - pos > segment) {
          segEnd = buf.lastIndexOf(NL, pos + segment);
          if (segEnd < pos) break; // one line longer than a segment: the loop below takes it
        }
        const ascii = isAscii(buf.subarray(pos, segEnd));
        const text = ascii ? buf.toString('latin1', pos, segEnd) : '';
        const base = pos;
        for (;;) {
          const nl = buf.indexOf(NL, pos);
          if (nl === -1 || nl > segEnd) break;
          if (nl - pos > maxLine) {
            overLong(nl - pos);
          } else if (!ascii) {
            emit(buf, pos, nl);
          } else {
            lineNo++;
            let end = nl;
            if (end > pos && buf[end - 1] === CR) end--;
            lineAt!.call(handler, text, pos - base, end - base, lineNo);
          }
          pos = nl + 1;
        }
      }
      for (;;) {
        const nl = buf.indexOf(NL, pos);
        if (nl === -1) break;
        if (nl - pos > maxLine) overLong(nl - pos);
        else emit(buf, pos, nl);
        pos = nl + 1;
      }
      if (pos < buf.length) {
        const rest = buf.length - pos;
        if (rest > maxLine) { skipping = true; skipBytes = rest; }
        // copy: the chunk buffer may be pooled and reused by the stream
        else carry = Buffer.from(buf.subarray(pos));
      }
      progress.update(bytes, lineNo);
    }
  } catch (cause) {
    progress.done();
    // an I/O error of the stream (it carries an errno code) means the input is unreadable;
    // anything else was thrown by a handler and is passed through unchanged
    if (typeof (cause as NodeJS.ErrnoException | null)?.code === 'string') throw new UnreadableInputError(input, { cause });
    throw cause;
  }
  if (skipping) overLong(skipBytes);
  else if (carry && carry.length > 0) emit(carry, 0, carry.length);
  progress.update(bytes, lineNo);
  progress.done();
  return { lines: lineNo, bytes, tooLong };
}
