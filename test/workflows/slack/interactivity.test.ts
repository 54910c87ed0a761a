import { join } from 'node:path';
import { loadApproversConfig, type ApproversConfig } from '../../../workflows/slack/approvers';
import { MemoryAudit } from '../../../workflows/slack/audit-port';
import { CallbackStore, callbackIdFor, type CallbackItem } from '../../../workflows/slack/callback-store';
import { handleInteraction, type InteractivityDeps } from '../../../workflows/slack/interactivity-core';
import { ACTIONS } from '../../../workflows/slack/messages';
import type { SlackSecrets, SlackSecretsPort } from '../../../workflows/slack/secrets';
import { computeSlackSignature } from '../../../workflows/slack/signature';
import { RecordingSlackPort } from '../../../workflows/slack/slack-port';
import { TaskGoneError, type TaskCallbackPort } from '../../../workflows/slack/task-callback';
import { WardenSlackError } from '../../../workflows/slack/errors';
import { startDynalite, type LocalDynamo } from './dynalite-helper';

const SECRET = 'test-signing-secret';
const T0 = Date.UTC(2026, 10, 23, 18, 0, 0);

class FakeCallbacks implements TaskCallbackPort {
  successes: { token: string; output: unknown }[] = [];
  heartbeats: string[] = [];
  failWith: Error | undefined;
  async sendTaskSuccess(token: string, output: unknown) {
    if (this.failWith) throw this.failWith;
    this.successes.push({ token, output });
  }
  async sendTaskHeartbeat(token: string) {
    if (this.failWith) throw this.failWith;
    this.heartbeats.push(token);
  }
}
class CountingSecrets implements SlackSecretsPort {
  reads = 0;
  forced = 0;
  constructor(public value: SlackSecrets) {}
  async get(opts?: { forceRefresh?: boolean }) {
    this.reads += 1;
    if (opts?.forceRefresh) this.forced += 1;
    return this.value;
  }
}

let db: LocalDynamo;
let approvers: ApproversConfig;
let now = T0;
let deps: InteractivityDeps & { callbacks: FakeCallbacks; slack: RecordingSlackPort; audit: MemoryAudit; secrets: CountingSecrets };
let seq = 0;

beforeAll(async () => {
  db = await startDynalite(['approvals']);
  approvers = await loadApproversConfig(join(__dirname, '../../../rules'));
});
afterAll(async () => db.close());
beforeEach(() => {
  now = T0;
  deps = {
    secrets: new CountingSecrets({ signingSecrets: [SECRET], botToken: 'xoxb-test' }),
    store: new CallbackStore(db.doc, 'warden-approvals'),
    callbacks: new FakeCallbacks(),
    slack: new RecordingSlackPort(),
    approvers,
    audit: new MemoryAudit(),
    clock: { nowMs: () => now },
  };
});

async function pending(kind: CallbackItem['kind'] = 'approval', patch: Partial<CallbackItem> = {}): Promise<CallbackItem> {
  seq += 1;
  const item: CallbackItem = {
    approvalId: callbackIdFor(kind, `arn:aws:states:us-east-1:123456789012:execution:approval:run-${seq}`, 'RequestApproval'),
    kind,
    status: 'pending',
    taskToken: `token-${seq}`,
    functionName: 'payments-worker',
    incidentId: `inc-${seq}`,
    decisionId: `dec-${seq}`,
    executionId: `arn:aws:states:us-east-1:123456789012:execution:approval:run-${seq}`,
    stateName: 'RequestApproval',
    createdAt: new Date(T0).toISOString(),
    expiresAt: T0 + 4 * 3600_000,
    heartbeatSeconds: 3600,
    messages: [{ channel: 'C0PAYMENTSOPS', ts: '1700000000.000001' }],
    ttl: CallbackStore.ttlFor(T0 + 4 * 3600_000),
    ...patch,
  };
  await deps.store.createPending(item);
  return item;
}

function click(actionId: string, value: string, user: string, opts: { secret?: string; ts?: number; base64?: boolean; body?: string } = {}) {
  const payload = {
    type: 'block_actions',
    user: { id: user, username: 'someone' },
    team: { id: 'T0WARDEN' },
    api_app_id: 'A0WARDEN',
    response_url: 'https://hooks.slack.com/actions/T0WARDEN/1/abc',
    container: { type: 'message', channel_id: 'C0PAYMENTSOPS', message_ts: '1700000000.000001' },
    actions: [{ action_id: actionId, value, block_id: 'warden_approval', type: 'button' }],
  };
  const body = opts.body ?? `payload=${encodeURIComponent(JSON.stringify(payload))}`;
  const ts = String(Math.floor((opts.ts ?? now) / 1000));
  const bytes = Buffer.from(body, 'utf8');
  return {
    version: '2.0',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': ts,
      'x-slack-signature': computeSlackSignature(opts.secret ?? SECRET, ts, bytes),
    },
    body: opts.base64 ? bytes.toString('base64') : body,
    isBase64Encoded: Boolean(opts.base64),
    requestContext: { requestId: 'r1', http: { method: 'POST' } },
  };
}

