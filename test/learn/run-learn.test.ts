import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLearn } from '../../engine/learn/run-learn';
import { checkAllowEntry, loadCompiledRules } from '../../engine/learn/policy-port';
import { compilePolicy, loadRulesDir } from '../../engine/policy';
import { lintRepo } from '../../engine/policy/lint';

const NOW = Date.parse('2026-11-23T00:00:00Z');
let n = 0;
const ev = (fn: string, access: object) => JSON.stringify({ id: `e${n++}`, time: '2026-11-22T10:00:00Z', function: { name: fn }, access });

function setup(lines: string[], files: Record<string, string> = {}) {
  const root = mkdtempSync(join(tmpdir(), 'warden-learn-'));
  const log = join(root, 'access.jsonl');
  writeFileSync(log, lines.join('\n') + '\n');
  const out = join(root, 'rules');
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(join(out, p, '..'), { recursive: true });
    writeFileSync(join(out, p), text);
  }
  return { log, out };
}

async function learn(log: string, out: string, extra: { dryRun?: boolean } = {}) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const r = await runLearn({
    input: log, out, generalize: false, loadExisting: loadCompiledRules, checkEntry: checkAllowEntry,
    now: () => NOW, stdout: (s) => stdout.push(s), stderr: (s) => stderr.push(s), ...extra,
  });
  return { ...r, stdout: stdout.join(''), stderr: stderr.join('') };
}

const stripe = { kind: 'http', host: 'api.stripe.com', port: 443 };
const github = { kind: 'http', host: 'api.github.com', port: 443 };
const paste = { kind: 'http', host: 'x.pastebin.com', port: 443 };

describe('runLearn', () => {
  it('writes one monitor-mode file per function into a new directory, loadable and allowing what was seen', async () => {
    const { log, out } = setup([ev('orders-api', stripe), ev('billing', github)]);
    const r = await learn(log, out);
    expect(r.exitCode).toBe(0);
    expect(readdirSync(join(out, 'functions')).sort()).toEqual(['billing.yaml', 'orders-api.yaml']);
    const policy = compilePolicy(await loadRulesDir(out));
    expect(policy.modeFor('orders-api')).toBe('monitor');
    expect(policy.decide({ name: 'orders-api' }, stripe as never, NOW).verdict).toBe('allow');
    expect(policy.decide({ name: 'orders-api' }, github as never, NOW).verdict).toBe('unlisted');
  });

  it('against an existing repo writes and prints additions only, never proposes what a deny covers, never overwrites', async () => {
    const existing = {
      'functions/orders-api.yaml': 'functions: [orders-api]\nmode: block\nallow:\n  - id: stripe\n    host: api.stripe.com\n',
      'global.yaml': 'deny:\n  - id: no-paste\n    host: "*.pastebin.com"\n    severity: critical\n',
    };
    const { log, out } = setup([ev('orders-api', stripe), ev('orders-api', github), ev('orders-api', paste)], existing);
    const r = await learn(log, out);
    expect(r.exitCode).toBe(0);
    expect(readFileSync(join(out, 'functions/orders-api.yaml'), 'utf8')).toBe(existing['functions/orders-api.yaml']);
    const added = readFileSync(join(out, 'functions/orders-api.learned.yaml'), 'utf8');
    expect(added).toContain('- host: "api.github.com:443"');
    expect(added).not.toContain('stripe');
    expect(added).not.toContain('pastebin');
    expect(added).not.toMatch(/^mode:/m); // the existing file's mode (block) stays in charge
    expect(r.stdout).toContain('--- functions/orders-api.learned.yaml');
    expect(r.stderr).toMatch(/not proposed: orders-api -> x\.pastebin\.com:443 .* denied by rule no-paste/);
    const mergedRepo = await loadRulesDir(out);
    expect(lintRepo(mergedRepo, NOW)).toEqual([]);
    const merged = compilePolicy(mergedRepo);
    expect(merged.modeFor('orders-api')).toBe('block');
    expect(merged.decide({ name: 'orders-api' }, github as never, NOW).verdict).toBe('allow');

    // a function the repo has no allow list for is proposed too (default-allow is not coverage)
    const other = setup([ev('billing', github)], existing);
    await learn(other.log, other.out);
    expect(readFileSync(join(other.out, 'functions/billing.learned.yaml'), 'utf8')).toContain('api.github.com:443');

    // a second run finds the learned file in place: everything is allowed now, nothing to add
    const again = await learn(log, out);
    expect(again.stderr).toMatch(/nothing to add/);
  });

  it('refuses to overwrite an existing learned file and exits 1', async () => {
    const { log, out } = setup([ev('orders-api', github)], {
      'functions/orders-api.yaml': 'functions: [orders-api]\nallow: []\n',
      'functions/orders-api.learned.yaml': '# under review\nfunctions: [someone-else]\nallow: []\n',
    });
    const r = await learn(log, out);
    expect(r.exitCode).toBe(1);
    expect(readFileSync(join(out, 'functions/orders-api.learned.yaml'), 'utf8')).toBe('# under review\nfunctions: [someone-else]\nallow: []\n');
    expect(r.stderr).toMatch(/orders-api\.learned\.yaml already exists, not overwritten/);
  });

  it('skips bad lines with their line number, counts them, still writes, exits 2', async () => {
    const { log, out } = setup([ev('orders-api', stripe), 'not json', ev('orders-api', { kind: 'tcp' })]);
    const r = await learn(log, out);
    expect(r.exitCode).toBe(2);
    expect(r.stats).toMatchObject({ events: 1, bad: 2 });
    expect(r.stderr).toMatch(/access\.jsonl:2: skipped: not valid JSON/);
    expect(r.stderr).toMatch(/access\.jsonl:3: skipped: not a valid access event: access: a tcp access needs "host" or "address"/);
    expect(r.written).toEqual(['functions/orders-api.yaml']);
  });

  it('never turns a function name into a glob', async () => {
    const { log, out } = setup([ev('orders-*', stripe), ev('ok', stripe)]);
    const r = await learn(log, out);
    expect(r.written).toEqual(['functions/ok.yaml']);
    expect(r.stderr).toMatch(/not proposed: orders-\* .*cannot name literally/);
  });

  it('--dry-run prints and writes nothing', async () => {
    const { log, out } = setup([ev('orders-api', stripe)]);
    const r = await learn(log, out, { dryRun: true });
    expect(r.written).toEqual([]);
    expect(r.stdout).toContain('- host: "api.stripe.com:443"');
    expect(() => readdirSync(out)).toThrow();
  });

  it('rejects a bad threshold and an --out that is a file', async () => {
    const { log } = setup([ev('orders-api', stripe)]);
    await expect(runLearn({ input: log, out: '/tmp', generalize: true, threshold: 1, loadExisting: loadCompiledRules, checkEntry: checkAllowEntry, now: () => NOW, stdout() {}, stderr() {} }))
      .rejects.toThrow(/--threshold must be an integer of at least 2/);
    await expect(runLearn({ input: log, out: log, generalize: false, loadExisting: loadCompiledRules, checkEntry: checkAllowEntry, now: () => NOW, stdout() {}, stderr() {} }))
      .rejects.toThrow(/is a file/);
  });
});
