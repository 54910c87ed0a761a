import { compilePolicy, loadRulesDir, type WardenPolicy } from '../../engine/policy';
import { createResponseSelector, type SyncResponseSelector } from '../../engine/responses/select';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { evaluateEvent, evaluateEventSync, incidentIdFor, type EvaluateContext } from '../../engine/evaluate/evaluate';
import { DecisionEventDetailSchema, DecisionSchema } from '../../engine/events/decision-event';

const NOW = Date.parse('2026-11-23T18:00:00Z');
let policy: WardenPolicy;
let ctx: EvaluateContext & { responses: SyncResponseSelector };
let n = 0;
beforeAll(async () => {
  policy = compilePolicy(await loadRulesDir('rules'));
  ctx = { policy, responses: createResponseSelector(policy.responses), now: NOW, newId: () => `dec-${++n}` };
});

const event = (name: string, access: object, extra: object = {}) => ({
  id: `ev-${name}`, time: '2026-11-23T17:59:00.000Z', function: { name, account: '123456789012', region: 'us-east-1', tags: {} }, access, mode: 'block', ...extra,
});

describe('evaluateEvent', () => {
  it('paste site from orders-api: critical deny → quarantine, with a detail that validates', async () => {
    const { decision, detail } = await evaluateEvent(event('orders-api', { kind: 'http', host: 'pastebin.com', port: 443 }), ctx);
    expect(decision).toEqual({ id: 'ev-orders-api', verdict: 'deny', rule: 'paste-pastebin', severity: 'critical', response: 'quarantine', policyVersion: policy.policyVersion });
    expect(DecisionEventDetailSchema.parse(detail)).toBeTruthy();
    expect(detail).toMatchObject({ eventId: 'ev-orders-api', mode: 'block', time: '2026-11-23T18:00:00.000Z', decisionId: expect.stringMatching(/^dec-/) });
    expect(detail!.reason).toBe("orders-api's http pastebin.com:443 matches deny rule paste-pastebin (severity critical); response: quarantine.");
  });
  it('payments-worker on the refunds table is unlisted → approve', async () => {
    const { decision } = await evaluateEvent(event('payments-worker', { kind: 'aws', service: 'dynamodb', action: 'GetItem', resource: 'arn:aws:dynamodb:us-east-1:123456789012:table/refunds' }), ctx);
    expect(decision).toMatchObject({ verdict: 'unlisted', rule: null, response: 'approve' });
  });
  it('image-resizer (monitor) to cdn-metrics is unlisted → escalate (responses.yaml)', async () => {
    const { decision } = await evaluateEvent(event('image-resizer', { kind: 'http', host: 'cdn-metrics.example.net', port: 443 }, { mode: 'monitor' }), ctx);
    expect(decision).toMatchObject({ verdict: 'unlisted', response: 'escalate' });
  });
  it('incident ids are deterministic per function + rule + version, and per access for unlisted', async () => {
    const a = await evaluateEvent(event('orders-api', { kind: 'http', host: 'www.pastebin.com' }), ctx);
    const b = await evaluateEvent({ ...event('orders-api', { kind: 'http', host: 'x.pastebin.com' }), id: 'other' }, ctx);
    expect(a.detail!.incidentId).toBe(b.detail!.incidentId);
    expect(a.detail!.incidentId).toMatch(/^inc-[0-9a-f]{16}$/);
    expect(a.detail!.decisionId).not.toBe(b.detail!.decisionId);
    const u1 = await evaluateEvent(event('orders-api', { kind: 'http', host: 'a.example.com' }), ctx);
    const u2 = await evaluateEvent(event('orders-api', { kind: 'http', host: 'b.example.com' }), ctx);
    expect(u1.detail!.incidentId).not.toBe(u2.detail!.incidentId);
  });
  it('memoized incident ids equal the hash of function, rule (or unlisted access) and version, in any order', () => {
    const direct = (fn: string, what: string, version: string) =>
      `inc-${createHash('sha256').update(`${fn}\n${what}\n${version}`).digest('hex').slice(0, 16)}`;
    const step = fc.tuple(fc.constantFrom('f', 'g', 'pay-1'), fc.constantFrom('r1', 'r2', null), fc.constantFrom('a.example.com', 'b.example.com'), fc.constantFrom('v1', 'v2'));
    fc.assert(fc.property(fc.array(step, { minLength: 1, maxLength: 30 }), (steps) => {
      for (const [fn, rule, host, version] of steps) {
        const access = { kind: 'http' as const, host };
        const what = rule ?? `unlisted|http|${host}||`;
        // fresh strings, as JSON.parse gives them: the memo compares names by content
        expect(incidentIdFor(`${fn} `.trim(), { verdict: rule ? 'deny' : 'unlisted', rule, severity: 'high' }, access, version)).toBe(direct(fn, what, version));
      }
    }), { numRuns: 300 });
  });
  it.each([
    ['not an object', 'hello', /not a valid access event/],
    ['null', null, /not a valid access event/],
    ['missing access', { id: 'x', time: '2026-11-23T00:00:00Z', function: { name: 'f' } }, /access/],
    ['aws without action', event('f', { kind: 'aws', service: 's3' }), /"service" and "action"/],
    ['bad kind', event('f', { kind: 'smtp', host: 'a' }), /kind/],
    ['__proto__ key', JSON.parse('{"id":"p","time":"2026-11-23T00:00:00Z","function":{"name":"f","tags":{"__proto__":{"x":1}}},"access":{"kind":"http","host":"a.com"}}'), /__proto__/],
    ['constructor key', { ...event('f', { kind: 'http', host: 'a.com' }), constructor: { prototype: {} } }, /constructor/],
    ['huge host', event('f', { kind: 'http', host: 'a'.repeat(5000) }), /host/],
  ])('a bad event (%s) is deny + error, never allow', async (_n, raw, re) => {
    const { decision, detail } = await evaluateEvent(raw, ctx);
    expect(DecisionSchema.parse(decision)).toBeTruthy();
    expect(decision.verdict).toBe('deny');
    expect(decision.error).toMatch(re);
    expect(detail).toBeUndefined();
  });
  it('the sync fast path gives the same answer once the response is memoized', async () => {
    const raw = event('payments-worker', { kind: 'http', host: 'api.stripe.com', port: 443 });
    const a = await evaluateEvent(raw, ctx);
    const b = evaluateEventSync(raw, ctx);
    expect(b?.decision).toEqual(a.decision);
    // the shipped rules read verdict, severity and mode only: a new tag is the same memoized tuple
    const fresh = event('payments-worker', { kind: 'http', host: 'new.example.org' }, { function: { name: 'payments-worker', tags: { team: 'x' } } });
    expect(evaluateEventSync(fresh, ctx)?.decision.response).toBe('approve');
    // a rule that reads tags makes the tag part of the tuple: not memoized yet → undefined, then the async path
    const byTeam = { ...ctx, responses: createResponseSelector({ rules: [{ name: 'team-x', conditions: { all: [{ fact: 'tags', path: '$.team', operator: 'equal', value: 'x' }] }, response: 'quarantine' }] }) };
    expect(evaluateEventSync(fresh, byTeam)).toBeUndefined();
    expect((await evaluateEvent(fresh, byTeam)).decision.response).toBe('quarantine');
    expect(evaluateEventSync(fresh, byTeam)?.decision.response).toBe('quarantine');
    const other = event('payments-worker', { kind: 'http', host: 'new.example.org' }, { function: { name: 'payments-worker', tags: { team: 'y' } } });
    expect(evaluateEventSync(other, byTeam)).toBeUndefined();
    expect((await evaluateEvent(other, byTeam)).decision.response).toBe('approve');
  });
});
