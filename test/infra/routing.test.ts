/** The synthesized rules, read by engine/local/event-pattern's routeEvent as the simulation does. */
import { routeEvent } from '../../engine/local/event-pattern';
import { synthesizedTemplate } from './template';

const t = synthesizedTemplate();
const envelope = (source: string, detailType: string, detail: unknown) => ({
  version: '0', id: 'e-1', source, 'detail-type': detailType, account: '123456789012', time: '2026-11-23T18:00:00Z', region: 'us-east-1', resources: [], detail,
});
const targetOf = (logicalId: string | null) => (logicalId ? t.Resources[logicalId] : undefined);
const pathOf = (logicalId: string | null) => JSON.stringify((targetOf(logicalId)?.Metadata as Record<string, unknown> | undefined)?.['aws:cdk:path'] ?? logicalId);

describe('routing on the synthesized bus', () => {
  it('sends agent events to the rules-engine function, with a DLQ and retry policy', () => {
    const routes = routeEvent(t, envelope('warden.agent', 'Access Observed', { id: 'a' }), { bus: 'warden' });
    expect(routes).toHaveLength(1);
    expect(routes[0]).toMatchObject({ kind: 'function', retryPolicy: { MaximumRetryAttempts: 8 } });
    expect(routes[0]!.targetLogicalId).toMatch(/Engine/);
    expect(routes[0]!.deadLetterQueueLogicalId).toMatch(/Dlq/);
  });

  it.each([
    ['escalate', /Escalate/],
    ['quarantine', /Quarantine/],
    ['approve', /Approval/],
  ])('sends "%s" decisions to their state machine with the whole event', (response, machine) => {
    const event = envelope('warden.engine', 'Policy Decision', { response, incidentId: 'inc-1' });
    const routes = routeEvent(t, event, { bus: 'warden' });
    expect(routes.map((r) => r.kind)).toEqual(['stateMachine']);
    expect(pathOf(routes[0]!.targetLogicalId)).toMatch(machine);
    expect(routes[0]!.input).toEqual(event);
  });

  it('routes "none" decisions and forged sources nowhere', () => {
    expect(routeEvent(t, envelope('warden.engine', 'Policy Decision', { response: 'none' }), { bus: 'warden' })).toEqual([]);
    expect(routeEvent(t, envelope('warden.agent', 'Policy Decision', { response: 'quarantine' }), { bus: 'warden' })).toEqual([]);
    expect(routeEvent(t, envelope('evil', 'Access Observed', {}), { bus: 'warden' })).toEqual([]);
  });
});
