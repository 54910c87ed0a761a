import { createResponseSelector, defaultResponse, ResponseSelectionError } from '../../engine/responses/select';
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
  it('rejects invalid rules with a clear error', () => {
    expect(() => createResponseSelector({ rules: [{ name: 'x', conditions: { all: [{ fact: 'verdikt', operator: 'equal', value: 'deny' }] }, response: 'none' }] } as never)).toThrow(ResponseSelectionError);
    expect(() => createResponseSelector({ rules: [{ name: 'x', conditions: { all: [] }, response: 'nuke' }] } as never)).toThrow(/invalid response rules/);
  });
});
