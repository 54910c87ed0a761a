import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runLint } from '../../engine/cli/commands/rules';
import { writeCodeOwners } from '../../engine/distribution/codeowners';
import { tempDir } from './helpers';

/** `warden rules lint` checks code owners when the repo declares them (the shipped rules + owners.yaml). */
describe('warden rules lint with owners.yaml', () => {
  function repo() {
    const root = tempDir();
    mkdirSync(join(root, '.git'));
    const rules = join(root, 'rules');
    cpSync(join(__dirname, '..', '..', 'rules'), rules, { recursive: true });
    return { root, rules };
  }
  const run = async (dir: string) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runLint(dir, { out: (l) => out.push(l), err: (l) => err.push(l), now: () => Date.UTC(2026, 10, 23) });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };

  it('passes when every function has an owner group and CODEOWNERS is generated', async () => {
    const { rules } = repo();
    writeFileSync(join(rules, 'owners.yaml'), [
      'security: ["@acme/security"]',
      'groups:',
      '  - { name: orders, functions: ["orders-*"], owners: ["@acme/orders"] }',
      '  - { name: payments, functions: ["payments-*"], owners: ["@acme/payments"] }',
      '  - { name: media, functions: ["image-*"], owners: ["@acme/media"] }',
      '',
    ].join('\n'));
    await writeCodeOwners(rules);
    const r = await run(rules);
    expect(r.out).not.toMatch(/code-owner|owner group|CODEOWNERS/);
    expect(r.code).toBe(0);
  });

  it('fails on a function without an owner group, naming the file', async () => {
    const { rules } = repo();
    writeFileSync(join(rules, 'owners.yaml'), 'security: ["@acme/security"]\ngroups:\n  - { name: orders, functions: ["orders-*"], owners: ["@acme/orders"] }\n');
    await writeCodeOwners(rules);
    const r = await run(rules);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/functions\/payments-worker\.yaml:1: error: function "payments-worker" belongs to no owner group/);
  });
});
