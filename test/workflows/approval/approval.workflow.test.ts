import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { TABLES } from '../../../engine/audit/tables';
import type { CfnTemplate } from '../../../workflows/local/asl-from-template';
import { formatTrace } from '../../../workflows/local/runner';
import { ACTIONS } from '../../../workflows/slack/messages';
import { startDynalite, type LocalDynamo } from '../slack/dynalite-helper';
import { asEvent, buttonValue, decision, makeHarness, synthWorkflows, type Harness } from '../slack/harness';

let template: CfnTemplate;
let db: LocalDynamo;
let h: Harness;

beforeAll(async () => {
  template = await synthWorkflows();
  db = await startDynalite(['approvals', 'exceptions', 'audit']);
});
afterAll(async () => db.close());
beforeEach(async () => { h = await makeHarness(template, db); });

const isRequest = (t: { stateName: string }) => t.stateName === 'RequestApproval';
let n = 0;
const fresh = () => {
  n += 1;
  const d = decision({ incidentId: `inc-approval-${n}`, decisionId: `dec-approval-${n}` });
  return { ...d, access: { ...d.access, resource: `${d.access.resource}-${n}` } };
};

describe('approval workflow on the synthesized definition (local runner, simulated account)', () => {
  it('approve: posts the request (no token in Slack), the approver clicks, an exact time-bound exception is granted, the message says who and when', async () => {
    const d = fresh();
    h.whenWaiting(isRequest, async (_t, id) => { h.clock.advance(120_000); await h.click(ACTIONS.approve, id, 'U0APPROVER1'); });
    const r = await h.runner.run('Approval', asEvent(d));
    expect(r.status).toBe('SUCCEEDED');
    expect(r.path).toEqual(['NormalizeInput', 'DecisionFromEvent', 'ClaimRequest', 'AlreadyRequested', 'RequestApproval', 'Decided', 'RecordApproval', 'Approved']);
    const post = h.slack.calls.find((c) => c.kind === 'post')!;
    expect(post.channel).toBe('C0PAYMENTSOPS');
    const blocksText = JSON.stringify(post.blocks);
    expect(blocksText).toContain('warden_approve');
    expect(blocksText).not.toMatch(/sim-token/);
    const out = r.output as { exception: { exceptionId: string; expiresAt: string } };
    // approved 2 min after the request; payments exceptions last 8 h
    expect(out.exception.expiresAt).toBe('2026-11-24T02:02:00.000Z');
    const ex = await db.doc.send(new GetCommand({ TableName: TABLES.exceptions.defaultName, Key: { functionName: 'payments-worker', exceptionId: out.exception.exceptionId } }));
    expect(ex.Item).toMatchObject({
      access: d.access, grantedBy: 'U0APPROVER1', incidentId: d.incidentId,
      entry: { aws: 'dynamodb:PutItem', resource: d.access.resource },
    });
    const update = h.slack.calls.filter((c) => c.kind === 'update').at(-1)!;
    expect(update.text).toMatch(/Approved by <@U0APPROVER1>/);
    expect(JSON.stringify(update.blocks)).not.toContain('warden_approve');
    const types = (await h.audit.list(`INC#${d.incidentId}`)).map((e) => e.type);
    expect(types).toEqual(['approval.requested', 'approval.approved', 'approval.exception-granted']);
    expect(formatTrace(r)).toMatch(/SIMULATED/);
  });

  it('deny: the message says who denied, then the configured follow-up (escalation) starts with the decision', async () => {
    const d = fresh();
    h.whenWaiting(isRequest, async (_t, id) => { await h.click(ACTIONS.deny, id, 'U0APPROVER2'); });
    const r = await h.runner.run('Approval', d);
    expect(r.status).toBe('SUCCEEDED');
    expect(r.path).toEqual(['NormalizeInput', 'DecisionFromInput', 'ClaimRequest', 'AlreadyRequested', 'RequestApproval', 'Decided', 'RecordDenial', 'StartEscalationAfterDeny', 'EscalationStartedAfterDeny']);
    expect(h.started).toHaveLength(1);
    expect(h.started[0]!.stateMachineArn).toMatch(/EscalateStateMachine/);
    expect(h.started[0]!.input).toMatchObject({ source: 'warden.approval', 'detail-type': 'Policy Decision', detail: d });
    expect(h.slack.calls.filter((c) => c.kind === 'update').at(-1)!.text).toMatch(/Denied by <@U0APPROVER2>/);
  });

  it('timeout: nobody answers within approval.timeout → expired, message updated, treated as deny → escalation', async () => {
    const d = fresh();
    const r = await h.runner.run('Approval', d);
    expect(r.status).toBe('SUCCEEDED');
    expect(r.path).toEqual(['NormalizeInput', 'DecisionFromInput', 'ClaimRequest', 'AlreadyRequested', 'RequestApproval', 'ApplyTimeout', 'StartEscalationAfterDeny', 'EscalationStartedAfterDeny']);
    expect(r.trace.some((t) => t.kind === 'catch')).toBe(true);
    expect(h.clock.iso()).toBe('2026-11-23T19:00:00.000Z'); // HeartbeatSeconds = 1 h, on the simulated clock
    expect(h.slack.calls.filter((c) => c.kind === 'update').at(-1)!.text).toMatch(/No decision.*Treated as denied/);
    const types = (await h.audit.list(`INC#${d.incidentId}`)).map((e) => e.type);
    expect(types).toEqual(['approval.requested', 'approval.expired']);
    expect(h.started).toHaveLength(1);
  });

  it('"Still reviewing" keeps the request open past approval.timeout, up to maxWait', async () => {
    const d = fresh();
    h.whenWaiting(isRequest, async (_t, id) => {
      for (let i = 0; i < 3; i++) {
        h.clock.advance(50 * 60_000);
        expect(await h.click(ACTIONS.review, id, 'U0APPROVER1')).toMatchObject({ kind: 'heartbeat' });
      }
      h.clock.advance(30 * 60_000);
      await h.click(ACTIONS.approve, id, 'U0APPROVER1');
    });
    const r = await h.runner.run('Approval', d);
    expect(r.status).toBe('SUCCEEDED');
    expect(r.path).toContain('RecordApproval');
    expect(h.clock.iso()).toBe('2026-11-23T21:00:00.000Z');
  });

  it('expired: a click after the timeout gets "already decided or expired" and changes nothing', async () => {
    const d = fresh();
    const r = await h.runner.run('Approval', d);
    expect(r.path).toContain('ApplyTimeout');
    const id = buttonValue(h.slack, ACTIONS.approve);
    const late = await h.click(ACTIONS.approve, id, 'U0APPROVER1');
    expect(late).toMatchObject({ kind: 'closed', status: 'expired' });
    const types = (await h.audit.list(`INC#${d.incidentId}`)).map((e) => e.type);
    expect(types).not.toContain('approval.approved');
  });

  it('unauthorized approver: refused and audited; the request stays open for the real approver', async () => {
    const d = fresh();
    h.whenWaiting(isRequest, async (_t, id) => {
      expect(await h.click(ACTIONS.approve, id, 'U0INTRUDER1')).toMatchObject({ kind: 'unauthorized' });
      h.clock.advance(60_000);
      await h.click(ACTIONS.deny, id, 'U0APPROVER1');
    });
    const r = await h.runner.run('Approval', d);
    expect(r.path).toContain('RecordDenial');
    const entries = await h.audit.list(`INC#${d.incidentId}`);
    expect(entries.find((e) => e.type === 'slack.unauthorized-click')).toMatchObject({ user: 'U0INTRUDER1', functionName: 'payments-worker' });
    expect(entries.find((e) => e.type === 'approval.denied')).toMatchObject({ user: 'U0APPROVER1' });
  });

  it('double click: the second click (and a Slack retry) decides nothing', async () => {
    const d = fresh();
    h.whenWaiting(isRequest, async (_t, id) => {
      const [a, b] = await Promise.all([h.click(ACTIONS.approve, id, 'U0APPROVER1'), h.click(ACTIONS.deny, id, 'U0APPROVER2')]);
      expect([a.kind, b.kind].sort()).toEqual(['closed', 'decided']);
      expect(await h.click(ACTIONS.approve, id, 'U0APPROVER1')).toMatchObject({ kind: 'closed' });
    });
    const r = await h.runner.run('Approval', d);
    expect(r.status).toBe('SUCCEEDED');
    const decided = (await h.audit.list(`INC#${d.incidentId}`)).filter((e) => e.type === 'approval.approved' || e.type === 'approval.denied');
    expect(decided).toHaveLength(1);
  });

  it('repeats of the same access: one request while it is open, none while its exception lasts', async () => {
    const d = fresh();
    const repeat = { ...d, decisionId: `${d.decisionId}-again`, eventId: 'evt-again' };
    h.whenWaiting(isRequest, async (_t, id) => {
      const second = await h.runner.run('Approval', repeat);
      expect(second.status).toBe('SUCCEEDED');
      expect(second.path.slice(-2)).toEqual(['AlreadyRequested', 'Duplicate']);
      await h.click(ACTIONS.approve, id, 'U0APPROVER1');
    });
    const first = await h.runner.run('Approval', d);
    expect(first.path).toContain('RecordApproval');
    h.clock.advance(3600_000);
    const third = await h.runner.run('Approval', repeat);
    expect(third.path.at(-1)).toBe('Duplicate');
    expect(h.slack.calls.filter((c) => c.kind === 'post')).toHaveLength(1);
    const audit = await h.audit.list(`INC#${d.incidentId}`);
    expect(audit.filter((e) => e.type === 'approval.duplicate')).toHaveLength(2);
    // another access of the same function is its own request
    const other = await h.runner.run('Approval', { ...d, access: { ...d.access, action: 'DeleteItem' } });
    expect(other.path).toContain('RequestApproval');
  });

  it('an approval that cannot be written as an exact exception fails visibly, allows nothing, and says so in Slack', async () => {
    const d = { ...fresh(), access: { kind: 'aws' as const, service: 's3', action: 'GetObject', resource: `arn:aws:s3:::reports-${n}/*` } };
    h.whenWaiting(isRequest, async (_t, id) => { await h.click(ACTIONS.approve, id, 'U0APPROVER1'); });
    const r = await h.runner.run('Approval', d);
    expect(r.status).toBe('FAILED');
    expect(r.error).toBe('Warden.ApprovalNotRecorded');
    expect(r.path.slice(-3)).toEqual(['RecordApproval', 'RecordGrantFailure', 'ApprovalNotRecorded']);
    expect(h.slack.calls.filter((c) => c.kind === 'update').at(-1)!.text).toMatch(/could not be recorded.*nothing was allowed/);
    expect((await h.audit.list(`INC#${d.incidentId}`)).map((e) => e.type)).toContain('approval.grant-failed');
  });

  it('a Slack failure while recording a deny never stops the deny follow-up', async () => {
    const d = fresh();
    h.slack.updateMessage = async () => { throw Object.assign(new Error('slack is down'), { name: 'SlackApiError' }); };
    h.whenWaiting(isRequest, async (_t, id) => { await h.click(ACTIONS.deny, id, 'U0APPROVER1'); });
    const r = await h.runner.run('Approval', d);
    expect(r.status).toBe('SUCCEEDED');
    expect(r.path.slice(-2)).toEqual(['StartEscalationAfterDeny', 'EscalationStartedAfterDeny']);
    expect(r.trace.filter((t) => t.kind === 'retry').length).toBeGreaterThan(0);
    expect(h.started).toHaveLength(1);
  });

  it('a request that cannot be posted fails the execution visibly (never a silent success)', async () => {
    const d = fresh();
    h.slack.postMessage = async () => { throw Object.assign(new Error('channel_not_found'), { name: 'SlackApiError' }); };
    const r = await h.runner.run('Approval', { ...d, function: { ...d.function, name: 'orders-api' } });
    expect(r.status).toBe('FAILED');
    expect(r.error).toBe('Warden.ApprovalRequestFailed');
    expect(r.path).toEqual(expect.arrayContaining(['RequestApproval', 'RecordRequestFailure', 'ApprovalRequestFailed']));
  });
});
