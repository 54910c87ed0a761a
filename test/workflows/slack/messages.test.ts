import { ExceptionRecordSchema, exceptionCovers } from '../../../engine/handler/exceptions';
import { compilePolicy } from '../../../engine/policy';
import { loadRulesDir } from '../../../engine/policy/loader';
import { AllowEntrySchema } from '../../../engine/policy/schema';
import type { ExceptionRecord } from '../../../workflows/approval/exception-store';
import { allowEntryFor, ExactExceptionError } from '../../../workflows/approval/exception-store';
import { recordApproval } from '../../../workflows/approval/approval-tasks';
import { approvalRequestMessage, describeAccess, esc } from '../../../workflows/slack/messages';
import { MemoryAudit } from '../../../workflows/slack/audit-port';
import { RecordingSlackPort } from '../../../workflows/slack/slack-port';
import type { CallbackStore } from '../../../workflows/slack/callback-store';
import { loadApproversConfig } from '../../../workflows/slack/approvers';
import { decision, RULES } from './harness';

describe('Block Kit messages', () => {
  it('escape event data: a host cannot ping @channel or smuggle a link', () => {
    expect(esc('<!channel> <https://evil|bank> & co')).toBe('&lt;!channel&gt; &lt;https://evil|bank&gt; &amp; co');
    const d = decision({ access: { kind: 'http', host: '<!channel>.evil.example', port: 443 }, reason: 'see <https://evil.example|your bank>' });
    const m = approvalRequestMessage(d, { approvalId: 'apr_x', approvers: ['U0APPROVER1'], timeoutSeconds: 3600, maxWaitSeconds: 14400, onTimeout: 'deny', exceptionTtlSeconds: 86400 });
    // mrkdwn (parsed by Slack) must hold the escaped form; plain_text headers are never parsed
    const mrkdwn = [m.text, ...JSON.stringify(m.blocks).match(/"type":"mrkdwn","text":"(?:[^"\\]|\\.)*"/g)!].join('\n');
    expect(mrkdwn).not.toContain('<!channel>');
    expect(mrkdwn).not.toContain('<https://evil');
    expect(mrkdwn).toContain('&lt;!channel&gt;');
    expect(mrkdwn).toContain('<@U0APPROVER1>');
  });

  it('carries the opaque id in every button and nothing else identifying the wait', () => {
    const m = approvalRequestMessage(decision(), { approvalId: 'apr_0123456789abcdefghijklmnopqrstuv', approvers: [], timeoutSeconds: 60, maxWaitSeconds: 120, onTimeout: 'deny', exceptionTtlSeconds: 60 });
    const values = JSON.stringify(m.blocks).match(/"value":"[^"]*"/g);
    expect(values).toEqual(Array(3).fill('"value":"apr_0123456789abcdefghijklmnopqrstuv"'));
  });

  it('describes accesses in one line', () => {
    expect(describeAccess({ kind: 'aws', service: 's3', action: 'GetObject', resource: 'arn:aws:s3:::b/k' })).toBe('s3:GetObject on arn:aws:s3:::b/k');
    expect(describeAccess({ kind: 'http', host: 'api.example.com', port: 443, method: 'POST' })).toBe('POST api.example.com:443');
    expect(describeAccess({ kind: 'tcp', address: '10.0.0.5', port: 5432 })).toBe('tcp 10.0.0.5:5432');
  });
});

