import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import type { CliIo } from '../../engine/cli/commands/rules';

export const NOW = Date.parse('2026-11-23T18:00:00Z');

export function collector(now = NOW): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [], stderr: string[] = [];
  return { stdout, stderr, out: (l) => stdout.push(l), err: (l) => stderr.push(l), now: () => now };
}

export function rulesDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'warden-cli-'));
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), text);
  }
  return dir;
}

export function evalIo(input: string | Buffer) {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const stderr: string[] = [];
  return {
    io: { stdin: Readable.from([Buffer.from(input)]), stdout: out, err: (l: string) => stderr.push(l), now: () => NOW },
    lines: () => Buffer.concat(chunks).toString('utf8').split('\n').filter((l) => l.length > 0),
    stderr,
  };
}
