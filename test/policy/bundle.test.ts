import { BundleError, compilePolicy, loadRulesDir, readBundle, toBundle, loadBundleFile } from '../../engine/policy';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aws, http, NOW, tcp } from './helpers';

describe('bundle', () => {
  let text: string;
  let version: string;
  const accesses = [
    aws('dynamodb', 'PutItem', 'arn:aws:dynamodb:us-east-1:123456789012:table/orders'),
    aws('dynamodb', 'DeleteTable', 'arn:aws:dynamodb:us-east-1:123456789012:table/orders'),
    http('www.pastebin.com'), http('api.stripe.com'), tcp('169.254.169.254', 80), http('example.com'),
  ];
  beforeAll(async () => {
    const p = compilePolicy(await loadRulesDir('rules'));
    version = p.policyVersion;
    text = JSON.stringify(toBundle(p));
  });
  it('round-trips: same version, same decisions, same modes', async () => {
    const p = compilePolicy(await loadRulesDir('rules'));
    const b = readBundle(text);
    expect(b.policyVersion).toBe(version);
    expect(JSON.parse(text)).toMatchObject({ format: 'warden.bundle/2', policyVersion: version });
    for (const fn of ['orders-api', 'payments-worker', 'image-resizer', 'other']) {
      expect(b.modeFor(fn)).toBe(p.modeFor(fn));
      for (const a of accesses) expect(b.decide({ name: fn }, a, NOW)).toEqual(p.decide({ name: fn }, a, NOW));
    }
  });
  it('loads from a file', () => {
    const f = join(mkdtempSync(join(tmpdir(), 'warden-b-')), 'b.json');
    writeFileSync(f, text);
    expect(loadBundleFile(f).policyVersion).toBe(version);
    expect(() => loadBundleFile(f + '.missing')).toThrow(BundleError);
  });
  it.each([
    ['truncated', (t: string) => t.slice(0, t.length / 2), /not JSON/],
    ['not an object', () => '[]', /not a JSON object/],
    ['another format', (t: string) => t.replace('warden.bundle/2', 'warden.bundle/9'), /format/],
    ['an edited entry', (t: string) => t.replace('"host":"*.pastebin.com"'.replace('*.', ''), '"host":"pastebin.org"'), /hashes to/],
    ['a dropped deny list', (t: string) => { const o = JSON.parse(t); o.policy.global.deny = []; return JSON.stringify(o); }, /hashes to/],
    ['a missing list', (t: string) => { const o = JSON.parse(t); delete o.policy.global.deny; return JSON.stringify(o); }, /global\.deny/],
    ['an unknown entry key', (t: string) => { const o = JSON.parse(t); o.policy.global.deny[0].allowAll = true; return JSON.stringify(o); }, /unknown key/],
    ['a bad cidr', (t: string) => { const o = JSON.parse(t); o.policy.global.deny.find((e: { kind: string }) => e.kind === 'cidr').cidr = 'x'; return JSON.stringify(o); }, /cidr/],
  ])('a corrupt bundle (%s) throws BundleError', (_name, mutate, re) => {
    expect(() => readBundle(mutate(text))).toThrow(BundleError);
    expect(() => readBundle(mutate(text))).toThrow(re);
  });
});
