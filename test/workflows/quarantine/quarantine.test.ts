import { QUARANTINE_POLICY_NAME } from '../../../workflows/common/deps';
import type { CfnTemplate } from '../../../workflows/local/asl-from-template';
import { startDynalite, type Dynalite } from '../local/dynalite';
import { makeEnv, newIncident, responseTemplate } from './harness';

describe('quarantine workflow (synthesized definition, local runner, SIMULATED account)', () => {
  let template: CfnTemplate;
  let db: Dynalite;
  beforeAll(async () => {
    template = responseTemplate();
    db = await startDynalite(['audit', 'snapshots']);
  });
  afterAll(async () => { await db.close(); });

  const quarantine = (env: ReturnType<typeof makeEnv>, input: Record<string, unknown>) => env.runner.run('Quarantine', input);

  it('snapshots once, denies all and revokes older sessions, detaches, stops invocations, tags, notifies', async () => {
    const env = makeEnv(template, db);
    const incidentId = newIncident();
    const before = { role: env.account.describeRole('orders-api-role'), fn: env.account.describeFunction('orders-api') };
    const r = await quarantine(env, { incidentId, functionName: 'orders-api', reason: 'critical deny: pastebin' });
    expect(r.status).toBe('SUCCEEDED');
    expect(r.path).toEqual(['NormalizeInput', 'Plan', 'Decide', 'Snapshot', 'TagIncident', 'DenyAllNeeded', 'PutDenyAllPolicy', 'DetachManagedPolicies', 'StopInvocations', 'Report', 'Quarantined']);

    const role = env.account.describeRole('orders-api-role');
    const fn = env.account.describeFunction('orders-api');
    const deny = JSON.parse(role.inlinePolicies[QUARANTINE_POLICY_NAME]!) as { Statement: { Effect: string; Action: string; Resource: string; Condition?: unknown }[] };
    expect(deny.Statement).toEqual([
      { Sid: 'WardenQuarantineDenyAll', Effect: 'Deny', Action: '*', Resource: '*' },
      { Sid: 'WardenRevokeOlderSessions', Effect: 'Deny', Action: '*', Resource: '*', Condition: { DateLessThan: { 'aws:TokenIssueTime': '2026-11-23T18:00:00.000Z' } } },
    ]);
    expect(role.attachedPolicyArns).toEqual([]);
    expect(role.inlinePolicies['kms-decrypt']).toBe(before.role.inlinePolicies['kms-decrypt']);
    expect(role.permissionsBoundaryArn).toBe(before.role.permissionsBoundaryArn);
    expect(role.tags['warden:incident']).toBe(incidentId);
    expect(fn.tags['warden:incident']).toBe(incidentId);
    expect(fn.reservedConcurrency).toBe(0);
    expect(fn.eventSourceMappings.map((m) => m.state)).toEqual(['Disabled', 'Disabled']);
    // the deny-all went through the aws-sdk integration; the rest through the Lambda tasks' account port
    expect(env.account.mutations().map((a) => `${a.service}:${a.operation}`)).toEqual([
      'iam:tagRole', 'lambda:tagResource', 'iam:putRolePolicy',
      'iam:detachRolePolicy', 'iam:detachRolePolicy', 'iam:detachRolePolicy',
      'lambda:putFunctionConcurrency', 'lambda:updateEventSourceMapping',
    ]);
    expect(env.account.actions().every((a) => a.simulated)).toBe(true);

    const snap = await env.deps.snapshots.get(incidentId);
    expect(snap).toMatchObject({
      incidentId, simulated: true,
      role: { roleName: 'orders-api-role', attachedPolicyArns: before.role.attachedPolicyArns, inlinePolicies: before.role.inlinePolicies, permissionsBoundaryArn: before.role.permissionsBoundaryArn, tags: before.role.tags },
      function: { functionName: 'orders-api', reservedConcurrency: 25, tags: before.fn.tags, eventSourceMappings: [{ uuid: 'esm-orders-queue', state: 'Enabled' }, { uuid: 'esm-orders-stream', state: 'Disabled' }] },
    });
    const audit = await env.deps.audit.list(`INC#${incidentId}`);
    expect(audit.filter((a) => a.type === 'quarantine.action').map((a) => a.action)).toEqual([
      'tag-role', 'tag-function', 'detach-managed-policy', 'detach-managed-policy', 'detach-managed-policy', 'set-reserved-concurrency', 'disable-event-source-mapping', 'put-deny-all-inline-policy',
    ]);
    expect(audit.map((a) => a.type)).toContain('quarantine.quarantined');
    expect(env.notifier.sent).toHaveLength(1);
    expect(env.notifier.sent[0]!.subject).toMatch(/^\[SIMULATED\] \[Warden\] quarantine quarantined: orders-api/);
    expect(env.notifier.sent[0]!.text).toContain('detach-managed-policy orders-api-role');
  });

  it('accepts a Policy Decision event (EventBridge or another workflow) as input', async () => {
    const env = makeEnv(template, db);
    const incidentId = newIncident();
    const r = await quarantine(env, { source: 'warden.engine', 'detail-type': 'Policy Decision', detail: { incidentId, function: { name: 'orders-api' }, reason: 'critical deny' } });
    expect(r.status).toBe('SUCCEEDED');
    expect(r.path.slice(0, 3)).toEqual(['NormalizeInput', 'FromDecisionEvent', 'Plan']);
    expect(env.account.describeRole('orders-api-role').tags['warden:incident']).toBe(incidentId);
  });

  it('a second run for the same incident changes nothing and succeeds', async () => {
    const env = makeEnv(template, db);
    const incidentId = newIncident();
    expect((await quarantine(env, { incidentId, functionName: 'orders-api' })).status).toBe('SUCCEEDED');
    const after1 = { role: env.account.describeRole('orders-api-role'), fn: env.account.describeFunction('orders-api') };
    const snap1 = await env.deps.snapshots.get(incidentId);
    const mutations = env.account.mutations().length;
    env.clock.advance(3600_000);
    const r2 = await quarantine(env, { incidentId, functionName: 'orders-api' });
    expect(r2.status).toBe('SUCCEEDED');
    expect(r2.path).not.toContain('Snapshot');
    expect(r2.path).not.toContain('PutDenyAllPolicy');
    expect(env.account.mutations()).toHaveLength(mutations);
    expect(env.account.describeRole('orders-api-role')).toEqual(after1.role);
    expect(env.account.describeFunction('orders-api')).toEqual(after1.fn);
    expect(await env.deps.snapshots.get(incidentId)).toEqual(snap1);
    expect((r2.output as { report: { actions: unknown[]; status: string } }).report).toMatchObject({ status: 'quarantined', actions: [] });
  });

  it('a function already quarantined by an earlier incident is not re-snapshotted', async () => {
    const env = makeEnv(template, db);
    const first = newIncident('first');
    const second = newIncident('second');
    expect((await quarantine(env, { incidentId: first, functionName: 'orders-api' })).status).toBe('SUCCEEDED');
    const mutations = env.account.mutations().length;
    const r = await quarantine(env, { incidentId: second, functionName: 'orders-api' });
    expect(r.status).toBe('SUCCEEDED');
    expect(r.path).not.toContain('Snapshot');
    expect(await env.deps.snapshots.get(second)).toBeNull();
    expect(env.account.mutations()).toHaveLength(mutations);
    expect(env.account.describeRole('orders-api-role').tags['warden:incident']).toBe(first);
    expect((r.output as { report: { status: string } }).report.status).toBe('already-quarantined');
    expect(env.notifier.sent[1]!.text).toContain(`already quarantined by incident ${first}`);
  });

  it('retries IAM throttling with backoff and still succeeds (Lambda task and aws-sdk step)', async () => {
    const env = makeEnv(template, db);
    env.account.injectFault({ service: 'iam', operation: 'detachRolePolicy', code: 'Throttling', times: 2 });
    env.account.injectFault({ service: 'iam', operation: 'putRolePolicy', code: 'Throttling', times: 1 });
    const r = await quarantine(env, { incidentId: newIncident(), functionName: 'orders-api' });
    expect(r.status).toBe('SUCCEEDED');
    const retries = r.trace.filter((t) => t.kind === 'retry');
    expect(retries.map((t) => `${t.state}: ${t.message}`)).toEqual([
      'PutDenyAllPolicy: Iam.ThrottlingException: retrying after 1 s (simulated backoff)',
      'DetachManagedPolicies: Warden.Throttling: retrying after 1 s (simulated backoff)',
      'DetachManagedPolicies: Warden.Throttling: retrying after 2 s (simulated backoff)',
    ]);
    expect(env.account.describeRole('orders-api-role').attachedPolicyArns).toEqual([]);
  });

  it('AccessDenied part-way: records what was done, escalates, and the execution FAILS', async () => {
    const env = makeEnv(template, db);
    const incidentId = newIncident();
    env.account.injectFault({ service: 'lambda', operation: 'putFunctionConcurrency', code: 'AccessDenied' });
    const r = await quarantine(env, { incidentId, functionName: 'orders-api' });
    expect(r.status).toBe('FAILED');
    expect(r.error).toBe('Warden.QuarantineFailed');
    expect(r.cause).toMatch(/Warden\.AccessDenied/);
    expect(r.path.slice(-3)).toEqual(['StopInvocations', 'RecordFailure', 'QuarantineFailed']);
    const failed = (await env.deps.audit.list(`INC#${incidentId}`, ['quarantine.failed']))[0]!;
    expect(failed.error).toBe('Warden.AccessDenied');
    expect((failed.actionsSoFar as { action: string }[]).map((a) => a.action)).toEqual([
      'tag-role', 'tag-function', 'detach-managed-policy', 'detach-managed-policy', 'detach-managed-policy', 'put-deny-all-inline-policy',
    ]);
    expect(env.notifier.sent).toHaveLength(1);
    expect(env.notifier.sent[0]!.subject).toContain('ESCALATION: quarantine FAILED');
    expect(env.notifier.sent[0]!.severity).toBe('critical');
    // the deny-all was in place before the failure: the role stays contained
    expect(env.account.describeRole('orders-api-role').inlinePolicies[QUARANTINE_POLICY_NAME]).toBeDefined();
  });

  it('after a failure part-way, a rerun of the same incident completes it from the original snapshot, and restore is exact', async () => {
    const env = makeEnv(template, db);
    const incidentId = newIncident();
    const before = { role: env.account.describeRole('orders-api-role'), fn: env.account.describeFunction('orders-api') };
    env.account.injectFault({ service: 'lambda', operation: 'updateEventSourceMapping', code: 'AccessDenied' });
    expect((await quarantine(env, { incidentId, functionName: 'orders-api' })).status).toBe('FAILED');
    const snap = await env.deps.snapshots.get(incidentId);
    env.account.clearFaults();
    const r = await quarantine(env, { incidentId, functionName: 'orders-api' });
    expect(r.status).toBe('SUCCEEDED');
    expect(r.path).not.toContain('Snapshot');
    expect(await env.deps.snapshots.get(incidentId)).toEqual(snap);
    expect(env.account.describeFunction('orders-api').eventSourceMappings.map((m) => m.state)).toEqual(['Disabled', 'Disabled']);
    expect((await env.runner.run('Restore', { incidentId })).status).toBe('SUCCEEDED');
    expect({ role: env.account.describeRole('orders-api-role'), fn: env.account.describeFunction('orders-api') }).toEqual(before);
  });

  it('a deny-all put by hand (no incident tag) counts as quarantined: no snapshot of the denied role, and no further change', async () => {
    const env = makeEnv(template, db);
    await env.account.call('iam', 'putRolePolicy', { RoleName: 'orders-api-role', PolicyName: 'warden-quarantine', PolicyDocument: '{"Version":"2012-10-17","Statement":[]}' });
    const incidentId = newIncident();
    const r = await quarantine(env, { incidentId, functionName: 'orders-api' });
    expect(r.status).toBe('SUCCEEDED');
    expect(await env.deps.snapshots.get(incidentId)).toBeNull();
    expect(r.path).toEqual(['NormalizeInput', 'Plan', 'Decide', 'Report', 'Quarantined']);
    expect(env.account.mutations().map((a) => a.operation)).toEqual(['putRolePolicy']);
    expect((r.output as { report: { status: string } }).report.status).toBe('already-quarantined');
    expect(env.notifier.sent[0]!.text).toMatch(/no snapshot of that incident exists: Warden changes nothing more/);
  });

  it('AccessDenied on the aws-sdk deny-all step is caught too (FAILED, recorded, notified)', async () => {
    const env = makeEnv(template, db);
    const incidentId = newIncident();
    env.account.injectFault({ service: 'iam', operation: 'putRolePolicy', code: 'AccessDenied' });
    const r = await quarantine(env, { incidentId, functionName: 'orders-api' });
    expect(r.status).toBe('FAILED');
    expect(r.cause).toMatch(/Iam\.AccessDeniedException/);
    const failed = (await env.deps.audit.list(`INC#${incidentId}`, ['quarantine.failed']))[0]!;
    expect((failed.actionsSoFar as { action: string }[]).map((a) => a.action)).toEqual(['tag-role', 'tag-function']);
    expect(env.notifier.sent[0]!.subject).toContain('FAILED');
  });

  it('dry run reports the plan and changes nothing', async () => {
    const env = makeEnv(template, db);
    const incidentId = newIncident();
    const r = await quarantine(env, { incidentId, functionName: 'orders-api', dryRun: true });
    expect(r.status).toBe('SUCCEEDED');
    expect(r.path).toEqual(['NormalizeInput', 'Plan', 'Decide', 'ReportDryRun', 'DryRunReported']);
    expect(env.account.mutations()).toEqual([]);
    expect(await env.deps.snapshots.get(incidentId)).toBeNull();
    const steps = (r.output as { plan: { steps: string[] } }).plan.steps;
    expect(steps[0]).toMatch(/^snapshot role orders-api-role/);
    expect(steps).toContain('set reserved concurrency of orders-api to 0 (was 25)');
    expect(steps).toContain('disable event source mapping esm-orders-queue (arn:aws:sqs:us-east-1:123456789012:orders)');
    expect(steps.some((s) => s.startsWith('disable event source mapping esm-orders-stream'))).toBe(false);
    expect(env.notifier.sent[0]!.text).toContain('DRY RUN');
  });

  it('says when other functions share the role (they are cut off too)', async () => {
    const env = makeEnv(template, db, {
      roles: [{ name: 'shared-role', tags: { 'warden:protected': 'true' } }],
      functions: [{ name: 'a-fn', role: 'shared-role' }, { name: 'b-fn', role: 'shared-role' }, { name: 'c-fn', role: 'shared-role' }],
    });
    const r = await quarantine(env, { incidentId: newIncident(), functionName: 'b-fn', dryRun: true });
    const plan = (r.output as { plan: { sharedWith: string[]; steps: string[] } }).plan;
    expect(plan.sharedWith).toEqual(['a-fn', 'c-fn']);
    expect(plan.steps[0]).toBe('note: role shared-role is also used by a-fn, c-fn; the deny-all and detached policies cut them off too');
  });

  it('works when the role already has the maximum number of managed policies', async () => {
    const names = Array.from({ length: 10 }, (_, i) => `policy-${i}`);
    const env = makeEnv(template, db, {
      managedPolicies: [...names.map((name) => ({ name })), { name: 'one-more' }],
      roles: [{ name: 'full-role', attachedPolicies: names }],
      functions: [{ name: 'full-fn', role: 'full-role', tags: { 'warden:protected': 'yes' } }],
    });
    // the quota is real in the simulated account
    await expect(env.account.call('iam', 'attachRolePolicy', { RoleName: 'full-role', PolicyArn: 'arn:aws:iam::123456789012:policy/one-more' })).rejects.toMatchObject({ name: 'LimitExceededException' });
    const r = await quarantine(env, { incidentId: newIncident(), functionName: 'full-fn' });
    expect(r.status).toBe('SUCCEEDED');
    const role = env.account.describeRole('full-role');
    expect(role.attachedPolicyArns).toEqual([]);
    expect(role.inlinePolicies[QUARANTINE_POLICY_NAME]).toBeDefined();
    expect(env.account.describeFunction('full-fn').reservedConcurrency).toBe(0);
  });

  it('refuses a function out of scope (not tagged, not listed) and changes nothing', async () => {
    const env = makeEnv(template, db);
    const r = await quarantine(env, { incidentId: newIncident(), functionName: 'billing' });
    expect(r.status).toBe('FAILED');
    expect(r.error).toBe('Warden.Refused');
    expect(r.path).toEqual(['NormalizeInput', 'Plan', 'Decide', 'ReportRefused', 'Refused']);
    expect(env.account.mutations()).toEqual([]);
    expect(env.notifier.sent[0]!.text).toMatch(/out of scope: neither it nor role billing-role is tagged warden:protected/);
  });

  it('a function listed in the rules repo is in scope without the tag', async () => {
    const env = makeEnv(template, db);
    const r = await quarantine(env, { incidentId: newIncident(), functionName: 'billing', listedInRules: true });
    expect(r.status).toBe('SUCCEEDED');
    expect(env.account.describeFunction('billing').reservedConcurrency).toBe(0);
  });

  it('a function matching a listed glob from the rules repo (guardrail config) is in scope, e.g. when started by an event', async () => {
    const env = makeEnv(template, db, undefined, { listedFunctions: ['bill*'] });
    const r = await quarantine(env, { source: 'warden.engine', detail: { incidentId: newIncident(), function: { name: 'billing' }, reason: 'critical' } });
    expect(r.status).toBe('SUCCEEDED');
    expect(env.account.describeFunction('billing').reservedConcurrency).toBe(0);
  });

  it("never touches Warden's own roles, even when tagged protected or listed", async () => {
    const env = makeEnv(template, db);
    const r = await quarantine(env, { incidentId: newIncident(), functionName: 'warden-engine', listedInRules: true });
    expect(r.status).toBe('FAILED');
    expect(r.error).toBe('Warden.Refused');
    expect(env.account.mutations()).toEqual([]);
    expect(env.notifier.sent[0]!.text).toContain("Warden never quarantines itself");
  });

  it('an invalid input fails with a recorded, notified Warden.InvalidInput — never success', async () => {
    const env = makeEnv(template, db);
    const r = await quarantine(env, { functionName: 'orders-api' });
    expect(r.status).toBe('FAILED');
    expect(r.cause).toMatch(/Warden\.InvalidInput/);
    expect(r.cause).toMatch(/incidentId/);
    expect(env.account.mutations()).toEqual([]);
    expect(env.notifier.sent[0]!.subject).toContain('FAILED');
  });
});
