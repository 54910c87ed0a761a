import { SimClock } from '../../../workflows/local/sim-clock';
import { TaskTokenRegistry } from '../../../workflows/local/task-tokens';

describe('TaskTokenRegistry on the simulated clock', () => {
  const setup = () => { const clock = new SimClock(); return { clock, reg: new TaskTokenRegistry(clock) }; };

  it('success settles the wait with the parsed output; a second answer is TaskTimedOut', async () => {
    const { reg } = setup();
    const t = reg.issue();
    const { outcome } = reg.register(t, { stateName: 'Ask', executionArn: 'e' });
    reg.sendTaskSuccess({ taskToken: t, output: '{"ok":true}' });
    await expect(outcome).resolves.toEqual({ ok: true });
    expect(() => reg.sendTaskSuccess({ taskToken: t, output: '{}' })).toThrow(expect.objectContaining({ name: 'TaskTimedOut' }));
  });

  it('failure rejects with the given error name and cause', async () => {
    const { reg } = setup();
    const t = reg.issue();
    const { outcome } = reg.register(t, { stateName: 'Ask', executionArn: 'e' });
    reg.sendTaskFailure({ taskToken: t, error: 'Approval.Denied', cause: 'no' });
    await expect(outcome).rejects.toMatchObject({ name: 'Approval.Denied', message: 'no' });
  });

  it('times out on the simulated clock; heartbeats extend only the heartbeat window', async () => {
    const { reg, clock } = setup();
    const t = reg.issue();
    const { outcome } = reg.register(t, { stateName: 'Ask', executionArn: 'e', timeoutSeconds: 3600, heartbeatSeconds: 1000 });
    outcome.catch(() => undefined);
    clock.advance(900_000);
    reg.sendTaskHeartbeat({ taskToken: t });
    clock.advance(900_000);
    reg.sendTaskHeartbeat({ taskToken: t });
    clock.advance(900_000);
    reg.sendTaskHeartbeat({ taskToken: t });
    expect(reg.pending()).toHaveLength(1);
    clock.advance(900_000);
    await expect(outcome).rejects.toMatchObject({ name: 'States.Timeout' });
    expect(reg.outcome(t)).toEqual({ status: 'timed-out', error: 'States.Timeout' });
  });

  it('a missed heartbeat fails with States.HeartbeatTimeout', async () => {
    const { reg, clock } = setup();
    const t = reg.issue();
    const { outcome } = reg.register(t, { stateName: 'Ask', executionArn: 'e', heartbeatSeconds: 60 });
    outcome.catch(() => undefined);
    clock.advance(60_000);
    await expect(outcome).rejects.toMatchObject({ name: 'States.HeartbeatTimeout' });
  });

  it('answers unknown, unregistered and malformed input with SFN error names', () => {
    const { reg } = setup();
    expect(() => reg.sendTaskSuccess({ taskToken: 'nope', output: '{}' })).toThrow(expect.objectContaining({ name: 'InvalidToken' }));
    const t = reg.issue();
    expect(() => reg.sendTaskHeartbeat({ taskToken: t })).toThrow(expect.objectContaining({ name: 'TaskDoesNotExist' }));
    reg.register(t, { stateName: 'Ask', executionArn: 'e' });
    expect(() => reg.sendTaskSuccess({ taskToken: t, output: 'not json' })).toThrow(expect.objectContaining({ name: 'InvalidOutput' }));
    expect(() => reg.register(t, { stateName: 'Ask', executionArn: 'e' })).toThrow(/already registered/);
  });

  it('tells listeners about each task that starts waiting', () => {
    const { reg } = setup();
    const seen: string[] = [];
    reg.onRegistered((p) => { seen.push(`${p.stateName}:${JSON.stringify(p.payload)}`); });
    reg.register(reg.issue(), { stateName: 'Ask', executionArn: 'e', payload: { q: 1 } });
    expect(seen).toEqual(['Ask:{"q":1}']);
  });
});

describe('SimClock', () => {
  it('fires timers in order as time passes and never goes backwards', () => {
    const clock = new SimClock('2026-01-01T00:00:00.000Z');
    const fired: string[] = [];
    clock.setTimer(2000, () => fired.push('b'), 'b');
    clock.setTimer(1000, () => fired.push('a'), 'a');
    const c = clock.setTimer(1500, () => fired.push('c'), 'c');
    c.cancel();
    clock.advance(1999);
    expect(fired).toEqual(['a']);
    expect(clock.advanceToNextTimer()).toBe(true);
    expect(fired).toEqual(['a', 'b']);
    expect(clock.iso()).toBe('2026-01-01T00:00:02.000Z');
    expect(clock.advanceToNextTimer()).toBe(false);
    expect(() => clock.advanceTo(0)).toThrow(/never goes backwards/);
  });
});
