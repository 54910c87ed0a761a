/** A small CompiledPolicy for agent tests (the real compiler is tested in test/policy). */
import type { Access, Mode } from '../../engine/events/access-event';
import type { CompiledPolicy, ListVerdict } from '../../engine/policy/types';

export interface FakePolicyOptions {
  mode?: Mode;
  allowHosts?: string[];
  denyHosts?: string[];
  /** "service:Action" or "service:*", optionally "=resource" suffix for an exact resource */
  allowAws?: string[];
  throws?: boolean;
}

export function fakePolicy(o: FakePolicyOptions = {}): CompiledPolicy & { calls: number } {
  const hasAllow = (o.allowHosts?.length ?? 0) + (o.allowAws?.length ?? 0) > 0;
  const p = {
    policyVersion: 'sha256:fake0001',
    calls: 0,
    modeFor: (): Mode => o.mode ?? 'monitor',
    decide(_fn: { name: string }, a: Access): ListVerdict {
      p.calls++;
      if (o.throws) throw new Error('boom');
      const host = a.host?.toLowerCase();
      if (host && o.denyHosts?.includes(host)) return { verdict: 'deny', rule: `deny-${host}`, severity: 'high' };
      if (host && a.kind !== 'aws' && o.allowHosts?.includes(host)) return { verdict: 'allow', rule: `allow-${host}`, severity: 'info' };
      if (a.kind === 'aws') {
        for (const e of o.allowAws ?? []) {
          const [sa, res] = e.split('=');
          const [s, act] = sa!.split(':');
          if (s === a.service && (act === '*' || act === a.action) && (res === undefined || res === a.resource)) return { verdict: 'allow', rule: `allow-${e}`, severity: 'info' };
        }
      }
      return hasAllow ? { verdict: 'unlisted', rule: null, severity: 'medium' } : { verdict: 'allow', rule: null, severity: 'info' };
    },
  };
  return p;
}
