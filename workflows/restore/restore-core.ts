import { z } from 'zod';
import type { FunctionState, RoleState } from '../common/account-port';
import { QUARANTINE_POLICY_NAME } from '../common/deps';
import type { Snapshot } from '../common/snapshot';

/**
 * Pure restore logic: the steps that take a role and function from their current state back to
 * the snapshot, exactly. Restore applies them; verification is "no step left".
 */

export const RestoreInputSchema = z.object({
  incidentId: z.string().min(1).max(256),
  dryRun: z.boolean().default(false),
  requestedBy: z.string().max(256).default('unknown'),
  reason: z.string().max(2000).optional(),
});
export type RestoreInput = z.infer<typeof RestoreInputSchema>;

export const RestoreStepSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('detach-policy'), policyArn: z.string() }),
  z.object({ op: z.literal('attach-policy'), policyArn: z.string() }),
  z.object({ op: z.literal('put-inline-policy'), policyName: z.string(), document: z.string() }),
  z.object({ op: z.literal('delete-inline-policy'), policyName: z.string() }),
  z.object({ op: z.literal('put-boundary'), policyArn: z.string() }),
  z.object({ op: z.literal('delete-boundary') }),
  z.object({ op: z.literal('tag-role'), tags: z.record(z.string(), z.string()) }),
  z.object({ op: z.literal('untag-role'), keys: z.array(z.string()) }),
  z.object({ op: z.literal('set-concurrency'), value: z.number().int().min(0).nullable() }),
  z.object({ op: z.literal('set-mapping'), uuid: z.string(), enabled: z.boolean() }),
  z.object({ op: z.literal('tag-function'), tags: z.record(z.string(), z.string()) }),
  z.object({ op: z.literal('untag-function'), keys: z.array(z.string()) }),
  /** last: the deny-all stays until everything else is back */
  z.object({ op: z.literal('remove-deny-all'), policyName: z.string() }),
]);
export type RestoreStep = z.infer<typeof RestoreStepSchema>;

const enabled = (state: string): boolean => !/^Disabl/.test(state);

function tagSteps(want: Record<string, string>, have: Record<string, string>): { set: Record<string, string>; remove: string[] } {
  const set: Record<string, string> = {};
  for (const [k, v] of Object.entries(want)) if (have[k] !== v) set[k] = v;
  const remove = Object.keys(have).filter((k) => !(k in want));
  return { set, remove };
}

/** Every change that makes `fn`/`role` equal to the snapshot, in a safe order; empty when they already are. */
export function restoreSteps(snap: Snapshot, fn: FunctionState, role: RoleState): RestoreStep[] {
  const steps: RestoreStep[] = [];
  const want = snap.role;
  // Extras first, so re-attaching never runs into the managed-policy quota.
  for (const arn of role.attachedPolicyArns) if (!want.attachedPolicyArns.includes(arn)) steps.push({ op: 'detach-policy', policyArn: arn });
  for (const arn of want.attachedPolicyArns) if (!role.attachedPolicyArns.includes(arn)) steps.push({ op: 'attach-policy', policyArn: arn });
  for (const [name, doc] of Object.entries(want.inlinePolicies)) {
    if (!(name in role.inlinePolicies) || !sameJson(role.inlinePolicies[name]!, doc)) steps.push({ op: 'put-inline-policy', policyName: name, document: doc });
  }
  for (const name of Object.keys(role.inlinePolicies)) {
    if (!(name in want.inlinePolicies) && name !== QUARANTINE_POLICY_NAME) steps.push({ op: 'delete-inline-policy', policyName: name });
  }
  if (want.permissionsBoundaryArn !== role.permissionsBoundaryArn) {
    steps.push(want.permissionsBoundaryArn === null ? { op: 'delete-boundary' } : { op: 'put-boundary', policyArn: want.permissionsBoundaryArn });
  }
  const rt = tagSteps(want.tags, role.tags);
  if (Object.keys(rt.set).length) steps.push({ op: 'tag-role', tags: rt.set });
  if (rt.remove.length) steps.push({ op: 'untag-role', keys: rt.remove });
  if (snap.function.reservedConcurrency !== fn.reservedConcurrency) steps.push({ op: 'set-concurrency', value: snap.function.reservedConcurrency });
  for (const m of snap.function.eventSourceMappings) {
    const now = fn.eventSourceMappings.find((x) => x.uuid === m.uuid);
    if (now && enabled(now.state) !== enabled(m.state)) steps.push({ op: 'set-mapping', uuid: m.uuid, enabled: enabled(m.state) });
  }
  const ft = tagSteps(snap.function.tags, fn.tags);
  if (Object.keys(ft.set).length) steps.push({ op: 'tag-function', tags: ft.set });
  if (ft.remove.length) steps.push({ op: 'untag-function', keys: ft.remove });
  if (QUARANTINE_POLICY_NAME in role.inlinePolicies && !(QUARANTINE_POLICY_NAME in want.inlinePolicies)) steps.push({ op: 'remove-deny-all', policyName: QUARANTINE_POLICY_NAME });
  return steps;
}

/** Mappings the snapshot names that no longer exist: restore cannot bring them back, and says so. */
export function missingMappings(snap: Snapshot, fn: FunctionState): string[] {
  return snap.function.eventSourceMappings.filter((m) => !fn.eventSourceMappings.some((x) => x.uuid === m.uuid)).map((m) => m.uuid);
}

function sameJson(a: string, b: string): boolean {
  try { return JSON.stringify(JSON.parse(a)) === JSON.stringify(JSON.parse(b)); } catch { return a === b; }
}

export function describeStep(s: RestoreStep, roleName: string, functionName: string): string {
  switch (s.op) {
    case 'detach-policy': return `detach managed policy ${s.policyArn} (not in the snapshot) from role ${roleName}`;
    case 'attach-policy': return `re-attach managed policy ${s.policyArn} to role ${roleName}`;
    case 'put-inline-policy': return `put inline policy ${s.policyName} back on role ${roleName} as in the snapshot`;
    case 'delete-inline-policy': return `delete inline policy ${s.policyName} (not in the snapshot) from role ${roleName}`;
    case 'put-boundary': return `set permissions boundary ${s.policyArn} on role ${roleName}`;
    case 'delete-boundary': return `remove the permissions boundary of role ${roleName}`;
    case 'tag-role': return `tag role ${roleName} ${JSON.stringify(s.tags)}`;
    case 'untag-role': return `untag role ${roleName} ${s.keys.join(', ')}`;
    case 'set-concurrency': return `set reserved concurrency of ${functionName} to ${s.value ?? 'none (unreserved)'}`;
    case 'set-mapping': return `${s.enabled ? 'enable' : 'disable'} event source mapping ${s.uuid}`;
    case 'tag-function': return `tag function ${functionName} ${JSON.stringify(s.tags)}`;
    case 'untag-function': return `untag function ${functionName} ${s.keys.join(', ')}`;
    case 'remove-deny-all': return `delete inline deny-all policy ${s.policyName} from role ${roleName} (last)`;
  }
}
