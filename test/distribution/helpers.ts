import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Access } from '../../engine/events/access-event';
import type { CompiledPolicy } from '../../engine/policy/types';
import type { BundleLoader } from '../../engine/distribution/policy-source';

/**
 * A minimal stand-in bundle format for the distribution tests: the distribution layer treats a
 * bundle as opaque bytes plus a loader, so these tests do not depend on the policy compiler.
 */
export interface TestRules { deny: string[]; mode: 'monitor' | 'block' }

export function makeBundle(rules: TestRules): { text: string; policyVersion: string } {
  const body = JSON.stringify(rules);
  const policyVersion = `sha256:${createHash('sha256').update(body).digest('hex').slice(0, 32)}`;
  return { text: JSON.stringify({ format: 'test-bundle', policyVersion, rules }) + '\n', policyVersion };
}

export const loadTestBundle: BundleLoader = (text, where) => {
  const doc = JSON.parse(text) as { format?: string; policyVersion?: string; rules?: TestRules };
  if (doc.format !== 'test-bundle' || !doc.rules || !doc.policyVersion) throw new Error(`${where}: not a test bundle`);
  const rules = doc.rules;
  const version = `sha256:${createHash('sha256').update(JSON.stringify(rules)).digest('hex').slice(0, 32)}`;
  if (version !== doc.policyVersion) throw new Error(`${where}: policyVersion does not match its rules`);
  const deny = new Set(rules.deny);
  const policy: CompiledPolicy = {
    policyVersion: version,
    modeFor: () => rules.mode,
    decide: (_fn, access: Access) => (access.host && deny.has(access.host)
      ? { verdict: 'deny', rule: `deny-${access.host}`, severity: 'high' }
      : { verdict: 'allow', rule: null, severity: 'info' }),
  };
  return policy;
};

export const httpAccess = (host: string): Access => ({ kind: 'http', host, port: 443 });

export function tempDir(prefix = 'warden-dist-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A manual clock: time moves only when a test says so. */
export function manualClock(start = Date.UTC(2026, 10, 23, 18, 0, 0)): { now(): number; advance(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms: number) => { t += ms; } };
}
