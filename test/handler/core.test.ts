import type { Decision, DecisionEventDetail } from '../../engine/events/decision-event';
import { processAccessEvents, type EngineDeps } from '../../engine/handler/core';
import { EngineHandlerError } from '../../engine/handler/errors';
import { exceptionCovers, findException, type ExceptionRecord } from '../../engine/handler/exceptions';

const NOW = Date.parse('2026-11-23T18:00:00.000Z');

function decision(over: Partial<DecisionEventDetail> = {}): DecisionEventDetail {
  return {
    id: 'e1',
    decisionId: 'd1',
    eventId: 'e1',
    incidentId: 'i1',
    verdict: 'unlisted',
    rule: null,
    severity: 'medium',
    response: 'approve',
    policyVersion: 'sha256:abc',
    time: '2026-11-23T18:00:00.000Z',
    function: { name: 'orders-api', tags: {} },
    access: { kind: 'http', host: 'api.example.com', port: 443 },
    mode: 'monitor',
    blocked: false,
    count: 1,
    reason: 'not on the allow list of orders-api',
    ...over,
  };
}

function exception(over: Partial<ExceptionRecord> = {}): ExceptionRecord {
  return {
    functionName: 'orders-api',
    exceptionId: 'x1',
    access: { kind: 'http', host: 'API.example.com.', port: 443 },
    expiresAt: '2026-11-24T18:00:00.000Z',
    grantedBy: 'U0APPROVER1',
    ...over,
  };
}

function harness(decide: (raw: unknown) => DecisionEventDetail | Decision, records: ExceptionRecord[] | Error = []) {
  const audited: DecisionEventDetail[] = [];
  const auditedInvalid: Decision[] = [];
  const published: DecisionEventDetail[][] = [];
  const order: string[] = [];
  const metrics: Record<string, number> = {};
  let lookups = 0;
  const deps: EngineDeps = {
    evaluate: (raw) => {
      const d = decide(raw);
      return 'decisionId' in d ? { decision: { id: d.id, verdict: d.verdict, rule: d.rule, severity: d.severity, response: d.response, policyVersion: d.policyVersion }, detail: d } : { decision: d };
    },
    exceptions: {
      async forFunction() {
        lookups++;
        if (records instanceof Error) throw records;
        return records;
      },
    },
    audit: {
      async recordDecision(d) { order.push('audit'); audited.push(d); },
      async recordInvalid(d) { order.push('audit-invalid'); auditedInvalid.push(d); },
    },
    publisher: { async publish(ds) { order.push('publish'); published.push(ds); } },
    now: () => NOW,
    metrics: { count: (n, v = 1) => void (metrics[n] = (metrics[n] ?? 0) + v) },
  };
  return { deps, audited, auditedInvalid, published, order, metrics, lookups: () => lookups };
}

