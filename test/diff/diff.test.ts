import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDiff } from '../../engine/diff/run-diff';
import { loadBaseSide, loadDirSide } from '../../engine/diff/sides';
import { Replay, type DiffReport } from '../../engine/diff/replay';

const NOW = Date.parse('2026-11-23T00:00:00Z');

function rulesDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'warden-diff-rules-'));
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    writeFileSync(join(dir, p), text);
  }
  return dir;
}

let n = 0;
const ev = (fn: string, access: object, count = 1) => JSON.stringify({ id: `e${n++}`, time: '2026-11-22T00:00:00Z', function: { name: fn }, access, count });
const ddbPut = { kind: 'aws', service: 'dynamodb', action: 'PutItem', resource: 'arn:aws:dynamodb:us-east-1:1:table/orders' };
const stripe = { kind: 'http', host: 'api.stripe.com', port: 443 };
const paste = { kind: 'http', host: 'x.pastebin.com', port: 443 };

function logFile(lines: string[]): string {
  const f = join(mkdtempSync(join(tmpdir(), 'warden-diff-log-')), 'access.jsonl');
  writeFileSync(f, lines.join('\n') + '\n');
  return f;
}

async function diff(base: string, head: string, log: string, json = true) {
  const out: string[] = [];
  const err: string[] = [];
  const r = await runDiff({
    input: log, json, loadBase: () => loadBaseSide(base, head), loadHead: () => loadDirSide(head),
    now: () => NOW, stdout: (s) => out.push(s), stderr: (s) => err.push(s),
  });
  return { ...r, out: out.join(''), err: err.join(''), parsed: json && r.report ? (JSON.parse(out.join('')) as DiffReport & { badLines: number }) : null };
}

const BASE = {
  'functions/orders.yaml': `functions: [orders-api]
mode: block
allow:
  - id: orders-table
    aws: "dynamodb:*"
    resource: "arn:aws:dynamodb:us-east-1:1:table/orders"
  - id: stripe
    host: api.stripe.com
`,
  'global.yaml': `deny:
  - id: no-paste
    host: "*.pastebin.com"
    severity: critical
`,
};

