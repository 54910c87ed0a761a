import { S3Client } from '@aws-sdk/client-s3';
import { exemptFromCapture, startAgentPolicyRefresh, type AgentPolicyUpdate } from '../../engine/distribution/agent-refresh';
import { createLocalDistribution } from '../../engine/distribution/local';
import { EXEMPT } from '../../engine/agent/capture/state';
import type { CompiledPolicy } from '../../engine/policy/types';
import { loadTestBundle, makeBundle, manualClock, tempDir } from './helpers';

const v1 = makeBundle({ deny: ['a.example'], mode: 'block' });
const v2 = makeBundle({ deny: ['b.example'], mode: 'block' });

describe('agent policy refresh', () => {
  function setup() {
    const clock = manualClock();
    const dir = tempDir();
    const d = createLocalDistribution({ loadBundle: loadTestBundle, clock, dir });
    const updates: AgentPolicyUpdate<CompiledPolicy>[] = [];
    const lines: string[] = [];
    const env = { WARDEN_POLICY_STORE: dir, WARDEN_POLICY_PUBLIC_KEY: d.publicKeyPem, WARDEN_POLICY_REFRESH_MS: '0' };
    const start = (initial?: CompiledPolicy) => startAgentPolicyRefresh({ env, loadBundle: loadTestBundle, initial, clock, log: (l) => lines.push(l), onUpdate: (u) => updates.push(u) });
    return { d, updates, lines, start };
  }

  it('does nothing without a store', async () => {
    await expect(startAgentPolicyRefresh({ env: {}, loadBundle: loadTestBundle, log: () => undefined, onUpdate: () => undefined })).resolves.toBeUndefined();
  });

  it('hands the agent each verified change, starting from the packaged policy, and logs every event', async () => {
    const ctx = setup();
    await ctx.d.publish(v1.text);
    const source = await ctx.start(loadTestBundle(v1.text, 'packaged'));
    expect(ctx.updates).toEqual([]); // the packaged bundle is already current
    await ctx.d.publish(v2.text);
    await source!.refresh();
    expect(ctx.updates.map((u) => u.policy.policyVersion)).toEqual([v2.policyVersion]);
    await ctx.d.killSwitch(true, 'INC-9');
    await source!.refresh();
    expect(ctx.updates[1]!.killSwitch).toEqual({ engaged: true, reason: 'INC-9' });
    expect(ctx.updates[1]!.policy.modeFor('orders-api')).toBe('monitor');
    const logged = ctx.lines.map((l) => JSON.parse(l) as { level: string; source: string; event: string });
    expect(logged.map((l) => [l.level, l.event])).toEqual([['INFO', 'policy.loaded'], ['INFO', 'policy.loaded'], ['WARN', 'policy.kill-switch']]);
    expect(logged.every((l) => l.source === 'warden.agent')).toBe(true);
  });

  it('replaces an older packaged policy at start, and keeps it (logged) when the store has nothing valid', async () => {
    const ctx = setup();
    await ctx.d.publish(v2.text);
    await ctx.start(loadTestBundle(v1.text, 'packaged'));
    expect(ctx.updates.map((u) => u.policy.policyVersion)).toEqual([v2.policyVersion]);

    const empty = setup();
    const source = await empty.start(loadTestBundle(v1.text, 'packaged'));
    expect(empty.updates).toEqual([]);
    expect(source!.version).toBe(v1.policyVersion);
    const error = empty.lines.map((l) => JSON.parse(l) as Record<string, string>).find((l) => l.level === 'ERROR');
    expect(error).toMatchObject({ source: 'warden.agent', event: 'policy.rejected', reason: 'missing', keptVersion: v1.policyVersion });
    expect(error!.message).toMatch(/^policy pointer rejected \(missing\); still enforcing sha256:.*nothing has been published/);
  });

  it('marks its S3 client so the agent does not capture its own policy fetch', () => {
    const client = exemptFromCapture(new S3Client({ region: 'us-east-1' }));
    expect((client as unknown as Record<symbol, unknown>)[EXEMPT]).toBe(true);
  });
});
