import type { RoutedTarget } from '../../engine/local/event-pattern';
import { LocalBus, type BusEvent } from '../../engine/local/simulate/bus';
import { WorkTracker } from '../../engine/local/simulate/work';

const template = {
  Resources: {
    Bus: { Type: 'AWS::Events::EventBus', Properties: { Name: 'warden' } },
    Engine: { Type: 'AWS::Lambda::Function', Properties: {} },
    EngineInvokeConfig: { Type: 'AWS::Lambda::EventInvokeConfig', Properties: { FunctionName: { Ref: 'Engine' }, MaximumRetryAttempts: 1 } },
    Quarantine: { Type: 'AWS::StepFunctions::StateMachine', Properties: {} },
    AgentRule: {
      Type: 'AWS::Events::Rule',
      Properties: { EventBusName: { Ref: 'Bus' }, State: 'ENABLED', EventPattern: { source: ['warden.agent'] }, Targets: [{ Id: 'engine', Arn: { 'Fn::GetAtt': ['Engine', 'Arn'] } }] },
    },
    QuarantineRule: {
      Type: 'AWS::Events::Rule',
      Properties: { EventBusName: { Ref: 'Bus' }, EventPattern: { source: ['warden.engine'], detail: { response: ['quarantine'] } }, Targets: [{ Id: 'q', Arn: { Ref: 'Quarantine' }, InputPath: '$.detail' }] },
    },
  },
};

function setup(deliver: (t: RoutedTarget, e: BusEvent) => Promise<void>) {
  const work = new WorkTracker();
  const seen: BusEvent[] = [];
  const dead: string[] = [];
  const unrouted: string[] = [];
  const bus = new LocalBus({
    template, busName: 'warden', account: '123456789012', region: 'us-east-1', nowMs: () => Date.parse('2026-11-23T09:00:00Z'),
    deliver, track: (p) => { work.track(p); }, onEvent: (e) => seen.push(e),
    onDeadLetter: (t) => dead.push(t.targetId), onUnrouted: (e) => unrouted.push(e.source),
  });
  return { bus, work, seen, dead, unrouted };
}

describe('LocalBus', () => {
  it('routes by the template rules of its bus and delivers the target input', async () => {
    const delivered: [string, unknown][] = [];
    const { bus, work, seen } = setup(async (t) => { delivered.push([t.targetLogicalId!, t.input]); });
    bus.put([
      { Source: 'warden.engine', DetailType: 'Policy Decision', Detail: JSON.stringify({ response: 'quarantine', functionName: 'orders-api' }), EventBusName: 'warden' },
      { Source: 'warden.agent', DetailType: 'Access Observed', Detail: '{}', EventBusName: 'warden' },
    ]);
    await work.settle();
    expect(delivered).toEqual([['Quarantine', { response: 'quarantine', functionName: 'orders-api' }], ['Engine', expect.objectContaining({ source: 'warden.agent', account: '123456789012', time: '2026-11-23T09:00:00Z' })]]);
    expect(seen).toHaveLength(2);
  });

  it('does not route events put on another bus', async () => {
    const delivered: string[] = [];
    const { bus, work, unrouted } = setup(async (t) => { delivered.push(t.targetId); });
    bus.put([{ Source: 'warden.agent', DetailType: 'Access Observed', Detail: '{}', EventBusName: 'default' }]);
    await work.settle();
    expect(delivered).toEqual([]);
    expect(unrouted).toEqual(['warden.agent']);
  });

  it('retries a failing function as its EventInvokeConfig says, then dead-letters the event', async () => {
    let attempts = 0;
    const { bus, work, dead } = setup(async () => { attempts++; throw new Error('engine down'); });
    bus.put([{ Source: 'warden.agent', DetailType: 'Access Observed', Detail: '{}', EventBusName: 'warden' }]);
    await work.settle();
    expect(attempts).toBe(2);
    expect(dead).toEqual(['engine']);
    expect(bus.deadLetters[0]!.error).toBe('engine down');
  });

  it('recovers when a retry succeeds', async () => {
    let attempts = 0;
    const { bus, work, dead } = setup(async () => { if (++attempts === 1) throw new Error('transient'); });
    bus.put([{ Source: 'warden.agent', DetailType: 'Access Observed', Detail: '{}', EventBusName: 'warden' }]);
    await work.settle();
    expect(attempts).toBe(2);
    expect(dead).toEqual([]);
  });

  it('rejects a Detail that is not JSON', () => {
    const { bus } = setup(async () => undefined);
    expect(() => bus.put([{ Source: 'x', DetailType: 'y', Detail: '{', EventBusName: 'warden' }])).toThrow('has a Detail that is not JSON');
  });
});

describe('WorkTracker', () => {
  it('waits for work started by work and keeps failures', async () => {
    const w = new WorkTracker();
    const order: string[] = [];
    w.track((async () => {
      await new Promise((r) => setTimeout(r, 5));
      order.push('a');
      w.track((async () => { await new Promise((r) => setImmediate(r)); order.push('b'); throw new Error('late failure'); })());
    })());
    await w.settle();
    expect(order).toEqual(['a', 'b']);
    expect(w.size).toBe(0);
    expect(w.takeFailures().map((e) => (e as Error).message)).toEqual(['late failure']);
  });
});
