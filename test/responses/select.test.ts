import { createResponseSelector, defaultResponse, ResponseSelectionError } from '../../engine/responses/select';
import fc from 'fast-check';
import type { ResponsesConfigInput } from '../../engine/policy/schema';
import type { ResponseFacts } from '../../engine/policy/types';

const facts = (over: Partial<ResponseFacts> = {}): ResponseFacts => ({
  verdict: 'deny', severity: 'medium', service: null, action: null, functionName: 'orders-api', tags: {}, mode: 'block', ...over,
});

describe('response selection', () => {
  it('defaults: allow → none, unlisted → approve, deny critical → quarantine, other deny → escalate', async () => {
    const s = createResponseSelector();
    expect(await s.select(facts({ verdict: 'allow', severity: 'info' }))).toBe('none');
    expect(await s.select(facts({ verdict: 'unlisted' }))).toBe('approve');
    expect(await s.select(facts({ severity: 'critical' }))).toBe('quarantine');
    expect(await s.select(facts({ severity: 'high' }))).toBe('escalate');
    expect(defaultResponse({ verdict: 'deny', severity: 'info' })).toBe('escalate');
  });

  const s = createResponseSelector({
    rules: [
      { name: 'monitor-unlisted', priority: 10, conditions: { all: [{ fact: 'verdict', operator: 'equal', value: 'unlisted' }, { fact: 'mode', operator: 'equal', value: 'monitor' }] }, response: 'escalate' },
      { name: 'team-payments', priority: 30, conditions: { all: [{ fact: 'tags', path: '$.team', operator: 'equal', value: 'payments' }, { fact: 'verdict', operator: 'equal', value: 'deny' }] }, response: 'quarantine' },
      { name: 'img-glob', priority: 5, conditions: { all: [{ fact: 'functionName', operator: 'glob', value: 'image-*' }, { fact: 'verdict', operator: 'equal', value: 'unlisted' }] }, response: 'none' },
      { name: 'sev-high', priority: 1, conditions: { any: [{ fact: 'severity', operator: 'severityAtLeast', value: 'high' }] }, response: 'quarantine' },
      { name: 'sev-high-tie', priority: 1, conditions: { any: [{ fact: 'severity', operator: 'severityAtLeast', value: 'high' }] }, response: 'none' },
    ],
  });
  it('the highest-priority matching rule wins; ties go to the rule listed first', async () => {
    expect(await s.explain(facts({ verdict: 'unlisted', mode: 'monitor', functionName: 'image-resizer' }))).toEqual({ response: 'escalate', rule: 'monitor-unlisted' });
    expect(await s.explain(facts({ verdict: 'unlisted', mode: 'block', functionName: 'image-resizer' }))).toEqual({ response: 'none', rule: 'img-glob' });
    expect(await s.explain(facts({ tags: { team: 'payments' } }))).toEqual({ response: 'quarantine', rule: 'team-payments' });
    expect(await s.explain(facts({ severity: 'high' }))).toEqual({ response: 'quarantine', rule: 'sev-high' });
  });
  it('falls back to the defaults when nothing matches, and memoizes by the fact tuple', async () => {
    const f = facts({ verdict: 'unlisted', mode: 'block', functionName: 'orders-api' });
    expect(s.selectCached(f)).toBeUndefined();
    expect(await s.explain(f)).toEqual({ response: 'approve', rule: 'default' });
    expect(s.selectCached({ ...f })).toBe('approve');
    expect(s.selectCached({ ...f, tags: { x: '1' } })).toBeUndefined();
  });
  it('memoizes only by the facts some rule reads (plus verdict and severity, which the defaults read)', async () => {
    const bySev = createResponseSelector({ rules: [{ name: 'svc', conditions: { all: [{ fact: 'service', operator: 'equal', value: 's3' }] }, response: 'none' }] });
    const f = facts({ service: 'dynamodb', action: 'GetItem', functionName: 'a', tags: { team: 'x' } });
    expect(await bySev.select(f)).toBe('escalate');
    // action, function and tags are read by no rule: the same tuple
    expect(bySev.selectCached({ ...f, action: 'PutItem', functionName: 'b', tags: {} })).toBe('escalate');
    // service is read, and so are verdict/severity: new tuples
    expect(bySev.selectCached({ ...f, service: 's3' })).toBeUndefined();
    expect(bySev.selectCached({ ...f, severity: 'critical' })).toBeUndefined();
    expect(bySev.selectCached({ ...f, verdict: 'unlisted' })).toBeUndefined();
  });
  it('property: a memoized answer is always the answer a fresh selector computes (no key collisions)', async () => {
    const rules: ResponsesConfigInput = {
      rules: [
        { name: 'svc-act', priority: 3, conditions: { all: [{ fact: 'service', operator: 'equal', value: 'a|b' }, { fact: 'action', operator: 'equal', value: 'c' }] }, response: 'none' },
        { name: 'fn', priority: 2, conditions: { any: [{ fact: 'functionName', operator: 'glob', value: '1:*' }] }, response: 'quarantine' },
        { name: 'tag', priority: 4, conditions: { not: { fact: 'tags', path: '$.t', operator: 'notEqual', value: '1:x' } }, response: 'approve' },
        { name: 'mode', priority: 1, conditions: { all: [{ fact: 'mode', operator: 'equal', value: 'learn' }] }, response: 'none' },
      ],
    };
    const memoized = createResponseSelector(rules);
    // separators and length prefixes appear inside the text on purpose
    const text = fc.stringMatching(/^[ab|:1x-]{0,5}$/);
    const factsArb = fc.record({
      verdict: fc.constantFrom('allow', 'deny', 'unlisted'),
      severity: fc.constantFrom('info', 'low', 'medium', 'high', 'critical'),
      service: fc.option(text, { nil: null }),
      action: fc.option(text, { nil: null }),
      functionName: text,
      tags: fc.dictionary(fc.constantFrom('t', 'u', '1:', '|'), text, { maxKeys: 3 }),
      mode: fc.constantFrom('monitor', 'block', 'learn'),
    }) as fc.Arbitrary<ResponseFacts>;
    // text that would collide under a plain separator-joined key
    const base = facts({ verdict: 'deny', severity: 'high', mode: 'block' });
    for (const f of [{ ...base, service: 'a|b', action: 'c' }, { ...base, service: 'a', action: 'b|c' }, { ...base, service: 'a|b', action: null }, { ...base, service: 'a', action: 'b' },
      { ...base, tags: { t: '1:x' } }, { ...base, tags: { t: '1', 'x|': '' } }, { ...base, functionName: '1:' }, { ...base, functionName: '1' }]) {
      const fresh = await createResponseSelector(rules).explain(f);
      expect(await memoized.explain(f)).toEqual(fresh);
    }
    await fc.assert(fc.asyncProperty(factsArb, async (f) => {
      const fresh = await createResponseSelector(rules).explain(f);
      expect(await memoized.explain(f)).toEqual(fresh);
      expect(memoized.selectCached(f)).toBe(fresh.response);
    }), { numRuns: 300 });
    // rules reading only enum facts (like the shipped ones) key the memo by a number
    const enumRules: ResponsesConfigInput = { rules: [
      { name: 'learn-high', priority: 2, conditions: { all: [{ fact: 'mode', operator: 'equal', value: 'learn' }, { fact: 'severity', operator: 'severityAtLeast', value: 'high' }] }, response: 'none' },
      { name: 'unlisted-monitor', priority: 1, conditions: { any: [{ fact: 'verdict', operator: 'equal', value: 'unlisted' }] }, response: 'escalate' },
    ] };
    const enumMemo = createResponseSelector(enumRules);
    await fc.assert(fc.asyncProperty(factsArb, async (f) => {
      const fresh = await createResponseSelector(enumRules).explain(f);
      expect(await enumMemo.explain(f)).toEqual(fresh);
      expect(enumMemo.selectCached(f)).toBe(fresh.response);
    }), { numRuns: 300 });
  });
  it('rejects invalid rules with a clear error', () => {
    expect(() => createResponseSelector({ rules: [{ name: 'x', conditions: { all: [{ fact: 'verdikt', operator: 'equal', value: 'deny' }] }, response: 'none' }] } as never)).toThrow(ResponseSelectionError);
    expect(() => createResponseSelector({ rules: [{ name: 'x', conditions: { all: [] }, response: 'nuke' }] } as never)).toThrow(/invalid response rules/);
  });
});
