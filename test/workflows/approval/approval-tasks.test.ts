import fc from 'fast-check';
import { TABLES } from '../../../engine/audit/tables';
import { requestApproval, runApprovalTask, type ApprovalTaskDeps } from '../../../workflows/approval/approval-tasks';
import { loadApproversConfig } from '../../../workflows/slack/approvers';
import { MemoryAudit } from '../../../workflows/slack/audit-port';
import { CallbackStore } from '../../../workflows/slack/callback-store';
import { computeSlackSignature, verifySlackSignature } from '../../../workflows/slack/signature';
import { RecordingSlackPort } from '../../../workflows/slack/slack-port';
import { startDynalite, type LocalDynamo } from '../slack/dynalite-helper';
import { decision, RULES } from '../slack/harness';

let db: LocalDynamo;
let deps: ApprovalTaskDeps & { slack: RecordingSlackPort; audit: MemoryAudit };
const now = Date.parse('2026-11-23T18:00:00.000Z');

beforeAll(async () => { db = await startDynalite(['approvals']); });
afterAll(async () => db.close());
beforeEach(async () => {
  deps = {
    store: new CallbackStore(db.doc, TABLES.approvals.defaultName),
    slack: new RecordingSlackPort(),
    audit: new MemoryAudit(),
    clock: { nowMs: () => now },
    approvers: await loadApproversConfig(RULES),
    exceptions: { grant: async () => ({ created: true }) },
  };
});

const request = (token: string, executionId: string) => ({
  task: 'request', taskToken: token, executionId, stateName: 'RequestApproval', decision: decision(),
  heartbeatSeconds: 3600, timeoutSeconds: 14400, onTimeout: 'deny (then escalate)',
});

describe('approval tasks', () => {
  it('a retried request task posts once and moves the pending item to the new token', async () => {
    const first = await requestApproval(request('token-1', 'arn:exec:retry'), deps);
    const second = await requestApproval(request('token-2', 'arn:exec:retry'), deps);
    expect(first.posted).toBe(true);
    expect(second).toEqual({ ...first, posted: false });
    expect(deps.slack.calls.filter((c) => c.kind === 'post')).toHaveLength(1);
    expect(await deps.store.get(first.approvalId)).toMatchObject({ status: 'pending', taskToken: 'token-2', expiresAt: now + 14400_000 });
  });

  it('a closed request cannot be reopened by a late retry', async () => {
    const { approvalId } = await requestApproval(request('token-a', 'arn:exec:closed'), deps);
    await deps.store.expire(approvalId, new Date(now).toISOString());
    await expect(requestApproval(request('token-b', 'arn:exec:closed'), deps)).rejects.toThrow(/already closed/);
  });

  it('bad input names the task and the field', async () => {
    await expect(runApprovalTask({ ...request('t', 'e'), decision: { verdict: 'maybe' } }, deps)).rejects.toThrow(/approval.request: the decision is not a valid "Policy Decision" detail/);
    await expect(runApprovalTask({ ...request('t', 'e'), heartbeatSeconds: -1 }, deps)).rejects.toThrow(/heartbeatSeconds/);
    await expect(runApprovalTask(null, deps)).rejects.toThrow(/approval task "undefined" is unknown/);
  });
});

describe('Slack signature properties', () => {
  it('any body and secret: the signature Slack computes verifies; any changed byte does not', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 512 }), fc.string({ minLength: 1, maxLength: 64 }), fc.nat(), (bytes, secret, idx) => {
      const body = Buffer.from(bytes);
      const ts = String(Math.floor(now / 1000));
      const signature = computeSlackSignature(secret, ts, body);
      verifySlackSignature({ rawBody: body, timestamp: ts, signature }, [secret], now);
      const tampered = Buffer.from(body);
      const i = idx % tampered.length;
      tampered[i] = (tampered[i]! + 1) % 256;
      expect(() => verifySlackSignature({ rawBody: tampered, timestamp: ts, signature }, [secret], now)).toThrow(/does not match/);
    }), { numRuns: 200 });
  });
});
