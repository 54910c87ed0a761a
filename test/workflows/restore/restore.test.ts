import { QUARANTINE_POLICY_NAME } from '../../../workflows/common/deps';
import type { CfnTemplate } from '../../../workflows/local/asl-from-template';
import { startDynalite, type Dynalite } from '../local/dynalite';
import { ORDERS_ACCOUNT, makeEnv, newIncident, responseTemplate } from '../quarantine/harness';

type Env = ReturnType<typeof makeEnv>;

describe('restore workflow (synthesized definition, local runner, SIMULATED account)', () => {
  let template: CfnTemplate;
  let db: Dynalite;
  beforeAll(async () => {
    template = responseTemplate();
    db = await startDynalite(['audit', 'snapshots']);
  });
  afterAll(async () => { await db.close(); });

  const state = (env: Env, fn = 'orders-api', role = 'orders-api-role') => ({ role: env.account.describeRole(role), fn: env.account.describeFunction(fn) });
  const quarantined = async (env: Env, functionName = 'orders-api') => {
    const incidentId = newIncident();
    const q = await env.runner.run('Quarantine', { incidentId, functionName });
    expect(q.status).toBe('SUCCEEDED');
    return incidentId;
  };

  it('quarantine then restore leaves role and function identical to before, field by field', async () => {
    const env = makeEnv(template, db);
    const before = state(env);
    const incidentId = await quarantined(env);
    expect(state(env)).not.toEqual(before);
    const r = await env.runner.run('Restore', { incidentId, requestedBy: 'U123' });
    expect(r.status).toBe('SUCCEEDED');
    expect(r.path).toEqual(['Plan', 'Decide', 'ApplyRestore', 'DenyAllPresent', 'RemoveDenyAllPolicy', 'VerifyAndReport', 'Restored']);
    const after = state(env);
    expect(after.role.attachedPolicyArns).toEqual(before.role.attachedPolicyArns);
    expect(after.role.inlinePolicies).toEqual(before.role.inlinePolicies);
    expect(after.role.permissionsBoundaryArn).toBe(before.role.permissionsBoundaryArn);
    expect(after.role.tags).toEqual(before.role.tags);
    expect(after.fn.reservedConcurrency).toBe(before.fn.reservedConcurrency);
    expect(after.fn.tags).toEqual(before.fn.tags);
    expect(after.fn.eventSourceMappings).toEqual(before.fn.eventSourceMappings);
    expect(after).toEqual(before);
    const types = (await env.deps.audit.list(`INC#${incidentId}`)).map((a) => a.type);
    expect(types).toContain('restore.restored');
    expect(types.filter((t) => t === 'restore.action').length).toBeGreaterThanOrEqual(7);
    expect(env.notifier.sent.at(-1)!.subject).toMatch(/^\[SIMULATED\] \[Warden\] restore restored: orders-api/);
    // the deny-all goes last
    const last = env.account.mutations().at(-1)!;
    expect(`${last.service}:${last.operation}`).toBe('iam:deleteRolePolicy');
  });

  it('restores "no reserved concurrency" (deletes the reservation rather than guessing a number)', async () => {
    const env = makeEnv(template, db, { ...ORDERS_ACCOUNT, functions: ORDERS_ACCOUNT.functions!.map((f) => (f.name === 'orders-api' ? { ...f, reservedConcurrency: null } : f)) });
    const before = state(env);
    expect(before.fn.reservedConcurrency).toBeNull();
    const incidentId = await quarantined(env);
    expect(env.account.describeFunction('orders-api').reservedConcurrency).toBe(0);
    expect((await env.runner.run('Restore', { incidentId })).status).toBe('SUCCEEDED');
    expect(state(env)).toEqual(before);
    expect(env.account.mutations().some((a) => a.operation === 'deleteFunctionConcurrency')).toBe(true);
  });

  it('is idempotent: a second restore changes nothing and succeeds', async () => {
    const env = makeEnv(template, db);
    const before = state(env);
    const incidentId = await quarantined(env);
    expect((await env.runner.run('Restore', { incidentId })).status).toBe('SUCCEEDED');
    const n = env.account.mutations().length;
    const r2 = await env.runner.run('Restore', { incidentId });
    expect(r2.status).toBe('SUCCEEDED');
    expect(r2.path).toEqual(['Plan', 'Decide', 'ReportNoChange', 'RefusedOrDone', 'NothingChanged']);
    expect(env.account.mutations()).toHaveLength(n);
    expect(state(env)).toEqual(before);
    expect((r2.output as { report: { status: string } }).report.status).toBe('already-restored');
  });

  it('dry run lists the steps and changes nothing', async () => {
    const env = makeEnv(template, db);
    const incidentId = await quarantined(env);
    const quarantinedState = state(env);
    const n = env.account.mutations().length;
    const r = await env.runner.run('Restore', { incidentId, dryRun: true });
    expect(r.status).toBe('SUCCEEDED');
    expect(env.account.mutations()).toHaveLength(n);
    expect(state(env)).toEqual(quarantinedState);
    const desc = (r.output as { plan: { description: string[] } }).plan.description;
    expect(desc).toContain('re-attach managed policy arn:aws:iam::123456789012:policy/orders-table-rw to role orders-api-role');
    expect(desc.at(-1)).toBe('delete inline deny-all policy warden-quarantine from role orders-api-role (last)');
    expect(env.notifier.sent.at(-1)!.text).toContain('DRY RUN');
  });

  it('undoes drift made during the quarantine, so the result is exactly the snapshot', async () => {
    const env = makeEnv(template, db);
    const before = state(env);
    const incidentId = await quarantined(env);
    await env.account.call('iam', 'attachRolePolicy', { RoleName: 'orders-api-role', PolicyArn: 'arn:aws:iam::123456789012:policy/boundary-app' });
    await env.account.call('iam', 'putRolePolicy', { RoleName: 'orders-api-role', PolicyName: 'added-later', PolicyDocument: '{"Version":"2012-10-17","Statement":[]}' });
    await env.account.call('iam', 'deleteRolePermissionsBoundary', { RoleName: 'orders-api-role' });
    await env.account.call('lambda', 'tagResource', { Resource: 'orders-api', Tags: { team: 'someone-else', extra: 'x' } });
    expect((await env.runner.run('Restore', { incidentId })).status).toBe('SUCCEEDED');
    expect(state(env)).toEqual(before);
  });

  it('re-attaches a full set of 10 managed policies (the quota)', async () => {
    const names = Array.from({ length: 10 }, (_, i) => `policy-${i}`);
    const env = makeEnv(template, db, {
      managedPolicies: names.map((name) => ({ name })),
      roles: [{ name: 'full-role', attachedPolicies: names, tags: { 'warden:protected': 'true' } }],
      functions: [{ name: 'full-fn', role: 'full-role', reservedConcurrency: 3 }],
    });
    const before = state(env, 'full-fn', 'full-role');
    const incidentId = await quarantined(env, 'full-fn');
    expect((await env.runner.run('Restore', { incidentId })).status).toBe('SUCCEEDED');
    expect(state(env, 'full-fn', 'full-role')).toEqual(before);
  });

  it('retries throttling with backoff', async () => {
    const env = makeEnv(template, db);
    const before = state(env);
    const incidentId = await quarantined(env);
    env.account.injectFault({ service: 'iam', operation: 'attachRolePolicy', code: 'Throttling', times: 1 });
    env.account.injectFault({ service: 'iam', operation: 'deleteRolePolicy', code: 'Throttling', times: 1 });
    const r = await env.runner.run('Restore', { incidentId });
    expect(r.status).toBe('SUCCEEDED');
    expect(r.trace.filter((t) => t.kind === 'retry').map((t) => t.state)).toEqual(['ApplyRestore', 'RemoveDenyAllPolicy']);
    expect(state(env)).toEqual(before);
  });

  it('AccessDenied part-way: FAILED, recorded, escalated, deny-all kept; a later run completes it exactly', async () => {
    const env = makeEnv(template, db);
    const before = state(env);
    const incidentId = await quarantined(env);
    env.account.injectFault({ service: 'lambda', operation: 'putFunctionConcurrency', code: 'AccessDenied' });
    const r = await env.runner.run('Restore', { incidentId });
    expect(r.status).toBe('FAILED');
    expect(r.error).toBe('Warden.RestoreFailed');
    expect(r.path.slice(-3)).toEqual(['ApplyRestore', 'RecordFailure', 'RestoreFailed']);
    expect(env.account.describeRole('orders-api-role').inlinePolicies[QUARANTINE_POLICY_NAME]).toBeDefined();
    const failed = (await env.deps.audit.list(`INC#${incidentId}`, ['restore.failed']))[0]!;
    expect(failed.error).toBe('Warden.AccessDenied');
    expect((failed.actionsSoFar as string[]).some((a) => a.startsWith('re-attach managed policy'))).toBe(true);
    expect(env.notifier.sent.at(-1)!.subject).toContain('ESCALATION: restore FAILED');

    env.account.clearFaults();
    expect((await env.runner.run('Restore', { incidentId })).status).toBe('SUCCEEDED');
    expect(state(env)).toEqual(before);
  });

  it('fails clearly when the incident has no snapshot', async () => {
    const env = makeEnv(template, db);
    const r = await env.runner.run('Restore', { incidentId: newIncident('missing') });
    expect(r.status).toBe('FAILED');
    expect(r.cause).toMatch(/Warden\.SnapshotError.*no snapshot for incident/);
    expect(env.account.mutations()).toEqual([]);
  });
});
