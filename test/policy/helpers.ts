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
