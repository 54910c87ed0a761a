import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { CompiledPolicy } from '../policy/types';
import { badLineReporter, readAccessLog, type AccessLogStats } from '../stream/access-log';
import { newObservations, observe } from './observations';
import { planLearnedFiles, type LearnPlan } from './plan';
import { DEFAULT_THRESHOLD } from './propose';

/** `warden learn` without the command-line parsing: streams the log, plans, writes, reports. */
export interface LearnRunOptions {
  input: string;
  out: string;
  generalize: boolean;
  threshold?: number;
  dryRun?: boolean;
  json?: boolean;
  /** loads and compiles an existing rules directory (the policy core); injected to keep this module light */
  loadExisting: (dir: string) => Promise<CompiledPolicy>;
  /** validates a learned entry against the rules format (policy core); null when valid */
  checkEntry: (entry: Record<string, string | number>) => string | null;
  now: () => number;
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  progress?: boolean;
}

export interface LearnRunResult {
  exitCode: 0 | 1 | 2;
  stats: AccessLogStats;
  plan: LearnPlan;
  written: string[];
  unlearnable: number;
}

export class LearnError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LearnError';
  }
}

/** Relative paths of the YAML files under `dir` (for "never overwrite" and "is this a rules repo"). */
export function listYaml(dir: string): Set<string> {
  const out = new Set<string>();
  const walk = (rel: string): void => {
    for (const d of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${d.name}` : d.name;
      if (d.isDirectory()) walk(r);
      else if (/\.ya?ml$/i.test(d.name)) out.add(r);
    }
  };
  if (existsSync(dir)) walk('');
  return out;
}

/** A rules repo has a global.yaml or a rules file under functions/. */
export function isRulesRepo(paths: ReadonlySet<string>): boolean {
  return [...paths].some((p) => p === 'global.yaml' || p === 'global.yml' || /^functions\/[^/]+\.ya?ml$/i.test(p));
}

export async function runLearn(o: LearnRunOptions): Promise<LearnRunResult> {
  const threshold = o.threshold ?? DEFAULT_THRESHOLD;
  if (!Number.isInteger(threshold) || threshold < 2) {
    throw new LearnError(`--threshold must be an integer of at least 2 (got ${o.threshold}): it is how many distinct values must share a prefix before learn writes a "*"`);
  }
  if (existsSync(o.out) && !statSync(o.out).isDirectory()) {
    throw new LearnError(`--out ${o.out} is a file; pass a rules directory (new or existing)`);
  }
  const existingPaths = listYaml(o.out);
  let existing: CompiledPolicy | null = null;
  if (isRulesRepo(existingPaths)) {
    try {
      existing = await o.loadExisting(o.out);
    } catch (cause) {
      throw new LearnError(`the existing rules in ${o.out} do not load (${(cause as Error).message}); fix them (warden rules lint ${o.out}) before learning against them`, { cause });
    }
  }

  const obs = newObservations();
  let unlearnable = 0;
  const stats = await readAccessLog(o.input, (ev) => { if (!observe(obs, ev)) unlearnable++; }, badLineReporter(o.input, o.stderr), {
    progress: o.progress ?? false, label: 'learn', now: o.now,
  });

  const plan = planLearnedFiles(obs, {
    generalize: o.generalize ? { threshold } : null, existing, existingPaths, now: o.now(), input: o.input, checkEntry: o.checkEntry,
  });

  const written: string[] = [];
  if (!o.dryRun) {
    for (const f of plan.files) {
      const path = join(o.out, f.path);
      mkdirSync(dirname(path), { recursive: true });
      try {
        writeFileSync(path, f.text, { flag: 'wx' }); // never overwrite, even if the file appeared meanwhile
        written.push(f.path);
      } catch (cause) {
        if ((cause as NodeJS.ErrnoException).code === 'EEXIST') plan.conflicts.push({ function: f.function, path: f.path });
        else throw new LearnError(`cannot write ${path}: ${(cause as Error).message}`, { cause });
      }
    }
  }

  if (o.json) {
    o.stdout(JSON.stringify({
      input: o.input, out: o.out, mode: existing ? 'additions' : 'new', stats, unlearnable,
      files: plan.files.map((f) => ({ path: f.path, function: f.function, entries: f.entries, written: written.includes(f.path) })),
      denied: plan.denied.map((d) => ({ ...d, seen: { count: d.seen.count, first: new Date(d.seen.first).toISOString(), last: new Date(d.seen.last).toISOString() } })),
      rejected: plan.rejected.map((x) => ({ ...x, seen: { count: x.seen.count } })),
      conflicts: plan.conflicts, alreadyAllowed: plan.alreadyAllowed,
    }) + '\n');
  } else if (existing || o.dryRun) {
    // against an existing repo the additions are the review: print them
    for (const f of plan.files) o.stdout(`--- ${f.path}${written.includes(f.path) ? '' : ' (not written)'}\n${f.text}\n`);
  }

  const n = (x: number): string => x.toLocaleString('en-US');
  o.stderr(`learn: ${n(stats.events)} events from ${n(stats.lines)} lines${stats.bad ? `, ${n(stats.bad)} bad lines skipped` : ''}` +
    `${unlearnable ? `, ${n(unlearnable)} events with nothing learnable (no host, or an address that is not an IP)` : ''}\n`);
  if (existing) o.stderr(`learn: ${o.out} is an existing rules repo: wrote additions only; ${n(plan.alreadyAllowed)} observed accesses are already allowed\n`);
  const SHOW = 20;
  for (const p of plan.files.slice(0, SHOW)) {
    o.stderr(`learn: ${o.dryRun ? 'would write' : written.includes(p.path) ? 'wrote' : 'did not write'} ${join(o.out, p.path)} (${p.function}: ${p.entries} entries)\n`);
  }
  if (plan.files.length > SHOW) {
    o.stderr(`learn: ... and ${n(plan.files.length - SHOW)} more files (${n(o.dryRun ? 0 : written.length)} written in all)\n`);
  }
  for (const d of plan.denied) {
    o.stderr(`learn: not proposed: ${d.function} -> ${d.access} (${n(d.seen.count)} seen) is denied by rule ${d.rule ?? '(unnamed)'}; deny entries are never overridden\n`);
  }
  for (const x of plan.rejected) {
    o.stderr(`learn: not proposed: ${x.function} -> ${JSON.stringify(x.entry)} (${n(x.seen.count)} seen): ${x.reason}\n`);
  }
  for (const c of plan.conflicts) {
    o.stderr(`learn: ${join(o.out, c.path)} already exists, not overwritten: review and merge or delete it, then run learn again (${c.function})\n`);
  }
  if (plan.files.length === 0 && plan.conflicts.length === 0) o.stderr('learn: nothing to add\n');

  const exitCode = plan.conflicts.length ? 1 : stats.bad ? 2 : 0;
  return { exitCode, stats, plan, written, unlearnable };
}