describe('processAccessEvents', () => {
  it('decides, audits every decision before publishing, and publishes them all', async () => {
    const h = harness((raw) => decision({ eventId: (raw as { id: string }).id, decisionId: `d-${(raw as { id: string }).id}`, verdict: 'deny', rule: 'r', response: 'escalate' }));
    const r = await processAccessEvents([{ id: 'a' }, { id: 'b' }], h.deps);
    expect(r.decisions.map((d) => d.decisionId)).toEqual(['d-a', 'd-b']);
    expect(h.audited).toHaveLength(2);
    expect(h.published).toEqual([r.decisions]);
    expect(h.order).toEqual(['audit', 'audit', 'publish']);
    expect(r.counts).toMatchObject({ deny: 2, allow: 0 });
    expect(h.metrics.Decisions_deny).toBe(2);
    expect(h.lookups()).toBe(0); // exceptions are only consulted for unlisted
  });

  it('turns an unlisted access covered by an active exception into allow / none', async () => {
    const h = harness(() => decision(), [exception()]);
    const r = await processAccessEvents([{}], h.deps);
    expect(r.decisions[0]).toMatchObject({ verdict: 'allow', rule: 'exception:x1', response: 'none', severity: 'info' });
    expect(r.decisions[0]!.reason).toMatch(/time-bound exception x1 granted by U0APPROVER1 until 2026-11-24/);
    expect(r.counts).toMatchObject({ allow: 1, excepted: 1, unlisted: 0 });
  });

  it('ignores an expired exception', async () => {
    const h = harness(() => decision(), [exception({ expiresAt: '2026-11-23T17:59:59.000Z' })]);
    expect((await processAccessEvents([{}], h.deps)).decisions[0]!.verdict).toBe('unlisted');
  });

  it('never lets an exception override a deny', async () => {
    const h = harness(() => decision({ verdict: 'deny', rule: 'no-example', response: 'escalate' }), [exception()]);
    expect((await processAccessEvents([{}], h.deps)).decisions[0]).toMatchObject({ verdict: 'deny', response: 'escalate' });
  });

  it('fails closed when exceptions cannot be read: the decision stays unlisted and the failure is counted', async () => {
    const h = harness(() => decision(), new Error('table down'));
    const r = await processAccessEvents([{}], h.deps);
    expect(r.decisions[0]!.verdict).toBe('unlisted');
    expect(h.metrics.ExceptionLookupFailed).toBe(1);
  });

  it('audits invalid events (deny with an error, no detail) and publishes only the valid ones', async () => {
    const invalid: Decision = { id: null, verdict: 'deny', rule: 'warden:invalid-event', severity: 'high', response: 'escalate', policyVersion: 'sha256:abc', error: 'access: Required' };
    const h = harness((raw) => (raw === 'garbage' ? invalid : decision({ verdict: 'allow', rule: 'ok', response: 'none' })));
    const r = await processAccessEvents(['garbage', {}], h.deps);
    expect(r.counts).toMatchObject({ invalid: 1, deny: 1, allow: 1 });
    expect(r.invalid).toEqual([invalid]);
    expect(h.auditedInvalid).toEqual([invalid]);
    expect(h.published).toEqual([[expect.objectContaining({ verdict: 'allow' })]]);
  });

  it('throws (so the event is retried) when the evaluator throws, publishing nothing', async () => {
    const h = harness(() => {
      throw new Error('bundle corrupt');
    });
    await expect(processAccessEvents([{}], h.deps)).rejects.toThrow(EngineHandlerError);
    expect(h.published).toEqual([]);
  });

  it('propagates an audit failure before publishing', async () => {
    const h = harness(() => decision());
    h.deps.audit = { recordDecision: async () => { throw new Error('throttled'); }, recordInvalid: async () => {} };
    await expect(processAccessEvents([{}], h.deps)).rejects.toThrow('throttled');
    expect(h.published).toEqual([]);
  });

  it('propagates a publish failure', async () => {
    const h = harness(() => decision());
    h.deps.publisher = { publish: async () => { throw new Error('PutEvents failed'); } };
    await expect(processAccessEvents([{}], h.deps)).rejects.toThrow('PutEvents failed');
  });
});

describe('exception matching', () => {
  it('matches exactly the approved access', () => {
    const aws = exception({ access: { kind: 'aws', service: 'dynamodb', action: 'PutItem', resource: 'arn:aws:dynamodb:us-east-1:1:table/orders' } });
    expect(exceptionCovers(aws, { kind: 'aws', service: 'dynamodb', action: 'putitem', resource: 'arn:aws:dynamodb:us-east-1:1:table/orders' })).toBe(true);
    expect(exceptionCovers(aws, { kind: 'aws', service: 'dynamodb', action: 'DeleteItem', resource: 'arn:aws:dynamodb:us-east-1:1:table/orders' })).toBe(false);
    expect(exceptionCovers(aws, { kind: 'aws', service: 'dynamodb', action: 'PutItem', resource: 'arn:aws:dynamodb:us-east-1:1:table/other' })).toBe(false);
    expect(exceptionCovers(exception(), { kind: 'http', host: 'api.example.com', port: 443 })).toBe(true);
    expect(exceptionCovers(exception(), { kind: 'http', host: 'api.example.com', port: 8443 })).toBe(false);
    expect(exceptionCovers(exception(), { kind: 'tcp', host: 'api.example.com', port: 443 })).toBe(false);
    // a "*" in an exception is a literal character, not a pattern
    expect(exceptionCovers(exception({ access: { kind: 'http', host: '*.example.com' } }), { kind: 'http', host: 'api.example.com' })).toBe(false);
  });

  it('picks the longest-lasting active exception', () => {
    const a = exception({ exceptionId: 'short', expiresAt: '2026-11-23T19:00:00.000Z' });
    const b = exception({ exceptionId: 'long', expiresAt: '2026-11-25T00:00:00.000Z' });
    expect(findException([a, b], { kind: 'http', host: 'api.example.com', port: 443 }, NOW)?.exceptionId).toBe('long');
  });
});
