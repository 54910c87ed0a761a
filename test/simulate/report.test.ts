import { parseScenario } from '../../engine/local/simulate/scenario';
import { buildSummary, checkExpectations, workflowRuns } from '../../engine/local/simulate/report';
import type { DecisionLine, RoleDiff, TimelineLine } from '../../engine/local/simulate/timeline';

const scenario = parseScenario(`
name: t
functions: { orders-api: {}, payments-worker: {} }
timeline: [{ at: 0, note: hi }]
expect:
  decisions:
    - { function: orders-api, verdict: deny, rule: paste-pastebin }
  workflows:
    - { workflow: quarantine, function: orders-api }
`);

const t = '2026-11-23T09:00:00.000Z';
const decision = (over: Partial<DecisionLine>): DecisionLine => ({
  type: 'decision', t, eventId: 'e1', decisionId: 'd1', incidentId: 'i1', function: 'orders-api', verdict: 'deny', rule: 'paste-pastebin',
  severity: 'critical', response: 'quarantine', policyVersion: 'sha256:x', reason: 'r', ...over,
});
const role = { inlinePolicies: ['p'], managedPolicies: [], concurrency: 5 };

function summary(lines: TimelineLine[], opts: { emitted?: number; deadLettered?: number; roles?: RoleDiff[]; problems?: string[] } = {}) {
  return buildSummary({ scenario, lines, emitted: opts.emitted ?? 0, deadLettered: opts.deadLettered ?? 0, roles: opts.roles ?? [], problems: opts.problems ?? [], simStartMs: Date.parse(t), simEndMs: Date.parse(t) + 3_600_000, wallMs: 1234.4 });
}

const quarantineRun: TimelineLine[] = [
  { type: 'workflow.start', t, workflow: 'quarantine', executionId: 'x1', function: 'orders-api', incidentId: 'i1', status: 'RUNNING' },
  { type: 'workflow.end', t, workflow: 'quarantine', executionId: 'x1', function: 'orders-api', status: 'SUCCEEDED', outcome: 'quarantined', error: null },
];

describe('buildSummary', () => {
  it('is ok when every event is decided, expectations hold and nothing is left running', () => {
    const s = summary([decision({}), ...quarantineRun], { emitted: 1 });
    expect(s).toMatchObject({ type: 'summary', ok: true, unaccounted: 0, decided: 1, restoredExactly: true, restored: 0, simulated: true, simulatedDuration: '1h', wallMs: 1234 });
    expect(s.decisions).toEqual({ total: 1, allow: 0, deny: 1, unlisted: 0, byRule: { 'paste-pastebin': 1 } });
    expect(s.actionsByType).toEqual({});
    expect(s.workflows).toEqual([{ workflow: 'quarantine', executionId: 'x1', function: 'orders-api', status: 'SUCCEEDED', outcome: 'quarantined' }]);
  });

  it('counts dead-lettered events as accounted for and reports lost ones', () => {
    expect(summary([decision({}), ...quarantineRun], { emitted: 2, deadLettered: 1 }).unaccounted).toBe(0);
    const lost = summary([decision({}), ...quarantineRun], { emitted: 3 });
    expect(lost.unaccounted).toBe(2);
    expect(lost.ok).toBe(false);
    expect(lost.problems).toContain('2 agent event(s) were neither decided nor dead-lettered (emitted 3, decided 1, dead-lettered 0)');
  });

  it('counts one decision per event id (a redelivered decision is not a second event)', () => {
    expect(summary([decision({}), decision({ decisionId: 'd2' }), ...quarantineRun], { emitted: 1 }).unaccounted).toBe(0);
  });

  it('fails when a restored role differs from its snapshot', () => {
    const roles: RoleDiff[] = [{ function: 'orders-api', role: 'orders-api', before: role, quarantined: role, after: role, restoredExactly: false }];
    const s = summary([decision({}), ...quarantineRun], { emitted: 1, roles });
    expect(s.restoredExactly).toBe(false);
    expect(s.problems).toContain('the restored role orders-api of orders-api differs from its quarantine snapshot');
  });

  it('ignores roles never restored for restoredExactly', () => {
    const roles: RoleDiff[] = [{ function: 'orders-api', role: 'orders-api', before: role, quarantined: role, after: role, restoredExactly: null }];
    expect(summary([decision({}), ...quarantineRun], { emitted: 1, roles })).toMatchObject({ restoredExactly: true, restored: 0, ok: true });
  });

  it('fails on workflows still running or ending other than expected', () => {
    const s = summary([decision({}), ...quarantineRun,
      { type: 'workflow.start', t, workflow: 'escalate', executionId: 'x2', function: 'payments-worker', incidentId: null, status: 'RUNNING' },
      { type: 'workflow.start', t, workflow: 'approval', executionId: 'x3', function: 'payments-worker', incidentId: null, status: 'RUNNING' },
      { type: 'workflow.end', t, workflow: 'approval', executionId: 'x3', function: 'payments-worker', status: 'FAILED', outcome: null, error: 'boom' },
    ], { emitted: 1 });
    expect(s.ok).toBe(false);
    expect(s.problems).toEqual([
      'the escalate workflow x2 for payments-worker was still running when the simulation ended',
      'the approval workflow x3 for payments-worker ended FAILED',
    ]);
  });

  it('counts simulated AWS calls by service:action', () => {
    const action = (a: string) => ({ type: 'action' as const, t, service: 'iam', action: a, params: {}, ok: true, error: null, workflow: 'quarantine' as const, executionId: 'x1', simulated: true as const });
    const s = summary([decision({}), ...quarantineRun, action('putRolePolicy'), action('detachRolePolicy'), action('detachRolePolicy')], { emitted: 1 });
    expect(s.actions).toBe(3);
    expect(s.actionsByType).toEqual({ 'iam:putRolePolicy': 1, 'iam:detachRolePolicy': 2 });
  });

  it('keeps the problems met while running', () => {
    expect(summary([decision({}), ...quarantineRun], { emitted: 1, problems: ['x'] })).toMatchObject({ ok: false, problems: ['x'] });
  });
});

describe('checkExpectations', () => {
  it('says what was expected and what was seen', () => {
    expect(checkExpectations(scenario, [decision({ rule: 'other' })])).toEqual([
      'expected a deny decision by rule paste-pastebin for orders-api, got 0 (seen: deny/other→quarantine)',
      'expected the quarantine workflow for orders-api to end SUCCEEDED, got no run',
    ]);
  });
  it('checks the response when the expectation names one', () => {
    const withResponse = parseScenario(`
name: t
functions: { orders-api: {} }
timeline: [{ at: 0, note: hi }]
expect:
  decisions: [{ function: orders-api, verdict: deny, response: escalate }]
`);
    expect(checkExpectations(withResponse, [decision({})])).toEqual(['expected a deny decision with response escalate for orders-api, got 0 (seen: deny/paste-pastebin→quarantine)']);
    expect(checkExpectations(withResponse, [decision({ response: 'escalate' })])).toEqual([]);
  });

  it('passes when met', () => {
    expect(checkExpectations(scenario, [decision({}), ...quarantineRun])).toEqual([]);
  });
  it('tracks workflow runs from start to end', () => {
    expect(workflowRuns(quarantineRun.slice(0, 1))[0]!.status).toBe('RUNNING');
  });
});
