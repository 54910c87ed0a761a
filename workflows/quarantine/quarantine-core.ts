import { z } from 'zod';
import type { FunctionState, RoleState } from '../common/account-port';
import { INCIDENT_TAG, QUARANTINE_POLICY_NAME, matchesFunctionGlob, type GuardrailConfig } from '../common/deps';
import type { Snapshot } from '../common/snapshot';

/** Pure quarantine logic: input, guardrails, the deny-all policy and the plan. No I/O here. */

export const QuarantineInputSchema = z.object({
  incidentId: z.string().min(1).max(256).regex(/^[\w.:#@/+=-]+$/, 'incidentId may hold letters, digits and _ . : # @ / + = -'),
  functionName: z.string().min(1).max(170),
  /** report the plan, change nothing */
  dryRun: z.boolean().default(false),
  /** the function is listed in the rules repo (in scope even without the protected tag) */
  listedInRules: z.boolean().default(false),
  reason: z.string().max(2000).optional(),
  requestedBy: z.string().max(256).default('warden.engine'),
});
export type QuarantineInput = z.infer<typeof QuarantineInputSchema>;

export const PlanSchema = z.object({
  outcome: z.enum(['proceed', 'refused', 'already-quarantined']),
  dryRun: z.boolean(),
  incidentId: z.string(),
  functionName: z.string(),
  functionArn: z.string(),
  roleName: z.string(),
  roleArn: z.string(),
  /** why refused, or which incident quarantined it first */
  reasons: z.array(z.string()),
  /** the incident whose tags/snapshot own the quarantine (this one or an earlier one) */
  ownerIncidentId: z.string(),
  takeSnapshot: z.boolean(),
  /** false: make no change at all (quarantined by an incident whose snapshot cannot be found) */
  contain: z.boolean(),
  putDenyAll: z.boolean(),
  denyPolicyName: z.string(),
  denyPolicyDocument: z.string(),
  /** other functions with the same execution role: quarantining the role cuts them off too */
  sharedWith: z.array(z.string()),
  /** what the run will do (or would do, in a dry run), in order, for people */
  steps: z.array(z.string()),
  plannedAt: z.string(),
  simulated: z.boolean(),
});
export type Plan = z.infer<typeof PlanSchema>;

/**
 * Deny everything, and deny everything to sessions issued before `issuedBefore` (the AWS
 * "revoke older sessions" statement), so credentials stolen from the function die at once.
 * Inline, so it works when the role already holds its maximum of managed policies.
 */
export function denyAllPolicy(issuedBefore: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Sid: 'WardenQuarantineDenyAll', Effect: 'Deny', Action: '*', Resource: '*' },
      { Sid: 'WardenRevokeOlderSessions', Effect: 'Deny', Action: '*', Resource: '*', Condition: { DateLessThan: { 'aws:TokenIssueTime': issuedBefore } } },
    ],
  });
}

const isTagged = (tags: Record<string, string>, key: string): boolean => key in tags && tags[key]!.toLowerCase() !== 'false';

/** Guardrails: reasons to refuse (empty = allowed). Warden's own functions/roles are refused even when listed. */
export function scopeRefusals(fn: FunctionState, role: RoleState, listedInRules: boolean, g: GuardrailConfig): string[] {
  const out: string[] = [];
  for (const [kind, name, tags] of [['function', fn.functionName, fn.tags], ['role', role.roleName, role.tags]] as const) {
    if (g.componentTag in tags) out.push(`${kind} ${name} is part of Warden (tag ${g.componentTag}); Warden never quarantines itself`);
    const prefix = g.ownNamePrefixes.find((p) => p && name.startsWith(p));
    if (prefix) out.push(`${kind} ${name} has Warden's own name prefix "${prefix}"; Warden never quarantines itself`);
  }
  if (out.length) return out;
  const listed = listedInRules || g.listedFunctions.some((glob) => matchesFunctionGlob(fn.functionName, glob));
  if (!listed && !isTagged(fn.tags, g.protectedTag) && !isTagged(role.tags, g.protectedTag)) {
    out.push(`function ${fn.functionName} is out of scope: neither it nor role ${role.roleName} is tagged ${g.protectedTag}, and it is not listed in the rules repo`);
  }
  return out;
}

