import { Readable } from 'node:stream';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { readLines } from '../../engine/stream/jsonl-reader';
import { UnreadableInputError } from '../../engine/stream/errors';
import { createProgress } from '../../engine/stream/progress';

function chunked(text: string, sizes: number[]): Readable {
  const buf = Buffer.from(text);
  const parts: Buffer[] = [];
  let pos = 0;
  let i = 0;
  while (pos < buf.length) {
    const n = Math.max(1, sizes[i++ % sizes.length]!);
    parts.push(buf.subarray(pos, pos + n));
    pos += n;
  }
  return Readable.from(parts);
}

async function collect(text: string, sizes: number[], maxLineBytes?: number) {
  const lines: [number, string][] = [];
  const long: number[] = [];
  const r = await readLines('(test)', { line: (t, n) => lines.push([n, t]), tooLong: (n) => long.push(n) }, { stream: chunked(text, sizes), maxLineBytes });
  return { lines, long, r };
}

describe('readLines', () => {
  it('numbers lines from 1, strips CR, keeps blank lines, handles a missing final newline', async () => {
    const { lines, r } = await collect('a\r\n\nccc\ndd', [2]);
    expect(lines).toEqual([[1, 'a'], [2, ''], [3, 'ccc'], [4, 'dd']]);
    expect(r.lines).toBe(4);
    expect(r.bytes).toBe(10);
  });

  it('yields the same lines as split("\\n") for any chunking, including multi-byte UTF-8 across chunks', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(fc.string({ unit: 'grapheme', maxLength: 20 }).map((s) => s.replace(/[\r\n]/g, '')), { maxLength: 20 }),
      fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 5 }),
      async (rows, sizes) => {
        const text = rows.map((r) => r + '\n').join('');
        const { lines } = await collect(text, sizes);
        expect(lines.map(([, t]) => t)).toEqual(rows);
        expect(lines.map(([n]) => n)).toEqual(rows.map((_, i) => i + 1));
      },
    ), { numRuns: 150 });
  });

  it('skips a line over the limit without buffering it, and keeps counting lines', async () => {
    const { lines, long } = await collect(`ok\n${'x'.repeat(50)}\nafter\n${'y'.repeat(40)}`, [3, 5], 16);
    expect(lines).toEqual([[1, 'ok'], [3, 'after']]);
    expect(long).toEqual([2, 4]);
  });

  it('rejects a missing file with UnreadableInputError naming the path', async () => {
    await expect(readLines('/nonexistent/warden.jsonl', { line() {} })).rejects.toThrow(UnreadableInputError);
    await expect(readLines('/nonexistent/warden.jsonl', { line() {} })).rejects.toThrow(/nonexistent\/warden\.jsonl.*ENOENT/);
  });

  it('passes a handler error through unchanged, and reports a stream I/O error as unreadable input', async () => {
    await expect(readLines('(test)', { line() { throw new TypeError('handler bug'); } }, { stream: Readable.from([Buffer.from('a\n')]) }))
      .rejects.toThrow(TypeError);
    const failing = new Readable({ read() { this.destroy(Object.assign(new Error('disk gone'), { code: 'EIO' })); } });
    await expect(readLines('big.jsonl', { line() {} }, { stream: failing })).rejects.toThrow(/cannot read input "big\.jsonl" \(EIO\)/);
  });

  it('reads a file from disk', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-stream-'));
    const f = join(dir, 'log.jsonl');
    writeFileSync(f, '1\n2\n3\n');
    const got: string[] = [];
    const r = await readLines(f, { line: (t) => got.push(t) }, { chunkBytes: 2 });
    expect(got).toEqual(['1', '2', '3']);
    expect(r).toEqual({ lines: 3, bytes: 6, tooLong: 0 });
  });
});

describe('progress', () => {
  it('draws nothing when stderr is not a TTY', () => {
    const writes: string[] = [];
    const p = createProgress({ total: 100, label: 'x', now: () => 0, out: { isTTY: false, write: (s) => writes.push(s) } });
    p.update(50, 5);
    p.done();
    expect(writes).toEqual([]);
  });

  it('draws a bar with percentage on a TTY, throttled by the injected clock', () => {
    const writes: string[] = [];
    let t = 0;
    const p = createProgress({ total: 100, label: 'learn', now: () => t, intervalMs: 100, out: { isTTY: true, write: (s) => writes.push(s) } });
    p.update(10, 1);
    t = 50;
    p.update(20, 2); // throttled
    t = 200;
    p.update(50, 5);
    p.done();
    expect(writes).toHaveLength(4);
    expect(writes[1]).toContain(' 50% ');
    expect(writes[1]).toContain('5 lines');
    expect(writes[3]).toBe('\n');
  });
});
