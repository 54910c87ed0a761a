import type { Readable } from 'node:stream';

/**
 * Splits a byte stream into lines with backpressure (the consumer awaits between lines), in
 * bounded memory: a line over `maxBytes` is not buffered; it is yielded as `tooLong` with its size.
 */
export type Line = { lineNo: number; text: string } | { lineNo: number; tooLong: number };

export async function* readLinesFrom(stream: Readable, maxBytes: number): AsyncGenerator<Line> {
  let parts: Buffer[] = [];
  let size = 0;
  let skipping = false;
  let lineNo = 0;
  const finish = (): Line => {
    lineNo++;
    if (skipping) {
      const l: Line = { lineNo, tooLong: size };
      skipping = false; parts = []; size = 0;
      return l;
    }
    let buf = parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
    if (buf.length > 0 && buf[buf.length - 1] === 0x0d) buf = buf.subarray(0, buf.length - 1);
    parts = []; size = 0;
    return { lineNo, text: buf.toString('utf8') };
  };
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    let start = 0;
    for (;;) {
      const nl = b.indexOf(0x0a, start);
      const end = nl < 0 ? b.length : nl;
      size += end - start;
      if (!skipping) {
        if (size > maxBytes) { skipping = true; parts = []; } else if (end > start) parts.push(b.subarray(start, end));
      }
      if (nl < 0) break;
      yield finish();
      start = nl + 1;
    }
  }
  if (size > 0 || skipping) yield finish();
}
