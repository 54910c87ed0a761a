import { Readable } from 'node:stream';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { readLines } from '../../engine/stream/jsonl-reader';
import { readAccessLog } from '../../engine/stream/access-log';
import { isBlank, parseAccessLine } from '../../engine/stream/access-line';
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

  it('gives a lineAt handler the same lines as a line handler (ASCII chunks decoded once), for any chunking', async () => {
    const row = fc.oneof(
      fc.string({ maxLength: 12 }),
      fc.string({ unit: 'grapheme', maxLength: 6 }),
      fc.constantFrom('', '\r', 'a\r', '\r\r', 'x'.repeat(30), 'é', '{"a":1}'),
    ).map((s) => s.replace(/\n/g, ''));
    let viaAt = 0;
    await fc.assert(fc.asyncProperty(
      fc.array(row, { maxLength: 20 }), fc.boolean(),
      fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 5 }), fc.integer({ min: 1, max: 80 }),
      async (rows, finalNl, sizes, segmentBytes) => {
        const text = rows.join('\n') + (finalNl ? '\n' : '');
        const plain = await collect(text, sizes, 24);
        const lines: [number, string][] = [];
        const long: number[] = [];
        const r = await readLines('(test)', {
          line: (t, n) => lines.push([n, t]),
          lineAt: (t, a, b, n) => { viaAt++; lines.push([n, t.slice(a, b)]); },
          tooLong: (n) => long.push(n),
        }, { stream: chunked(text, sizes), maxLineBytes: 24, segmentBytes });
        expect(lines).toEqual(plain.lines);
        expect(long).toEqual(plain.long);
        expect(r).toEqual(plain.r);
      },
    ), { numRuns: 600 });
    expect(viaAt).toBeGreaterThan(200);
  });

  it('readAccessLog: the same events, bad lines and line numbers as parseAccessLine line by line, for any chunking', async () => {
    const ev = (i: number, extra: Record<string, unknown> = {}): string => JSON.stringify({
      id: `e${i}`, time: '2026-11-23T18:00:00.000Z', function: { name: `fn-${i % 3}`, tags: { team: `t${i % 2}` } },
      access: i % 2 ? { kind: 'aws', service: 's3', action: 'GetObject', resource: `arn:aws:s3:::b/k${i % 4}` } : { kind: 'http', host: `h${i % 5}.example.com`, port: 443 },
      mode: 'monitor', agentVerdict: 'allow', blocked: false, count: 1 + (i % 3), ...extra,
    });
    const row = fc.oneof(
      { arbitrary: fc.nat(50).map((i) => ev(i)), weight: 6 },
      { arbitrary: fc.nat(50).map((i) => ev(i, { time: 'yesterday' })), weight: 1 },
      { arbitrary: fc.nat(50).map((i) => ` ${ev(i)}\r`), weight: 1 },
      { arbitrary: fc.nat(50).map((i) => ev(i).replace('fn-', 'fné-')), weight: 1 },
      { arbitrary: fc.tuple(fc.nat(50), fc.constantFrom('x', '}', ' ', '\r\r', ',')).map(([i, t]) => ev(i) + t), weight: 1 },
      { arbitrary: fc.constantFrom('', '  ', '{', 'null', '{"id":"x"}', '\r'), weight: 1 },
    );
    await fc.assert(fc.asyncProperty(
      fc.array(row, { maxLength: 15 }), fc.array(fc.integer({ min: 1, max: 900 }), { minLength: 1, maxLength: 4 }),
      async (rows, sizes) => {
        const expected: unknown[] = [];
        const expectedBad: number[] = [];
        rows.forEach((r, i) => {
          const t = r.endsWith('\r') ? r.slice(0, -1) : r;
          if (isBlank(t)) return;
          const p = parseAccessLine(t);
          if (p.ok) expected.push([i + 1, p.event]);
          else expectedBad.push(i + 1);
        });
        const got: unknown[] = [];
        const bad: number[] = [];
        const stats = await readAccessLog('(test)', (e, n) => got.push([n, e]), (b) => bad.push(b.line), { stream: chunked(rows.map((r) => `${r}\n`).join(''), sizes) });
        expect(got).toEqual(expected);
        expect(bad).toEqual(expectedBad);
        expect(stats.events).toBe(expected.length);
      },
    ), { numRuns: 300 });
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