describe('interactivity endpoint', () => {
  it('approve by an approver: one SendTaskSuccess with the decision, item closed, token gone, audited, ephemeral reply', async () => {
    const item = await pending();
    const { response, outcome } = await handleInteraction(click(ACTIONS.approve, item.approvalId, 'U0APPROVER1'), deps);
    expect(outcome).toEqual({ kind: 'decided', approvalId: item.approvalId, status: 'approved', user: 'U0APPROVER1' });
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ response_type: 'ephemeral', replace_original: false, text: expect.stringContaining('you approved') });
    expect(deps.callbacks.successes).toEqual([{ token: item.taskToken, output: { approvalId: item.approvalId, outcome: 'approved', decidedBy: 'U0APPROVER1', decidedAt: new Date(now).toISOString() } }]);
    const stored = await deps.store.get(item.approvalId);
    expect(stored).toMatchObject({ status: 'approved', decidedBy: 'U0APPROVER1' });
    expect(stored?.taskToken).toBeUndefined();
    expect(deps.audit.entries).toEqual([expect.objectContaining({ pk: `INC#${item.incidentId}`, type: 'approval.approved', user: 'U0APPROVER1' })]);
    expect(deps.slack.calls).toEqual([expect.objectContaining({ kind: 'respond', responseUrl: 'https://hooks.slack.com/actions/T0WARDEN/1/abc' })]);
  });

  it('deny by an admin decides denied', async () => {
    const item = await pending();
    const { outcome } = await handleInteraction(click(ACTIONS.deny, item.approvalId, 'U0SECLEAD1'), deps);
    expect(outcome).toMatchObject({ kind: 'decided', status: 'denied' });
    expect(deps.callbacks.successes[0]?.output).toMatchObject({ outcome: 'denied', decidedBy: 'U0SECLEAD1' });
  });

  it('double click and Slack retries: no second decision, "already decided" reply', async () => {
    const item = await pending();
    await handleInteraction(click(ACTIONS.approve, item.approvalId, 'U0APPROVER1'), deps);
    const again = await handleInteraction(click(ACTIONS.approve, item.approvalId, 'U0APPROVER1'), deps);
    const other = await handleInteraction(click(ACTIONS.deny, item.approvalId, 'U0APPROVER2'), deps);
    expect(again.outcome).toMatchObject({ kind: 'closed', status: 'approved' });
    expect(other.outcome).toMatchObject({ kind: 'closed', status: 'approved' });
    expect(other.response.statusCode).toBe(200);
    expect(JSON.parse(other.response.body).text).toMatch(/already decided: approved by <@U0APPROVER1>/);
    expect(deps.callbacks.successes).toHaveLength(1);
  });

  it('simultaneous clicks: exactly one wins', async () => {
    const item = await pending();
    const results = await Promise.all([
      handleInteraction(click(ACTIONS.approve, item.approvalId, 'U0APPROVER1'), deps),
      handleInteraction(click(ACTIONS.deny, item.approvalId, 'U0APPROVER2'), deps),
      handleInteraction(click(ACTIONS.approve, item.approvalId, 'U0SECLEAD1'), deps),
    ]);
    expect(results.filter((r) => r.outcome.kind === 'decided')).toHaveLength(1);
    expect(deps.callbacks.successes).toHaveLength(1);
  });

  it('unauthorized clicker: refused with an ephemeral reply, audited, request stays pending', async () => {
    const item = await pending();
    const { response, outcome } = await handleInteraction(click(ACTIONS.approve, item.approvalId, 'U0INTRUDER1'), deps);
    expect(outcome).toEqual({ kind: 'unauthorized', approvalId: item.approvalId, user: 'U0INTRUDER1' });
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body).text).toMatch(/not allowed to approve or deny accesses of `payments-worker`/);
    expect(deps.callbacks.successes).toHaveLength(0);
    expect((await deps.store.get(item.approvalId))?.status).toBe('pending');
    expect(deps.audit.entries).toEqual([expect.objectContaining({ type: 'slack.unauthorized-click', user: 'U0INTRUDER1' })]);
    // an approver of another group is refused too
    expect((await handleInteraction(click(ACTIONS.deny, item.approvalId, 'U0ORDERSLEAD'), deps)).outcome.kind).toBe('unauthorized');
    // and the real approver can still decide
    expect((await handleInteraction(click(ACTIONS.approve, item.approvalId, 'U0APPROVER2'), deps)).outcome.kind).toBe('decided');
  });

  it('past its hard limit: "already decided or expired", no callback', async () => {
    const item = await pending('approval', { expiresAt: T0 + 1000 });
    now = T0 + 2000;
    const { response, outcome } = await handleInteraction(click(ACTIONS.approve, item.approvalId, 'U0APPROVER1'), deps);
    expect(outcome).toMatchObject({ kind: 'closed', status: 'pending' });
    expect(JSON.parse(response.body).text).toMatch(/already decided or expired/);
    expect(deps.callbacks.successes).toHaveLength(0);
  });

  it('marked expired by the workflow: "already decided or expired"', async () => {
    const item = await pending();
    await deps.store.expire(item.approvalId, new Date(T0 + 5).toISOString());
    const { response, outcome } = await handleInteraction(click(ACTIONS.approve, item.approvalId, 'U0APPROVER1'), deps);
    expect(outcome).toMatchObject({ kind: 'closed', status: 'expired' });
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body).text).toMatch(/already decided or expired/);
  });

  it('the task timed out before the click arrived: item expired, "too late" reply, no error', async () => {
    const item = await pending();
    deps.callbacks.failWith = new TaskGoneError('TaskTimedOut');
    const { response, outcome } = await handleInteraction(click(ACTIONS.approve, item.approvalId, 'U0APPROVER1'), deps);
    expect(outcome).toMatchObject({ kind: 'expired' });
    expect(response.statusCode).toBe(200);
    expect((await deps.store.get(item.approvalId))?.status).toBe('expired');
    deps.callbacks.failWith = undefined;
    expect((await handleInteraction(click(ACTIONS.deny, item.approvalId, 'U0APPROVER1'), deps)).outcome).toMatchObject({ kind: 'closed', status: 'expired' });
  });

  it('a transient SendTaskSuccess failure rolls the decision back so the click can be repeated', async () => {
    const item = await pending();
    deps.callbacks.failWith = new WardenSlackError('SendTaskSuccess failed: ThrottlingException');
    const first = await handleInteraction(click(ACTIONS.approve, item.approvalId, 'U0APPROVER1'), deps);
    expect(first.outcome.kind).toBe('retry');
    expect(JSON.parse(first.response.body).text).toMatch(/click again/);
    const stored = await deps.store.get(item.approvalId);
    expect(stored).toMatchObject({ status: 'pending', taskToken: item.taskToken });
    expect(stored?.decidedBy).toBeUndefined();
    deps.callbacks.failWith = undefined;
    expect((await handleInteraction(click(ACTIONS.approve, item.approvalId, 'U0APPROVER1'), deps)).outcome.kind).toBe('decided');
  });

  it('"Still reviewing" sends a heartbeat and decides nothing', async () => {
    const item = await pending();
    const { outcome } = await handleInteraction(click(ACTIONS.review, item.approvalId, 'U0APPROVER2'), deps);
    expect(outcome.kind).toBe('heartbeat');
    expect(deps.callbacks.heartbeats).toEqual([item.taskToken]);
    expect(deps.callbacks.successes).toHaveLength(0);
    expect(await deps.store.get(item.approvalId)).toMatchObject({ status: 'pending', lastHeartbeatBy: 'U0APPROVER2' });
    expect((await handleInteraction(click(ACTIONS.review, item.approvalId, 'U0INTRUDER1'), deps)).outcome.kind).toBe('unauthorized');
  });

  it('acknowledge: tier users and approvers may, others may not; a button of the wrong kind is unknown', async () => {
    const ack = await pending('ack', { allowedUsers: ['U0ONCALL1'], functionName: 'image-resizer', tier: 'on-call' });
    expect((await handleInteraction(click(ACTIONS.ack, ack.approvalId, 'U0INTRUDER1'), deps)).outcome.kind).toBe('unauthorized');
    expect((await handleInteraction(click(ACTIONS.approve, ack.approvalId, 'U0ONCALL1'), deps)).outcome.kind).toBe('unknown');
    expect((await handleInteraction(click(ACTIONS.looking, ack.approvalId, 'U0MEDIALEAD'), deps)).outcome.kind).toBe('heartbeat');
    const done = await handleInteraction(click(ACTIONS.ack, ack.approvalId, 'U0ONCALL1'), deps);
    expect(done.outcome).toMatchObject({ kind: 'decided', status: 'acknowledged' });
    expect(deps.callbacks.successes[0]?.output).toMatchObject({ outcome: 'acknowledged', decidedBy: 'U0ONCALL1' });
  });

  it('unknown ids and foreign buttons get a polite reply, not an error', async () => {
    expect((await handleInteraction(click(ACTIONS.approve, callbackIdFor('approval', 'nope', 'x'), 'U0APPROVER1'), deps)).outcome.kind).toBe('unknown');
    const foreign = await handleInteraction(click('some_other_app_button', 'x', 'U0APPROVER1'), deps);
    expect(foreign.outcome.kind).toBe('ignored');
    expect(foreign.response.statusCode).toBe(200);
    expect((await handleInteraction(click(ACTIONS.approve, 'apr_../../etc', 'U0APPROVER1'), deps)).outcome.kind).toBe('ignored');
  });

  it('verifies base64 bodies', async () => {
    const item = await pending();
    expect((await handleInteraction(click(ACTIONS.approve, item.approvalId, 'U0APPROVER1', { base64: true }), deps)).outcome.kind).toBe('decided');
  });

  it('refuses forged, stale and malformed requests before reading the payload', async () => {
    const item = await pending();
    const forged = await handleInteraction(click(ACTIONS.approve, item.approvalId, 'U0APPROVER1', { secret: 'wrong' }), deps);
    expect(forged.response.statusCode).toBe(401);
    expect(forged.response.body).not.toMatch(/mismatch|secret/);
    expect(deps.secrets.forced).toBe(1); // re-read once in case the secret was rotated
    expect((await handleInteraction(click(ACTIONS.approve, item.approvalId, 'U0APPROVER1', { ts: now - 301_000 }), deps)).outcome).toMatchObject({ kind: 'rejected', reason: 'stale-timestamp' });
    expect((await handleInteraction(click(ACTIONS.approve, item.approvalId, 'U0APPROVER1', { ts: now + 301_000 }), deps)).outcome).toMatchObject({ kind: 'rejected', reason: 'future-timestamp' });
    const tampered = click(ACTIONS.approve, item.approvalId, 'U0APPROVER1');
    tampered.body = tampered.body.replace('U0APPROVER1', 'U0APPROVER2');
    expect((await handleInteraction(tampered, deps)).outcome).toMatchObject({ kind: 'rejected', status: 401, reason: 'mismatch' });
    const noHeaders = click(ACTIONS.approve, item.approvalId, 'U0APPROVER1');
    noHeaders.headers = { 'content-type': 'application/x-www-form-urlencoded' } as typeof noHeaders.headers;
    expect((await handleInteraction(noHeaders, deps)).outcome).toMatchObject({ kind: 'rejected', status: 401, reason: 'missing-header' });
    expect((await handleInteraction(click('', '', '', { body: 'payload=%7Bnot json' }), deps)).outcome).toMatchObject({ kind: 'rejected', status: 400 });
    expect((await handleInteraction(click('', '', '', { body: 'nothing=here' }), deps)).outcome).toMatchObject({ kind: 'rejected', status: 400 });
    expect((await handleInteraction(click('', '', '', { body: `payload=${encodeURIComponent('{"type":"block_actions","user":{}}')}` }), deps)).outcome).toMatchObject({ kind: 'rejected', status: 400 });
    expect((await handleInteraction(click('', '', '', { body: `payload=${encodeURIComponent('{"type":"view_submission"}')}` }), deps)).outcome).toMatchObject({ kind: 'ignored' });
    expect((await handleInteraction({ ...click(ACTIONS.approve, item.approvalId, 'U0APPROVER1'), requestContext: { http: { method: 'GET' } } }, deps)).outcome).toMatchObject({ kind: 'rejected', status: 405 });
    expect((await handleInteraction('not an event', deps)).outcome).toMatchObject({ kind: 'rejected', status: 400 });
    expect(deps.callbacks.successes).toHaveLength(0);
    expect((await deps.store.get(item.approvalId))?.status).toBe('pending');
  });

  it('reads header names case-insensitively', async () => {
    const item = await pending();
    const ev = click(ACTIONS.approve, item.approvalId, 'U0APPROVER1');
    ev.headers = { 'X-Slack-Request-Timestamp': ev.headers['x-slack-request-timestamp'], 'X-Slack-Signature': ev.headers['x-slack-signature'] } as unknown as typeof ev.headers;
    expect((await handleInteraction(ev, deps)).outcome.kind).toBe('decided');
  });
});
