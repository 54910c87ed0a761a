import fc from 'fast-check';
import type { Access } from '../../engine/events/access-event';
import { compilePolicy, loadRulesFromFiles, type SourceFile, type WardenPolicy } from '../../engine/policy';

export const NOW = Date.parse('2026-11-23T12:00:00Z');

export function policyOf(files: Record<string, string>): WardenPolicy {
  const list: SourceFile[] = Object.entries(files).map(([path, text]) => ({ path, text }));
  return compilePolicy(loadRulesFromFiles(list));
}

export function decide(p: WardenPolicy, fn: string, access: Access, now = NOW) {
  return p.decide({ name: fn }, access, now);
}

export const aws = (service: string, action: string, resource?: string): Access =>
  ({ kind: 'aws', service, action, ...(resource !== undefined ? { resource } : {}) });
export const http = (host: string, port = 443): Access => ({ kind: 'http', host, port });
export const tcp = (address: string, port = 443, host?: string): Access => ({ kind: 'tcp', address, port, ...(host ? { host } : {}) });

/** Generated rules-file entries (a YAML entry as a rules file writes it) over the given hosts, CIDRs and `[action, resource?]` pairs; deny entries carry a severity. */
export function ruleEntryArb(deny: boolean, values: { hosts: readonly string[]; cidrs: readonly string[]; aws: readonly (readonly [string, string | undefined])[] }): fc.Arbitrary<Record<string, unknown>> {
  return fc.oneof(
    fc.record({ host: fc.constantFrom(...values.hosts), port: fc.option(fc.constantFrom(443, 80), { nil: undefined }) }) as fc.Arbitrary<Record<string, unknown>>,
    fc.record({ cidr: fc.constantFrom(...values.cidrs) }),
    fc.constantFrom(...values.aws).map(([a, r]) => (r ? { aws: a, resource: r } : { aws: a })),
  ).chain((e) => (deny ? fc.constantFrom('info', 'low', 'medium', 'high', 'critical').map((severity) => ({ ...e, severity })) : fc.constant(e)))
    .map((e) => Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined)));
}
