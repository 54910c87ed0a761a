import type { Access } from '../events/access-event';
import type { CompiledPolicy } from '../policy/types';
import {
  splitAwsKey, splitHostKey, type FunctionObservations, type Observations, type Seen,
} from './observations';
import { propose, type LearnedEntry, type ProposeOptions } from './propose';
import { entryObject, renderRulesFile } from './yaml-writer';

/**
 * Decides which files learn writes. Against an empty output directory: one complete file per
 * function (`functions/<name>.yaml`, mode monitor). Against an existing rules directory: only the
 * accesses the existing rules leave unlisted, as `functions/<name>.learned.yaml` for review;
 * accesses the existing rules deny are reported and never proposed (a deny is never overridden).
 * A file that already exists is never overwritten.
 */
export interface PlannedFile {
  /** relative to the output directory, with "/" separators */
  path: string;
  text: string;
  function: string;
  entries: number;
}

export interface DeniedAccess { function: string; access: string; rule: string | null; seen: Seen }

export interface RejectedEntry { function: string; entry: Record<string, string | number>; reason: string; seen: Seen }

export interface LearnPlan {
  files: PlannedFile[];
  /** observed accesses that the rules format cannot express as given (e.g. a resource that is not an ARN): not written */
  rejected: RejectedEntry[];
  /** observed accesses the existing rules deny: not proposed */
  denied: DeniedAccess[];
  /** functions whose file would overwrite an existing one: not written */
  conflicts: { function: string; path: string }[];
  /** observed distinct accesses the existing rules already allow */
  alreadyAllowed: number;
}

export interface PlanOptions extends ProposeOptions {
  /** the compiled existing rules, or null for a fresh output directory */
  existing: CompiledPolicy | null;
  /** relative paths that already exist under the output directory */
  existingPaths: ReadonlySet<string>;
  /** validates an entry against the rules format; null when valid */
  checkEntry: (entry: Record<string, string | number>) => string | null;
  now: number;
  input: string;
}

const FUNCTION_NAME = /^[A-Za-z0-9_.:-]{1,256}$/;

export function safeFileName(name: string): string {
  const s = name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_');
  return s.length ? s.slice(0, 200) : '_';
}

export function keyToAccess(kind: 'aws' | 'host' | 'ip', key: string): Access {
  if (kind === 'aws') {
    const { service, action, resource } = splitAwsKey(key);
    return resource === null ? { kind: 'aws', service, action } : { kind: 'aws', service, action, resource };
  }
  if (kind === 'host') {
    const { host, port } = splitHostKey(key);
    return port === null ? { kind: 'http', host } : { kind: 'http', host, port };
  }
  const { host: address, port } = splitHostKey(key);
  return port === null ? { kind: 'tcp', address } : { kind: 'tcp', address, port };
}

function describeKey(kind: 'aws' | 'host' | 'ip', key: string): string {
  if (kind === 'aws') {
    const { service, action, resource } = splitAwsKey(key);
    return `${service}:${action}${resource ? ` ${resource}` : ''}`;
  }
  const { host, port } = splitHostKey(key);
  return port === null ? host : `${host}:${port}`;
}

/** Keeps only the accesses the existing rules do not allow; collects the denied ones. */
function remaining(fo: FunctionObservations, existing: CompiledPolicy, now: number, denied: DeniedAccess[]): { rest: FunctionObservations; allowed: number } {
  const rest: FunctionObservations = { name: fo.name, aws: new Map(), hosts: new Map(), ips: new Map() };
  let allowed = 0;
  const sets: ['aws' | 'host' | 'ip', Map<string, Seen>, Map<string, Seen>][] = [
    ['aws', fo.aws, rest.aws], ['host', fo.hosts, rest.hosts], ['ip', fo.ips, rest.ips],
  ];
  for (const [kind, from, to] of sets) {
    for (const [k, s] of from) {
      const d = existing.decide({ name: fo.name }, keyToAccess(kind, k), now);
      // allow with no rule is the deny-list-only default, not coverage by an allow list: propose it
      if (d.verdict === 'allow' && d.rule !== null) allowed++;
      else if (d.verdict === 'deny') denied.push({ function: fo.name, access: describeKey(kind, k), rule: d.rule, seen: s });
      else to.set(k, s);
    }
  }
  return { rest, allowed };
}

