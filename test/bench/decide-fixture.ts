import type { Access } from '../../engine/events/access-event';
import type { Located, RulesRepo } from '../../engine/policy';
import type { AllowEntry, DenyEntry, FunctionRules } from '../../engine/policy/schema';

/**
 * The benchmark policy: `functions` functions × `perFunction` entries (10,000 by default), about
 * half of them wildcards (ARN globs, action globs, `*.` hosts), with denies overlapping allows
 * (a deny on an action of an allowed table, a host under an allowed wildcard, a sub-range of an
 * allowed CIDR). Deterministic (seeded), so every run measures the same thing.
 */
export interface Fixture { repo: RulesRepo; functions: string[]; accesses: { fn: string; access: Access }[]; entries: number }

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ACCOUNT = '123456789012';
const R = 'us-east-1';

export function buildFixture(functions = 100, perFunction = 100, events = 20_000, seed = 7): Fixture {
  const rand = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const names: string[] = [];
  const located: Located<FunctionRules>[] = [];
  const accesses: Fixture['accesses'] = [];
  let entries = 0;
  for (let f = 0; f < functions; f++) {
    const fn = `svc-${String(f).padStart(3, '0')}-api`;
    names.push(fn);
    const allow: AllowEntry[] = [], deny: DenyEntry[] = [];
    const hits: Access[] = [];
    const nAllow = Math.round(perFunction * 0.7), nDeny = perFunction - nAllow;
    for (let i = 0; i < nAllow; i++) {
      const k = i % 7;
      if (k === 0) {
        const table = `arn:aws:dynamodb:${R}:${ACCOUNT}:table/t-${f}-${i}`;
        allow.push({ id: `a-${f}-${i}`, aws: 'dynamodb:*', resource: table });
        hits.push({ kind: 'aws', service: 'dynamodb', action: 'PutItem', resource: table });
      } else if (k === 1) {
        allow.push({ id: `a-${f}-${i}`, aws: 's3:Get*', resource: `arn:aws:s3:::bucket-${f}-${i}/*` });
        hits.push({ kind: 'aws', service: 's3', action: 'GetObject', resource: `arn:aws:s3:::bucket-${f}-${i}/k/${i}.json` });
      } else if (k === 2) {
        const q = `arn:aws:sqs:${R}:${ACCOUNT}:queue-${f}-${i}`;
        allow.push({ id: `a-${f}-${i}`, aws: 'sqs:SendMessage', resource: q });
        hits.push({ kind: 'aws', service: 'sqs', action: 'SendMessage', resource: q });
      } else if (k === 3) {
        allow.push({ id: `a-${f}-${i}`, host: `*.cdn-${f}-${i}.example.net` });
        hits.push({ kind: 'http', host: `img.cdn-${f}-${i}.example.net`, port: 443 });
      } else if (k === 4) {
        allow.push({ id: `a-${f}-${i}`, host: `api-${i}.partner-${f}.example.com:443` });
        hits.push({ kind: 'http', host: `api-${i}.partner-${f}.example.com`, port: 443 });
      } else if (k === 5) {
        allow.push({ id: `a-${f}-${i}`, cidr: `10.${f}.${i}.0/24` });
        hits.push({ kind: 'tcp', address: `10.${f}.${i}.7`, port: 5432 });
      } else {
        allow.push({ id: `a-${f}-${i}`, aws: 'secretsmanager:GetSecretValue', resource: `arn:aws:secretsmanager:${R}:${ACCOUNT}:secret:s-${f}-${i}-*` });
        hits.push({ kind: 'aws', service: 'secretsmanager', action: 'GetSecretValue', resource: `arn:aws:secretsmanager:${R}:${ACCOUNT}:secret:s-${f}-${i}-AbCdEf` });
      }
    }
    for (let i = 0; i < nDeny; i++) {
      const k = i % 5;
      const sev = pick(['low', 'medium', 'high', 'critical'] as const);
      const j = i * 7 % nAllow; // overlaps allow entry j's family
      if (k === 0) {
        const table = `arn:aws:dynamodb:${R}:${ACCOUNT}:table/t-${f}-${j - (j % 7)}`;
        deny.push({ id: `d-${f}-${i}`, aws: 'dynamodb:Delete*', resource: table, severity: sev });
        hits.push({ kind: 'aws', service: 'dynamodb', action: 'DeleteTable', resource: table });
      } else if (k === 1) {
        const base = j - (j % 7) + 3;
        deny.push({ id: `d-${f}-${i}`, host: `upload.cdn-${f}-${base}.example.net`, severity: sev });
        hits.push({ kind: 'http', host: `upload.cdn-${f}-${base}.example.net`, port: 443 });
      } else if (k === 2) {
        const base = j - (j % 7) + 5;
        deny.push({ id: `d-${f}-${i}`, cidr: `10.${f}.${base}.128/25`, severity: sev });
        hits.push({ kind: 'tcp', address: `10.${f}.${base}.200`, port: 5432 });
      } else if (k === 3) {
        deny.push({ id: `d-${f}-${i}`, host: `*.exfil-${i}.example.org`, severity: sev });
        hits.push({ kind: 'http', host: `x.exfil-${i}.example.org`, port: 443 });
      } else {
        deny.push({ id: `d-${f}-${i}`, aws: 's3:Put*', resource: `arn:aws:s3:::bucket-${f}-${j - (j % 7) + 1}/private/*`, severity: sev });
        hits.push({ kind: 'aws', service: 's3', action: 'PutObject', resource: `arn:aws:s3:::bucket-${f}-${j - (j % 7) + 1}/private/x` });
      }
    }
    entries += allow.length + deny.length;
    located.push({ file: `functions/${fn}.yaml`, data: { functions: [fn], mode: 'block', allow, deny }, lines: { allow: [], deny: [], cases: [], rules: [], keys: {} } });
    // unlisted look-alikes
    hits.push({ kind: 'aws', service: 'dynamodb', action: 'GetItem', resource: `arn:aws:dynamodb:${R}:${ACCOUNT}:table/t-${f}-0-archive` });
    hits.push({ kind: 'http', host: `cdn-${f}-3.example.net`, port: 443 });
    hits.push({ kind: 'tcp', address: '192.0.2.1', port: 443 });
    for (let e = 0; e < Math.ceil(events / functions); e++) accesses.push({ fn, access: pick(hits) });
  }
  // shuffle so consecutive decisions hit different functions
  for (let i = accesses.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [accesses[i], accesses[j]] = [accesses[j]!, accesses[i]!];
  }
  return { repo: { functions: located, global: null, responses: null, tests: [], extra: [], ignored: [] }, functions: names, accesses: accesses.slice(0, events), entries };
}