/** The incident that already quarantined this role/function, if any ('unknown' when only the deny policy shows it). */
export function quarantinedBy(fn: FunctionState, role: RoleState): string | null {
  return role.tags[INCIDENT_TAG] ?? fn.tags[INCIDENT_TAG] ?? (QUARANTINE_POLICY_NAME in role.inlinePolicies ? 'unknown' : null);
}

export function planQuarantine(args: {
  input: QuarantineInput; fn: FunctionState; role: RoleState; snapshot: Snapshot | null;
  /** whether the snapshot of the incident that quarantined the function earlier exists */
  ownerSnapshotExists?: boolean;
  /** every function using the role (this one included) */
  roleUsers?: string[];
  guardrails: GuardrailConfig; now: string; simulated: boolean;
}): Plan {
  const { input, fn, role, snapshot, guardrails, now, simulated, ownerSnapshotExists = false, roleUsers = [] } = args;
  const base = {
    sharedWith: roleUsers.filter((n) => n !== fn.functionName),
    dryRun: input.dryRun, incidentId: input.incidentId, functionName: fn.functionName, functionArn: fn.arn,
    roleName: role.roleName, roleArn: role.arn, denyPolicyName: QUARANTINE_POLICY_NAME, denyPolicyDocument: denyAllPolicy(now),
    plannedAt: now, simulated,
  };
  const refusals = scopeRefusals(fn, role, input.listedInRules, guardrails);
  if (snapshot && snapshot.function.functionName !== fn.functionName) {
    refusals.push(`incident ${input.incidentId} already has a snapshot of function ${snapshot.function.functionName}; one incident quarantines one function`);
  }
  if (refusals.length) {
    return { ...base, outcome: 'refused', reasons: refusals, ownerIncidentId: input.incidentId, takeSnapshot: false, contain: false, putDenyAll: false, steps: [] };
  }
  const owner = quarantinedBy(fn, role);
  // Ours when this incident's snapshot exists (a resumed or repeated run); another incident's otherwise.
  const byOther = owner !== null && !snapshot && owner !== input.incidentId;
  const ownerIncidentId = byOther ? owner : input.incidentId;
  if (byOther && !ownerSnapshotExists) {
    // Without the earlier incident's snapshot, detaching or zeroing anything would lose the state to restore.
    return {
      ...base, outcome: 'already-quarantined', ownerIncidentId, takeSnapshot: false, contain: false, putDenyAll: false, steps: [],
      reasons: [`already quarantined (${owner === 'unknown' ? `inline policy ${QUARANTINE_POLICY_NAME} without a ${INCIDENT_TAG} tag` : `incident ${owner}`}), and no snapshot of that incident exists: Warden changes nothing more — a human must check the role and function`],
    };
  }
  const putDenyAll = !(QUARANTINE_POLICY_NAME in role.inlinePolicies);
  const steps: string[] = [];
  if (base.sharedWith.length) steps.push(`note: role ${role.roleName} is also used by ${base.sharedWith.join(', ')}; the deny-all and detached policies cut them off too`);
  if (!byOther && !snapshot) steps.push(`snapshot role ${role.roleName} and function ${fn.functionName} (incident ${input.incidentId})`);
  if (ownerIncidentId !== 'unknown') {
    if (!(INCIDENT_TAG in role.tags)) steps.push(`tag role ${role.roleName} ${INCIDENT_TAG}=${ownerIncidentId}`);
    if (!(INCIDENT_TAG in fn.tags)) steps.push(`tag function ${fn.functionName} ${INCIDENT_TAG}=${ownerIncidentId}`);
  }
  if (putDenyAll) steps.push(`put inline deny-all policy ${QUARANTINE_POLICY_NAME} on role ${role.roleName}, revoking sessions issued before ${now}`);
  for (const arn of role.attachedPolicyArns) steps.push(`detach managed policy ${arn} from role ${role.roleName}`);
  if (fn.reservedConcurrency !== 0) steps.push(`set reserved concurrency of ${fn.functionName} to 0 (was ${fn.reservedConcurrency ?? 'none'})`);
  for (const m of fn.eventSourceMappings) if (!/^Disabl/.test(m.state)) steps.push(`disable event source mapping ${m.uuid} (${m.eventSourceArn})`);
  return {
    ...base, outcome: byOther ? 'already-quarantined' : 'proceed',
    reasons: byOther ? [`already quarantined by incident ${owner}; its snapshot stays the one to restore from, no new snapshot is taken`] : [],
    ownerIncidentId, takeSnapshot: !byOther && !snapshot, contain: true, putDenyAll, steps,
  };
}