describe('time-bound exceptions', () => {
  it('are the narrowest entry for the access', () => {
    expect(allowEntryFor({ kind: 'aws', service: 'dynamodb', action: 'PutItem', resource: 'arn:aws:dynamodb:us-east-1:1:table/t' }, 'e')).toEqual({ id: 'e', aws: 'dynamodb:PutItem', resource: 'arn:aws:dynamodb:us-east-1:1:table/t' });
    expect(allowEntryFor({ kind: 'http', host: 'api.example.com', port: 8443 }, 'e')).toEqual({ id: 'e', host: 'api.example.com:8443' });
    expect(allowEntryFor({ kind: 'tcp', address: '2001:db8::1', port: 22 }, 'e')).toEqual({ id: 'e', cidr: '2001:db8::1/128', port: 22 });
    expect(allowEntryFor({ kind: 'tcp', address: '10.1.2.3' }, 'e')).toEqual({ id: 'e', cidr: '10.1.2.3/32' });
  });

  it('refuse values an entry would read as a pattern (never widened)', () => {
    expect(() => allowEntryFor({ kind: 'aws', service: 's3', action: 'GetObject', resource: 'arn:aws:s3:::bucket/*' }, 'e')).toThrow(ExactExceptionError);
    expect(() => allowEntryFor({ kind: 'http', host: '*.example.com' }, 'e')).toThrow(/contains "\*" or "\?"/);
  });

  it('are written in the form the rules engine reads, covering exactly the approved access', async () => {
    const written: unknown[] = [];
    const d = decision();
    const store = { get: async () => ({ messages: [] }), settleLock: async () => undefined } as unknown as CallbackStore;
    const out = await recordApproval(
      { task: 'approved', decision: d, executionId: 'arn:aws:states:us-east-1:123456789012:execution:approval:x', approval: { approvalId: 'apr_0123456789abcdefghijklmnopqrstuv', outcome: 'approved', decidedBy: 'U0APPROVER1', decidedAt: '2026-11-23T18:05:00.000Z' } },
      { store, slack: new RecordingSlackPort(), audit: new MemoryAudit(), clock: { nowMs: () => Date.parse('2026-11-23T18:05:01.000Z') }, approvers: await loadApproversConfig(RULES), exceptions: { grant: async (r) => { written.push(r); return { created: true }; } } },
    );
    expect(out.expiresAt).toBe('2026-11-24T02:05:00.000Z');
    const parsed = ExceptionRecordSchema.parse(written[0]);
    expect(exceptionCovers(parsed, d.access)).toBe(true);
    expect(exceptionCovers(parsed, { ...d.access, resource: 'arn:aws:dynamodb:us-east-1:123456789012:table/orders' })).toBe(false);
    expect(exceptionCovers(parsed, { ...d.access, action: 'DeleteItem' })).toBe(false);

    // the same record as the policy's AllowException: valid entry, allows exactly this access until it expires
    const rec = written[0] as ExceptionRecord;
    expect(AllowEntrySchema.safeParse(rec.entry).success).toBe(true);
    const repo = await loadRulesDir(RULES);
    const exception = { id: rec.exceptionId, functionName: rec.functionName, entry: rec.entry as never, expiresAt: rec.expiresAtMs };
    const before = compilePolicy(repo);
    const withException = compilePolicy(repo, { exceptions: [exception] });
    const t = Date.parse('2026-11-23T19:00:00.000Z');
    expect(before.decide({ name: 'payments-worker' }, d.access, t).verdict).toBe('unlisted');
    expect(withException.decide({ name: 'payments-worker' }, d.access, t).verdict).toBe('allow');
    expect(withException.decide({ name: 'payments-worker' }, { ...d.access, action: 'DeleteItem' }, t).verdict).toBe('unlisted');
    expect(withException.decide({ name: 'payments-worker' }, d.access, rec.expiresAtMs + 1).verdict).toBe('unlisted');
  });

  it('entries for every access kind are valid allow entries', () => {
    for (const a of [
      { kind: 'aws' as const, service: 's3', action: 'GetObject', resource: 'arn:aws:s3:::b/k' },
      { kind: 'aws' as const, service: 'sts', action: 'GetCallerIdentity' },
      { kind: 'http' as const, host: 'api.example.com', port: 443 },
      { kind: 'tcp' as const, address: '10.0.0.5', port: 5432 },
      { kind: 'tcp' as const, address: '2001:db8::1' },
    ]) expect(AllowEntrySchema.safeParse(allowEntryFor(a, 'approved:exc_abc')).success).toBe(true);
  });
});
