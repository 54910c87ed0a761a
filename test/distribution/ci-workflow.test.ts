import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { Command } from 'commander';
import { buildProgram } from '../../engine/cli/main';

interface Step { name?: string; run?: string; uses?: string; if?: string; env?: Record<string, string> }
interface Job { needs?: string | string[]; if?: string; steps: Step[]; concurrency?: { group: string; 'cancel-in-progress': boolean }; permissions?: Record<string, string> }

const workflow = parse(readFileSync(join(__dirname, '..', '..', 'rules', '.github', 'workflows', 'warden.yml'), 'utf8')) as { on: Record<string, unknown>; jobs: Record<string, Job> };

function find(cmd: Command, path: string[]): Command | undefined {
  let c: Command | undefined = cmd;
  for (const name of path) c = c?.commands.find((x) => x.name() === name);
  return c;
}

describe('the rules repo CI workflow', () => {
  it('checks pull requests and publishes only from main, one publish at a time, with the bundle that was checked', () => {
    expect(Object.keys(workflow.on)).toEqual(expect.arrayContaining(['pull_request', 'push']));
    const { check, publish } = workflow.jobs;
    const runs = check!.steps.map((s) => s.run ?? '').join('\n');
    for (const step of ['warden rules lint', 'warden rules test', 'warden rules diff --input traffic.jsonl --base origin/main', 'warden rules bundle']) expect(runs).toContain(step);
    expect(publish!.needs).toBe('check');
    expect(publish!.if).toContain("github.ref == 'refs/heads/main'");
    expect(publish!.concurrency).toEqual({ group: 'warden-publish', 'cancel-in-progress': false });
    expect(publish!.permissions).toMatchObject({ 'id-token': 'write', contents: 'read' });
    expect(publish!.steps.map((s) => s.uses ?? '')).toContain('actions/download-artifact@v4');
    expect(publish!.steps.map((s) => s.run ?? '').join('\n')).not.toContain('warden rules bundle');
  });

  it('uses only commands and options the warden CLI has', () => {
    const program = buildProgram();
    const used = Object.values(workflow.jobs).flatMap((j) => j.steps).flatMap((s) => (s.run ?? '').split('\n'))
      .map((l) => l.trim()).filter((l) => l.startsWith('warden '));
    expect(used.map((l) => l.split(/\s+/).slice(1, 3).join(' '))).toEqual(expect.arrayContaining([
      'rules lint', 'rules test', 'rules codeowners', 'rules diff', 'rules bundle', 'rules publish', 'rules status',
    ]));
    for (const line of used) {
      const words = line.split(/\s+/).slice(1);
      const cmd = find(program, words.slice(0, 2));
      expect(cmd).toBeDefined();
      const flags = new Set(cmd!.options.flatMap((o) => [o.long, o.short].filter(Boolean) as string[]));
      for (const w of words.filter((x) => x.startsWith('--'))) expect([line, flags.has(w)]).toEqual([line, true]);
    }
  });
});