const isoOr = (ms: number): string => (Number.isFinite(ms) ? new Date(ms).toISOString() : 'unknown');

function span(fo: FunctionObservations): { count: number; first: number; last: number } {
  let count = 0;
  let first = Infinity;
  let last = -Infinity;
  for (const m of [fo.aws, fo.hosts, fo.ips]) {
    for (const s of m.values()) {
      count += s.count;
      if (s.first < first) first = s.first;
      if (s.last > last) last = s.last;
    }
  }
  return { count, first, last };
}

export function planLearnedFiles(obs: Observations, opts: PlanOptions): LearnPlan {
  const plan: LearnPlan = { files: [], rejected: [], denied: [], conflicts: [], alreadyAllowed: 0 };
  const used = new Set<string>();
  const names = [...obs.functions.keys()].sort();
  for (const name of names) {
    let fo = obs.functions.get(name)!;
    const all = span(fo);
    // an event's function name is literal data: a "*" in it must not become a glob in `functions:`
    if (!FUNCTION_NAME.test(name)) {
      plan.rejected.push({ function: name, entry: { functions: name }, seen: all,
        reason: 'the function name has characters a rules file cannot name literally (only letters, digits and - _ . : are allowed, no wildcards); write its rules by hand' });
      continue;
    }
    if (opts.existing) {
      const r = remaining(fo, opts.existing, opts.now, plan.denied);
      plan.alreadyAllowed += r.allowed;
      fo = r.rest;
      if (fo.aws.size + fo.hosts.size + fo.ips.size === 0) continue;
    } else if (fo.aws.size + fo.hosts.size + fo.ips.size === 0) {
      continue;
    }
    const entries: LearnedEntry[] = [];
    for (const e of propose(fo, opts)) {
      const obj = entryObject(e);
      // eslint-disable-next-line no-control-regex
      const reason = e.kind === 'host' && /[^\x00-\x7f]/.test(e.host)
        ? 'a non-ASCII host name: add it by hand in its punycode (xn--) form'
        : opts.checkEntry(obj);
      if (reason === null) entries.push(e);
      else plan.rejected.push({ function: name, entry: obj, reason, seen: e.seen });
    }
    if (entries.length === 0) continue;
    const base = safeFileName(name);
    let stem = base;
    for (let i = 2; used.has(stem.toLowerCase()); i++) stem = `${base}-${i}`;
    used.add(stem.toLowerCase());
    const path = `functions/${stem}${opts.existing ? '.learned' : ''}.yaml`;
    if (opts.existingPaths.has(path)) {
      plan.conflicts.push({ function: name, path });
      continue;
    }
    const comment = [
      `Learned by \`warden learn\` from ${opts.input}: ${all.count.toLocaleString('en-US')} accesses by ${name}, ` +
        `${isoOr(all.first)} .. ${isoOr(all.last)}.`,
      opts.generalize
        ? `Generalized where at least ${opts.generalize.threshold} distinct observed values share a prefix (see "generalized" comments); everything else is exact.`
        : 'Least privilege: exact ARNs, actions, hosts and addresses, only what was observed.',
      opts.existing
        ? 'Additions only: what the existing rules leave unlisted. Review, then merge into the function\'s rules file (or keep this file).'
        : 'mode: monitor, so nothing is blocked until you review this file and switch it to block.',
    ];
    plan.files.push({
      path, function: name, entries: entries.length,
      text: renderRulesFile({ comment, functions: [name], mode: opts.existing ? null : 'monitor' }, entries),
    });
  }
  return plan;
}