describe('warden rules diff', () => {
  const log = logFile([ev('orders-api', ddbPut, 5), ev('orders-api', stripe, 2), ev('orders-api', stripe), ev('orders-api', paste)]);

  it('reports no change and exits 0 for identical rules', async () => {
    const r = await diff(rulesDir(BASE), rulesDir(BASE), log);
    expect(r.exitCode).toBe(0);
    expect(r.parsed!.changes).toEqual([]);
    expect(r.parsed!.events).toBe(4);
    expect(r.parsed!.accesses).toBe(9);
  });

  it('a removed allow entry makes allowed traffic unlisted: exit 1, grouped by function and rule with counts', async () => {
    const head = { ...BASE, 'functions/orders.yaml': BASE['functions/orders.yaml'].replace(/ {2}- id: stripe\n {4}host: api.stripe.com\n/, '') };
    const r = await diff(rulesDir(BASE), rulesDir(head), log);
    expect(r.exitCode).toBe(1);
    expect(r.parsed!.changes).toEqual([expect.objectContaining({
      function: 'orders-api', kind: 'verdict', breaking: true, accesses: 3, events: 2,
      base: { verdict: 'allow', rule: 'stripe', severity: 'info', response: 'none' },
      head: { verdict: 'unlisted', rule: null, severity: 'medium', response: 'approve' },
    })]);
    expect(r.parsed!.changes[0]!.samples.map((s) => s.line)).toEqual([2]); // one sample per distinct access
    expect(r.parsed!.breaking).toEqual({ changes: 1, accesses: 3 });
  });

  it('gives the same report when the distinct-access memo overflows (bounded memory path)', async () => {
    const head = { ...BASE, 'functions/orders.yaml': BASE['functions/orders.yaml'].replace(/ {2}- id: stripe\n {4}host: api.stripe.com\n/, '') };
    const [b, h] = [rulesDir(BASE), rulesDir(head)];
    const normal = await diff(b, h, log);
    const saved = Replay.MAX_DISTINCT;
    Replay.MAX_DISTINCT = 1;
    try {
      const bounded = await diff(b, h, log);
      expect(bounded.parsed!.changes.map((c) => ({ ...c, samples: null }))).toEqual(normal.parsed!.changes.map((c) => ({ ...c, samples: null })));
      expect(bounded.parsed!.changes[0]!.samples.map((s) => s.line)).toEqual([2, 3]);
    } finally {
      Replay.MAX_DISTINCT = saved;
    }
  });

  it('a tightened entry (resource narrowed) breaks only what it no longer covers', async () => {
    const head = { ...BASE, 'functions/orders.yaml': BASE['functions/orders.yaml'].replace('table/orders"', 'table/orders-v2"') };
    const r = await diff(rulesDir(BASE), rulesDir(head), log, false);
    expect(r.exitCode).toBe(1);
    expect(r.out).toMatch(/orders-api\n {2}BREAKS\s+allow \(orders-table\) -> unlisted: 5 accesses in 1 events; response none -> approve/);
    expect(r.out).toMatch(/e\.g\. line 1 \(e\d+\): dynamodb:PutItem arn:aws:dynamodb:us-east-1:1:table\/orders/);
  });

  it('an added deny or a severity change is reported; a change that allows more does not fail the gate', async () => {
    const head = {
      ...BASE,
      'global.yaml': BASE['global.yaml'].replace('severity: critical', 'severity: high'),
      'functions/orders.yaml': BASE['functions/orders.yaml'] + 'deny:\n  - id: no-deletes\n    aws: "dynamodb:DeleteItem"\n',
    };
    const r = await diff(rulesDir(BASE), rulesDir(head), log);
    expect(r.exitCode).toBe(0);
    expect(r.parsed!.changes).toEqual([expect.objectContaining({
      kind: 'response', breaking: false, accesses: 1,
      base: expect.objectContaining({ verdict: 'deny', severity: 'critical', response: 'quarantine' }),
      head: expect.objectContaining({ verdict: 'deny', severity: 'high', response: 'escalate' }),
    })]);
  });

  it('an added allow entry turns unlisted into allow without failing the gate', async () => {
    const wider = logFile([ev('orders-api', { kind: 'http', host: 'api.github.com', port: 443 })]);
    const head = { ...BASE, 'functions/orders.yaml': BASE['functions/orders.yaml'] + '  - host: api.github.com\n' };
    const r = await diff(rulesDir(BASE), rulesDir(head), wider);
    expect(r.exitCode).toBe(0);
    expect(r.parsed!.changes).toEqual([expect.objectContaining({ kind: 'verdict', breaking: false, base: expect.objectContaining({ verdict: 'unlisted' }), head: expect.objectContaining({ verdict: 'allow', rule: 'host:api.github.com' }) })]);
  });

  it('a changed responses.yaml shows up as a response change', async () => {
    const head = { ...BASE, 'responses.yaml': `rules:
  - name: page-on-stripe
    conditions: { all: [ { fact: verdict, operator: equal, value: allow }, { fact: functionName, operator: equal, value: orders-api } ] }
    response: escalate
` };
    const r = await diff(rulesDir(BASE), rulesDir(head), log);
    expect(r.parsed!.changes.map((c) => [c.kind, c.base.response, c.head.response, c.accesses])).toEqual([
      ['response', 'none', 'escalate', 5], ['response', 'none', 'escalate', 3],
    ]);
    expect(r.exitCode).toBe(0);
  });

  it('bad lines are reported with their line number, skipped and counted: exit 2 when nothing broke', async () => {
    const bad = logFile([ev('orders-api', stripe), '{oops', '', ev('orders-api', { kind: 'aws', service: 'dynamodb' })]);
    const r = await diff(rulesDir(BASE), rulesDir(BASE), bad);
    expect(r.exitCode).toBe(2);
    expect(r.err).toMatch(/access\.jsonl:2: skipped: not valid JSON/);
    expect(r.err).toMatch(/access\.jsonl:4: skipped: not a valid access event/);
    expect(r.parsed!.badLines).toBe(2);
    expect(r.parsed!.events).toBe(1);
  });

  it('exits 2 on an unreadable log or unreadable rules', async () => {
    expect((await diff(rulesDir(BASE), rulesDir(BASE), '/nonexistent/log.jsonl')).exitCode).toBe(2);
    const broken = await diff(rulesDir(BASE), rulesDir({ 'functions/x.yaml': 'functions: [x]\nallow:\n  - hots: a\n' }), log);
    expect(broken.exitCode).toBe(2);
    expect(broken.err).toMatch(/functions\/x\.yaml/);
  });

  it('reads the base from a git ref at the same path as the head directory', async () => {
    const repo = mkdtempSync(join(tmpdir(), 'warden-diff-git-'));
    const g = (...args: string[]) => execFileSync('git', ['-C', repo, ...args], { stdio: 'pipe' });
    g('init', '-q', '-b', 'main');
    g('config', 'user.email', 't@example.com');
    g('config', 'user.name', 't');
    for (const [p, text] of Object.entries(BASE)) {
      mkdirSync(join(repo, 'rules', p, '..'), { recursive: true });
      writeFileSync(join(repo, 'rules', p), text);
    }
    g('add', '.');
    g('commit', '-qm', 'base');
    writeFileSync(join(repo, 'rules/functions/orders.yaml'), BASE['functions/orders.yaml'].replace(/ {2}- id: stripe\n {4}host: api.stripe.com\n/, ''));
    const r = await diff('main', join(repo, 'rules'), log);
    expect(r.exitCode).toBe(1);
    expect(r.parsed!.base.source).toBe('main:rules');
    expect(r.parsed!.changes[0]).toMatchObject({ base: { rule: 'stripe' }, head: { verdict: 'unlisted' } });
    const explicit = await diff('main:rules', join(repo, 'rules'), log);
    expect(explicit.parsed!.changes).toEqual(r.parsed!.changes);
    const missing = await diff('no-such-branch', join(repo, 'rules'), log);
    expect(missing.exitCode).toBe(2);
    expect(missing.err).toMatch(/neither a directory nor a git ref/);
  });
});
