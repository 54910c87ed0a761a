import type { AuditLog } from '../../engine/audit/audit-log';
import type { AccountPort } from './account-port';
import type { Clock } from './clock';
import type { NotifierPort } from './notifier';
import type { SnapshotStore } from './snapshot';

/** Which functions and roles the response workflows may touch. Defaults in `GUARDRAIL_DEFAULTS`. */
export interface GuardrailConfig {
  /** a function or role with this tag is in scope */
  protectedTag: string;
  /** a function or role with this tag belongs to Warden and is never touched */
  componentTag: string;
  /** function and role names with one of these prefixes belong to Warden and are never touched */
  ownNamePrefixes: string[];
  /** function names or globs (`payments-*`) listed in the rules repo: in scope without the tag */
  listedFunctions: string[];
}

export const GUARDRAIL_DEFAULTS: GuardrailConfig = {
  protectedTag: 'warden:protected',
  componentTag: 'warden:component',
  ownNamePrefixes: ['warden-'],
  listedFunctions: [],
};

/** `*` matches any run of characters; everything else is literal. */
export function matchesFunctionGlob(name: string, glob: string): boolean {
  const re = new RegExp(`^${glob.split('*').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return re.test(name);
}

export const QUARANTINE_POLICY_NAME = 'warden-quarantine';
export const INCIDENT_TAG = 'warden:incident';

/** What the quarantine and restore task handlers need; built from env in Lambda, by the local runner locally. */
export interface WorkflowDeps {
  account: AccountPort;
  audit: Pick<AuditLog, 'record' | 'list'>;
  snapshots: Pick<SnapshotStore, 'get' | 'putOnce'>;
  notifier: NotifierPort;
  clock: Clock;
  guardrails: GuardrailConfig;
  /** true when the account is the simulated one: said in every record and notification */
  simulated: boolean;
}
