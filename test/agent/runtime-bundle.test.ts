/**
 * The agent loads WARDEN_POLICY through the bundle index: only its own function's part is parsed
 * (the whole policy still hash-verified), the policy it gets cannot decide for another function,
 * and a bundle without an index (warden.bundle/1, re-formatted) still loads — in full, with a WARN.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { install, loadPolicy, uninstall } from '../../engine/agent';
import { configFromEnv } from '../../engine/agent/config';
import { compilePolicy, INTERNAL_ERROR_RULE, loadRulesFromFiles, toBundle, type WardenPolicy } from '../../engine/policy';
import { loadBundleFileFor, ScopedPolicy } from '../../engine/policy/bundle';
import type { EventSink } from '../../engine/agent';

const RULES = [
  { path: 'functions/orders-api.yaml', text: 'functions: [orders-api]\nmode: block\nallow:\n  - host: api.stripe.com\n' },
  { path: 'functions/reports.yaml', text: 'functions: ["report-*"]\nmode: learn\nallow:\n  - host: reports.example.com\n' },
  { path: 'global.yaml', text: 'deny:\n  - { id: paste, host: pastebin.com, severity: critical }\n' },
];

let dir: string;
let full: WardenPolicy;
const sink: EventSink = { send: async () => ({ sent: 0, logged: 0 }) };

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'warden-rt-bundle-'));
  full = compilePolicy(loadRulesFromFiles(RULES));
  const b = toBundle(full);
  writeFileSync(join(dir, 'v2.json'), JSON.stringify(b));
  const { index: _index, ...v1 } = { ...b, format: 'warden.bundle/1' };
  writeFileSync(join(dir, 'v1.json'), JSON.stringify(v1, null, 2));
  writeFileSync(join(dir, 'corrupt.json'), JSON.stringify(b).replace('api.stripe.com', 'api.stripe.org'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => uninstall());

const env = (file: string, extra: Record<string, string> = {}) => ({ AWS_LAMBDA_FUNCTION_NAME: 'orders-api', AWS_REGION: 'us-east-1', WARDEN_POLICY: join(dir, file), ...extra });
const http = (host: string) => ({ kind: 'http' as const, host, port: 443 });

describe('agent policy loading through the bundle index', () => {
  it('WARDEN_POLICY: the function reads its own part through the index, decides as the full policy', () => {
    const logs: string[] = [];
    const agent = install({ env: env('v2.json'), sink, log: (l) => logs.push(l), captures: [] });
    expect(agent.policyVersion).toBe(full.policyVersion);
    expect(agent.mode).toBe('block');
    expect(agent.observe(http('api.stripe.com')).verdict).toBe('allow');
    expect(agent.observe(http('pastebin.com'))).toMatchObject({ verdict: 'deny', rule: 'paste' });
    expect(agent.observe(http('reports.example.com')).verdict).toBe('unlisted');
    expect(logs).toEqual([]);
  });

  it('the loaded policy is scoped to the configured function (WARDEN_FUNCTION_NAME wins) and useless for another', () => {
    const config = configFromEnv(env('v2.json', { WARDEN_FUNCTION_NAME: 'report-daily' }));
    const { policy, error } = loadPolicy(config, (path, fn) => {
      expect(fn).toBe('report-daily');
      return loadBundleFileFor(path, fn);
    });
    expect(error).toBeUndefined();
    expect(policy).toBeInstanceOf(ScopedPolicy);
    const scoped = policy as ScopedPolicy;
    expect(scoped.via).toBe('index');
    expect(scoped.modeFor('report-daily')).toBe('learn');
    expect(scoped.decide({ name: 'report-daily' }, http('reports.example.com'), 0)).toEqual(full.decide({ name: 'report-daily' }, http('reports.example.com'), 0));
    expect(scoped.decide({ name: 'orders-api' }, http('api.stripe.com'), 0)).toEqual({ verdict: 'deny', rule: INTERNAL_ERROR_RULE, severity: 'high' });
    expect(scoped.modeFor('orders-api')).toBe('block');
  });

  it('a bundle without an index (warden.bundle/1, re-formatted) loads in full and says so', () => {
    const logs: string[] = [];
    const agent = install({ env: env('v1.json'), sink, log: (l) => logs.push(l), captures: [] });
    expect(agent.policyVersion).toBe(full.policyVersion);
    expect(agent.observe(http('pastebin.com')).verdict).toBe('deny');
    expect(logs).toHaveLength(1);
    expect(JSON.parse(logs[0]!)).toMatchObject({ level: 'WARN', source: 'warden.agent', policyVersion: full.policyVersion, message: expect.stringMatching(/read in full .*warden rules bundle/) });
  });

  it('a modified bundle is not loaded: block mode fails closed', () => {
    const logs: string[] = [];
    const agent = install({ env: env('corrupt.json'), sink, log: (l) => logs.push(l), captures: [] });
    expect(agent.policyVersion).toBeUndefined();
    expect(agent.policyError?.message).toMatch(/hashes to/);
    expect(agent.observe(http('api.stripe.com')).verdict).toBe('deny');
    expect(logs.join('\n')).toMatch(/failing closed/);
  });
});
