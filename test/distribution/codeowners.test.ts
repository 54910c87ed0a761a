import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  checkCodeOwners, checkCodeOwnersDir, globCovers, lintCodeOwners, mergeSection, renderCodeOwners, writeCodeOwners, type OwnersFile,
} from '../../engine/distribution/codeowners';
import { runCodeOwners } from '../../engine/distribution/cli-actions';
import { manualClock, tempDir } from './helpers';

const owners: OwnersFile = {
  security: ['@acme/security'],
  groups: [
    { name: 'payments', functions: ['payments-*'], owners: ['@acme/payments'] },
    { name: 'orders', functions: ['orders-api', 'orders-worker'], owners: ['@acme/orders', '@alice'] },
  ],
};

describe('globCovers', () => {
  it.each([
    ['payments-*', 'payments-api', true],
    ['payments-*', 'payments-eu-*', true],
    ['payments-*', 'payments-*', true],
    ['payments-api', 'payments-*', false],
    ['payments-?pi', 'payments-api', true],
    ['payments-?pi', 'payments-*pi', false],
    ['orders-api', 'orders-api', true],
    ['orders-api', 'orders-apix', false],
    ['*', 'anything-*', true],
    ['pay.ments', 'payXments', false],
  ])('%s covers %s: %s', (glob, pattern, expected) => {
    expect(globCovers(glob, pattern)).toBe(expected);
  });
});

describe('code owners check (pure)', () => {
  const files = [
    { path: 'functions/payments.yaml', functions: ['payments-api', 'payments-refunds'] },
    { path: 'functions/orders.yaml', functions: ['orders-api'] },
  ];

  it('Compliance: every function owned by one group, CODEOWNERS in sync', () => {
    const text = renderCodeOwners(owners, files);
    expect(checkCodeOwners({ owners, functionFiles: files, codeowners: { path: '.github/CODEOWNERS', text } })).toEqual([]);
    expect(text).toContain('/functions/payments.yaml @acme/payments\n');
    expect(text).toContain('/functions/orders.yaml @acme/orders @alice\n');
    expect(text).toContain('/owners.yaml @acme/security\n');
    // GitHub: last match wins, so the catch-all comes first
    expect(text.split('\n').find((l) => !l.startsWith('#'))).toBe('* @acme/security');
  });

  it('Noncompliance 1: a function no group owns', () => {
    const f = checkCodeOwners({ owners, functionFiles: [{ path: 'functions/x.yaml', functions: ['reports-api'] }], codeowners: { path: 'CODEOWNERS', text: renderCodeOwners(owners, []) } });
    expect(f).toContainEqual(expect.objectContaining({ severity: 'error', file: 'functions/x.yaml', message: expect.stringMatching(/"reports-api" belongs to no owner group/) }));
  });

  it('Noncompliance 2: a file spanning two groups', () => {
    const mixed = [{ path: 'functions/mixed.yaml', functions: ['payments-api', 'orders-api'] }];
    const f = checkCodeOwners({ owners, functionFiles: mixed, codeowners: { path: 'CODEOWNERS', text: renderCodeOwners(owners, mixed) } });
    expect(f).toEqual([expect.objectContaining({ severity: 'error', message: expect.stringMatching(/several owner groups \(payments, orders\).*split it/) })]);
  });

  it('Noncompliance 3: a glob wider than any group ("orders-*" while the group lists names)', () => {
    const f = checkCodeOwners({ owners, functionFiles: [{ path: 'functions/o.yaml', functions: ['orders-*'] }] });
    expect(f).toContainEqual(expect.objectContaining({ severity: 'error', message: expect.stringMatching(/"orders-\*" belongs to no owner group/) }));
  });

  it('Noncompliance 4: overlapping groups with different owners', () => {
    const overlapping: OwnersFile = { ...owners, groups: [...owners.groups, { name: 'payments-eu', functions: ['payments-eu-*'], owners: ['@acme/eu'] }] };
    const f = checkCodeOwners({ owners: overlapping, functionFiles: [{ path: 'functions/eu.yaml', functions: ['payments-eu-api'] }] });
    expect(f).toContainEqual(expect.objectContaining({ severity: 'error', message: expect.stringMatching(/several owner groups with different owners \(payments, payments-eu\)/) }));
  });

  it('Noncompliance 5: CODEOWNERS missing (warning), without a Warden section, or stale (errors)', () => {
    expect(checkCodeOwners({ owners, functionFiles: files })).toEqual([expect.objectContaining({ severity: 'warning', message: expect.stringMatching(/GitHub does not enforce/) })]);
    expect(checkCodeOwners({ owners, functionFiles: files, codeowners: { path: 'CODEOWNERS', text: '* @someone\n' } }))
      .toEqual([expect.objectContaining({ severity: 'error', message: expect.stringMatching(/no Warden section/) })]);
    const stale = renderCodeOwners(owners, files).replace('@acme/payments', '@acme/old');
    expect(checkCodeOwners({ owners, functionFiles: files, codeowners: { path: 'CODEOWNERS', text: stale } }))
      .toEqual([expect.objectContaining({ severity: 'error', message: expect.stringMatching(/out of date/) })]);
  });

  it('keeps the rest of an existing CODEOWNERS file when updating its section', () => {
    const section = renderCodeOwners(owners, files, 'rules');
    const merged = mergeSection('/infra/ @acme/platform\n', section);
    expect(merged.startsWith('/infra/ @acme/platform\n\n# BEGIN')).toBe(true);
    const updated = mergeSection(merged + '/docs/ @acme/docs\n', renderCodeOwners(owners, [], 'rules'));
    expect(updated).toContain('/infra/ @acme/platform');
    expect(updated).toContain('/docs/ @acme/docs');
    expect(updated).not.toContain('functions/payments.yaml');
    expect(section).toContain('/rules/functions/payments.yaml @acme/payments');
    expect(section).toContain('/rules/ @acme/security');
  });
});

