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

let n = 0;
function esc(fn: string, patch: Parameters<typeof decision>[0] = {}) {
  n += 1;
  return decision({
    incidentId: `inc-esc-${n}`, decisionId: `dec-esc-${n}`, verdict: 'deny', rule: 'no-paste-sites', severity: 'high', response: 'escalate',
    function: { name: fn, account: '123456789012', region: 'us-east-1', tags: {} },
    access: { kind: 'http', host: 'pastebin.com', port: 443, method: 'POST' },
    reason: `${fn} POSTed to pastebin.com, denied by no-paste-sites.`,
    ...patch,
  });
}
const tierOf = (t: { payload?: unknown }) => (t.payload as { tier: { name: string; attempt: number } }).tier;

describe('escalate workflow on the synthesized definition (local runner, simulated account)', () => {
  it('ack at tier 2: tier 1 is paged twice, the security lead acknowledges, escalation stops and records who', async () => {
    const d = esc('payments-worker');
    h.whenWaiting((t) => tierOf(t).name === 'security-lead', async (_t, id) => {
      h.clock.advance(3 * 60_000);
      expect(await h.click(ACTIONS.ack, id, 'U0SECLEAD1')).toMatchObject({ kind: 'decided', status: 'acknowledged' });
    });
    const r = await h.runner.run('Escalate', asEvent(d));
    expect(r.status).toBe('SUCCEEDED');
    expect(r.path).toEqual([
      'NormalizeInput', 'DecisionFromEvent', 'ClaimIncident', 'AlreadyEscalating', 'SelectPlan',
      'Notify on-call (tier 1, notice 1)', 'Notify on-call (tier 1, notice 2)', 'Notify security-lead (tier 2)',
      'Record acknowledgement', 'Acknowledged',
    ]);
    expect(h.clock.iso()).toBe('2026-11-23T18:13:00.000Z');
    expect((r.output as { acknowledged: unknown }).acknowledged).toEqual({ acknowledgedBy: 'U0SECLEAD1', at: '2026-11-23T18:13:00.000Z', tier: 'security-lead' });
    // Slack: on-call channel twice, then the security channel; SNS pages for each tier that has a topic
    expect(h.slack.calls.filter((c) => c.kind === 'post').map((c) => c.channel)).toEqual(['C0ONCALL', 'C0ONCALL', 'C0SECURITY']);
    expect(h.sns.published.map((p) => p.topicArn)).toEqual([expect.stringMatching(/OncallPager/), expect.stringMatching(/OncallPager/), expect.stringMatching(/SecurityLeads/)]);
    expect(h.sns.published[0]!.message).toMatch(/pastebin\.com/);
    const updates = h.slack.calls.filter((c) => c.kind === 'update').map((c) => c.text);
    expect(updates).toEqual([expect.stringMatching(/No acknowledgement from tier on-call/), expect.stringMatching(/No acknowledgement from tier on-call/), expect.stringMatching(/Acknowledged by <@U0SECLEAD1>/)]);
    const audit = await h.audit.list(`INC#${d.incidentId}`);
    // entries at the same simulated instant sort by type, so compare as a multiset
    expect(audit.map((e) => e.type).sort()).toEqual([
      'escalation.ack-received', 'escalation.acknowledged', 'escalation.notified', 'escalation.notified', 'escalation.notified', 'escalation.tier-passed', 'escalation.tier-passed',
    ]);
    expect(audit.find((e) => e.type === 'escalation.acknowledged')).toMatchObject({ by: 'U0SECLEAD1', tier: 'security-lead' });
    expect(audit.find((e) => e.type === 'escalation.ack-received')).toMatchObject({ user: 'U0SECLEAD1' });
    expect(h.started).toHaveLength(0);
    expect(formatTrace(r)).toMatch(/SIMULATED/);
  });

  it('no ack → final action: image-resizer goes through every tier of its override, then quarantine starts with the decision', async () => {
    const d = esc('image-resizer', { access: { kind: 'http', host: 'cdn-metrics.example.net', port: 443 }, verdict: 'unlisted', rule: null });
    const r = await h.runner.run('Escalate', d);
    expect(r.status).toBe('SUCCEEDED');
    expect(r.path).toEqual([
      'NormalizeInput', 'DecisionFromInput', 'ClaimIncident', 'AlreadyEscalating', 'SelectPlan',
      'media Notify media-on-call (tier 1)', 'media Notify security-lead (tier 2)',
      'media Record no acknowledgement', 'media Start quarantine', 'media Quarantine started',
    ]);
    expect(h.clock.iso()).toBe('2026-11-23T18:07:00.000Z'); // 2 min + 5 min of ack windows, simulated
    expect(h.started).toEqual([{ stateMachineArn: expect.stringMatching(/QuarantineStandIn/), input: expect.objectContaining({ source: 'warden.escalate', detail: d }) }]);
    const audit = (await h.audit.list(`INC#${d.incidentId}`)).map((e) => e.type);
    expect(audit.sort()).toEqual(['escalation.notified', 'escalation.notified', 'escalation.tier-passed', 'escalation.unacknowledged']);
    expect(h.slack.calls.filter((c) => c.kind === 'update').at(-1)!.text).toMatch(/quarantine of the function has been started/);
  });

  it('repeat: orders-api passes over the tiers twice, then ends FAILED as unacknowledged (bounded, never silent)', async () => {
    const d = esc('orders-api');
    const r = await h.runner.run('Escalate', d);
    expect(r.status).toBe('FAILED');
    expect(r.error).toBe('Warden.Unacknowledged');
    expect(r.path.filter((s) => s.includes('Notify'))).toHaveLength(8);
    expect(r.path).toContain('orders Notify ciso (tier 3, pass 2)');
    expect(h.started).toHaveLength(0);
  });

  it('"Looking into it" holds a tier past its ack window, up to maxWait; a late ack on a passed tier is "expired"', async () => {
    const d = esc('payments-worker');
    const incidentOf = (t: { payload?: unknown }) => (t.payload as { decision: { incidentId: string } }).decision.incidentId;
    h.whenWaiting((t) => tierOf(t).name === 'on-call' && tierOf(t).attempt === 1 && incidentOf(t) === d.incidentId, async (_t, id) => {
      h.clock.advance(4 * 60_000);
      expect(await h.click(ACTIONS.looking, id, 'U0ONCALL1')).toMatchObject({ kind: 'heartbeat' });
      h.clock.advance(4 * 60_000);
      expect(await h.click(ACTIONS.ack, id, 'U0ONCALL2')).toMatchObject({ kind: 'decided' });
    });
    const r = await h.runner.run('Escalate', d);
    expect(r.path.filter((s) => s.includes('Notify'))).toEqual(['Notify on-call (tier 1, notice 1)']);
    expect(h.clock.iso()).toBe('2026-11-23T18:08:00.000Z');

    // a second incident: nobody on tier 1 answers the first notice, the on-call clicks it after it passed
    const d2 = esc('payments-worker');
    h.whenWaiting((t) => tierOf(t).name === 'on-call' && tierOf(t).attempt === 2 && incidentOf(t) === d2.incidentId, async () => {
      const first = buttonValue(h.slack, ACTIONS.ack, 1);
      expect(await h.click(ACTIONS.ack, first, 'U0ONCALL1')).toMatchObject({ kind: 'closed', status: 'expired' });
      await h.click(ACTIONS.ack, buttonValue(h.slack, ACTIONS.ack, 2), 'U0ONCALL1');
    });
    const r2 = await h.runner.run('Escalate', d2);
    expect(r2.path.filter((s) => s.includes('Notify'))).toHaveLength(2);
    expect(r2.path.at(-1)).toBe('Acknowledged');
  });

  it('unauthorized ack is refused and audited; escalation continues', async () => {
    const d = esc('image-resizer');
    h.whenWaiting((t) => tierOf(t).name === 'media-on-call', async (_t, id) => {
      expect(await h.click(ACTIONS.ack, id, 'U0INTRUDER1')).toMatchObject({ kind: 'unauthorized' });
    });
    const r = await h.runner.run('Escalate', d);
    expect(r.path).toContain('media Start quarantine');
    expect((await h.audit.list(`INC#${d.incidentId}`)).some((e) => e.type === 'slack.unauthorized-click' && e.user === 'U0INTRUDER1')).toBe(true);
  });

  it('a tier that cannot be notified is skipped, not waited on', async () => {
    const d = esc('image-resizer');
    const realPost = h.slack.postMessage.bind(h.slack);
    h.slack.postMessage = async (channel, m) => {
      if (channel === 'C0MEDIAOPS') throw Object.assign(new Error('channel_not_found'), { name: 'SlackApiError' });
      return realPost(channel, m);
    };
    const r = await h.runner.run('Escalate', d);
    expect(r.status).toBe('SUCCEEDED');
    expect(r.path).toContain('media Notify security-lead (tier 2)');
    expect(h.clock.iso()).toBe('2026-11-23T18:05:00.000Z'); // tier 1 not waited on
    const audit = await h.audit.list(`INC#${d.incidentId}`);
    expect(audit.find((e) => e.type === 'escalation.tier-passed')).toMatchObject({ reason: 'EscalationNotifyError' });
  });

  it('one escalation per incident: a repeat while it runs, or within quietPeriod after, is a duplicate', async () => {
    const d = esc('payments-worker');
    h.whenWaiting((t) => tierOf(t).name === 'on-call' && (t.payload as { decision: { incidentId: string } }).decision.incidentId === d.incidentId, async (_t, id) => {
      const again = await h.runner.run('Escalate', { ...d, decisionId: 'dec-repeat' });
      expect(again.path.slice(-2)).toEqual(['AlreadyEscalating', 'Duplicate']);
      await h.click(ACTIONS.ack, id, 'U0ONCALL1');
    });
    expect((await h.runner.run('Escalate', d)).path.at(-1)).toBe('Acknowledged');
    h.clock.advance(30 * 60_000);
    expect((await h.runner.run('Escalate', d)).path.at(-1)).toBe('Duplicate');
    h.clock.advance(31 * 60_000);
    h.whenWaiting(() => true, async (_t, id) => { await h.click(ACTIONS.ack, id, 'U0ONCALL2'); });
    expect((await h.runner.run('Escalate', d)).path).toContain('Notify on-call (tier 1, notice 1)');
  });

  it('a Slack failure while closing the last tier never stops the final action', async () => {
    const d = esc('image-resizer');
    h.slack.updateMessage = async () => { throw Object.assign(new Error('slack is down'), { name: 'SlackApiError' }); };
    const r = await h.runner.run('Escalate', d);
    expect(r.status).toBe('SUCCEEDED');
    expect(r.path.slice(-2)).toEqual(['media Start quarantine', 'media Quarantine started']);
    expect(h.started).toHaveLength(1);
  });

  it('a tier with only users gets direct messages', async () => {
    const d = esc('payments-worker');
    h.whenWaiting((t) => tierOf(t).name === 'ciso', async (_t, id) => { await h.click(ACTIONS.ack, id, 'U0CISO0001'); });
    const r = await h.runner.run('Escalate', d);
    expect(r.path.at(-1)).toBe('Acknowledged');
    expect(h.slack.calls.filter((c) => c.kind === 'post').map((c) => c.channel)).toEqual(['C0ONCALL', 'C0ONCALL', 'C0SECURITY', 'U0CISO0001']);
  });
});