describe('code owners in a repo (files)', () => {
  function repo() {
    const root = tempDir();
    const rules = join(root, 'rules');
    mkdirSync(join(rules, 'functions'), { recursive: true });
    writeFileSync(join(rules, 'owners.yaml'), 'security: ["@acme/security"]\ngroups:\n  - name: payments\n    functions: ["payments-*"]\n    owners: ["@acme/payments"]\n');
    writeFileSync(join(rules, 'functions', 'payments.yaml'), 'functions: [payments-api]\nmode: block\nallow:\n  - host: api.stripe.com\n');
    return { root, rules };
  }

  it('is silent when the repo declares no owners', async () => {
    const dir = tempDir();
    await expect(checkCodeOwnersDir(dir)).resolves.toMatchObject({ declared: false, findings: [] });
  });

  it('writes CODEOWNERS at the repository root, then the check passes; a new unowned file fails it', async () => {
    const { root, rules } = repo();
    expect((await checkCodeOwnersDir(rules, { repoRoot: root })).findings).toEqual([expect.objectContaining({ severity: 'warning' })]);
    const w = await writeCodeOwners(rules, { repoRoot: root });
    expect(w.file).toBe(join(root, '.github', 'CODEOWNERS'));
    expect(readFileSync(w.file, 'utf8')).toContain('/rules/functions/payments.yaml @acme/payments');
    expect(w.report.findings).toEqual([]);
    expect((await writeCodeOwners(rules, { repoRoot: root })).changed).toBe(false);

    writeFileSync(join(rules, 'functions', 'reports.yaml'), 'functions: [reports-api]\n');
    const out: string[] = [];
    const code = await runCodeOwners(rules, { repoRoot: root }, { out: (s) => out.push(s), err: () => undefined, env: {}, clock: manualClock() });
    expect(code).toBe(1);
    expect(out.join('')).toMatch(/error: functions\/reports.yaml: function "reports-api" belongs to no owner group/);
  });

  it('finds CODEOWNERS at the git root above the rules dir, and reports in lint\'s shape', async () => {
    const { root, rules } = repo();
    mkdirSync(join(root, '.git'));
    await writeCodeOwners(rules);
    expect(readFileSync(join(root, '.github', 'CODEOWNERS'), 'utf8')).toContain('/rules/functions/payments.yaml @acme/payments');
    await expect(lintCodeOwners(rules)).resolves.toEqual([]);
    writeFileSync(join(rules, 'functions', 'reports.yaml'), 'functions: [reports-api]\n');
    writeFileSync(join(rules, 'functions', 'refunds.yaml'), 'functions: [payments-refunds]\n');
    const findings = await lintCodeOwners(rules);
    expect(findings).toContainEqual({ file: `${rules}/functions/reports.yaml`, line: 1, level: 'error', code: 'code-owners', message: expect.stringMatching(/belongs to no owner group/) });
    expect(findings).toContainEqual(expect.objectContaining({ file: `${root}/.github/CODEOWNERS`, level: 'error', message: expect.stringMatching(/out of date/) }));
  });

  it('reports an invalid owners.yaml with the field at fault', async () => {
    const { rules } = repo();
    writeFileSync(join(rules, 'owners.yaml'), 'security: []\ngroups:\n  - name: x\n    functions: ["a b"]\n    owners: ["acme"]\n');
    const r = await checkCodeOwnersDir(rules);
    expect(r.findings.map((f) => f.message)).toEqual(expect.arrayContaining([
      expect.stringMatching(/^security: name at least one security owner/),
      expect.stringMatching(/^groups\.0\.functions\.0: /),
      expect.stringMatching(/^groups\.0\.owners\.0: an owner is/),
    ]));
  });
});
