import { z } from 'zod';
import { roleNameFromArn, type FunctionState, type RoleState } from '../common/account-port';
import { isoNow } from '../common/clock';
import { INCIDENT_TAG, QUARANTINE_POLICY_NAME, type WorkflowDeps } from '../common/deps';
import { AccountNotFoundError, RestoreMismatchError, SnapshotError } from '../common/errors';
import type { Snapshot } from '../common/snapshot';
import { parseTaskInput, type TaskHandler } from '../common/task-runtime';
import { RestoreInputSchema, RestoreStepSchema, describeStep, missingMappings, restoreSteps, type RestoreStep } from './restore-core';

/**
 * The restore workflow's Lambda tasks: the exact inverse of quarantine, from the incident's
 * snapshot. Every change is recorded as it is made; a repeated run finds nothing to do.
 */

export const RestorePlanSchema = z.object({
  outcome: z.enum(['restore', 'nothing-to-do', 'refused']),
  dryRun: z.boolean(),
  incidentId: z.string(),
  functionName: z.string(),
  roleName: z.string(),
  reasons: z.array(z.string()),
  steps: z.array(RestoreStepSchema),
  /** the same steps, for people */
  description: z.array(z.string()),
  removeDenyAll: z.boolean(),
  denyPolicyName: z.string(),
  simulated: z.boolean(),
});
type RestorePlan = z.infer<typeof RestorePlanSchema>;

const StateSchema = RestoreInputSchema.extend({ plan: RestorePlanSchema, results: z.record(z.string(), z.unknown()).optional() });
const pk = (incidentId: string) => `INC#${incidentId}`;
const simTag = (deps: WorkflowDeps) => (deps.simulated ? '[SIMULATED] ' : '');

async function load(deps: WorkflowDeps, incidentId: string): Promise<{ snap: Snapshot; fn: FunctionState; role: RoleState }> {
  const snap = await deps.snapshots.get(incidentId);
  if (!snap) throw new SnapshotError(`no snapshot for incident ${incidentId}: nothing to restore from. If the function was quarantined by another incident (tag ${INCIDENT_TAG} on it), restore that incident`);
  const fn = await deps.account.getFunction(snap.function.functionName);
  if (fn.roleArn !== snap.function.roleArn) throw new SnapshotError(`function ${fn.functionName} now uses role ${fn.roleArn}, not ${snap.function.roleArn} as in the snapshot; restore refuses to guess — fix the function's role first`);
  const role = await deps.account.getRole(roleNameFromArn(fn.roleArn));
  return { snap, fn, role };
}

/** restore.plan: load the snapshot and the current state; the steps back, or why not. */
const plan: TaskHandler<WorkflowDeps> = async (raw, deps) => {
  const input = parseTaskInput('restore.plan', RestoreInputSchema, raw);
  const { snap, fn, role } = await load(deps, input.incidentId);
  const base = { dryRun: input.dryRun, incidentId: input.incidentId, functionName: fn.functionName, roleName: role.roleName, denyPolicyName: QUARANTINE_POLICY_NAME, simulated: deps.simulated };
  const owner = role.tags[INCIDENT_TAG];
  if (owner !== undefined && owner !== input.incidentId && snap.role.tags[INCIDENT_TAG] !== owner) {
    return { ...base, outcome: 'refused', reasons: [`role ${role.roleName} is held by incident ${owner}, not ${input.incidentId}; restore incident ${owner} instead`], steps: [], description: [], removeDenyAll: false } satisfies RestorePlan;
  }
  const steps = restoreSteps(snap, fn, role);
  const missing = missingMappings(snap, fn);
  return {
    ...base, outcome: steps.length ? 'restore' : 'nothing-to-do',
    reasons: missing.map((u) => `event source mapping ${u} from the snapshot no longer exists; it cannot be restored`),
    steps, description: steps.map((s) => describeStep(s, role.roleName, fn.functionName)),
    removeDenyAll: steps.some((s) => s.op === 'remove-deny-all'),
  } satisfies RestorePlan;
};

async function applyStep(deps: WorkflowDeps, s: RestoreStep, roleName: string, fn: FunctionState): Promise<void> {
  const a = deps.account;
  switch (s.op) {
    case 'detach-policy': return a.detachRolePolicy(roleName, s.policyArn);
    case 'attach-policy': return a.attachRolePolicy(roleName, s.policyArn);
    case 'put-inline-policy': return a.putRolePolicy(roleName, s.policyName, s.document);
    case 'delete-inline-policy': return a.deleteRolePolicy(roleName, s.policyName);
    case 'put-boundary': return a.putRolePermissionsBoundary(roleName, s.policyArn);
    case 'delete-boundary': return a.deleteRolePermissionsBoundary(roleName);
    case 'tag-role': return a.tagRole(roleName, s.tags);
    case 'untag-role': return a.untagRole(roleName, s.keys);
    case 'set-concurrency': return a.setReservedConcurrency(fn.functionName, s.value);
    case 'set-mapping': return a.setEventSourceMappingEnabled(s.uuid, s.enabled);
    case 'tag-function': return a.tagFunction(fn.arn, s.tags);
    case 'untag-function': return a.untagFunction(fn.arn, s.keys);
    case 'remove-deny-all': return; // the state machine's aws-sdk step does it, last
  }
}

/** restore.apply: recompute the steps from the live state (a retry resumes where it stopped) and apply all but the deny-all removal. */
const apply: TaskHandler<WorkflowDeps> = async (raw, deps) => {
  const s = parseTaskInput('restore.apply', StateSchema, raw);
  const { snap, fn, role } = await load(deps, s.incidentId);
  const done: { action: string; step: RestoreStep; at: string }[] = [];
  for (const step of restoreSteps(snap, fn, role)) {
    if (step.op === 'remove-deny-all') continue;
    try { await applyStep(deps, step, role.roleName, fn); } catch (err) {
      // Already gone (detached/deleted meanwhile): the goal holds.
      if (!(err instanceof AccountNotFoundError && /^(detach|delete|untag)/.test(step.op))) throw err;
    }
    const rec = { action: describeStep(step, role.roleName, fn.functionName), step, at: isoNow(deps.clock) };
    await deps.audit.record({ pk: pk(s.incidentId), type: 'restore.action', ...rec, simulated: deps.simulated });
    done.push(rec);
  }
  return { actions: done };
};

/** restore.report: verify the role and function now equal the snapshot (else fail), record and notify. */
const report: TaskHandler<WorkflowDeps> = async (raw, deps) => {
  const s = parseTaskInput('restore.report', StateSchema, raw);
  const p = s.plan;
  const results = (s.results ?? {}) as { apply?: { actions?: { action: string }[] }; denyAll?: { removed?: boolean } };
  const actions = (results.apply?.actions ?? []).map((a) => a.action);
  if (results.denyAll?.removed) {
    const action = `delete inline deny-all policy ${p.denyPolicyName} from role ${p.roleName}`;
    await deps.audit.record({ pk: pk(s.incidentId), type: 'restore.action', action, at: isoNow(deps.clock), via: 'aws-sdk:iam:deleteRolePolicy', simulated: deps.simulated });
    actions.push(action);
  }
  const status = p.outcome === 'refused' ? 'refused' : p.dryRun ? 'dry-run' : p.outcome === 'nothing-to-do' ? 'already-restored' : 'restored';
  if (status === 'restored' || status === 'already-restored') {
    const { snap, fn, role } = await load(deps, s.incidentId);
    const left = restoreSteps(snap, fn, role);
    if (left.length) throw new RestoreMismatchError(`after restore, ${fn.functionName}/${role.roleName} still differ from the snapshot: ${left.map((x) => describeStep(x, role.roleName, fn.functionName)).join('; ')}`);
  }
  const lines = status === 'refused' ? [`Restore for incident ${s.incidentId} REFUSED:`, ...p.reasons.map((x) => `- ${x}`)]
    : status === 'dry-run' ? [`DRY RUN: restore of ${p.functionName} would do (nothing was changed):`, ...(p.description.length ? p.description.map((x) => `- ${x}`) : ['- nothing: already as in the snapshot'])]
    : status === 'already-restored' ? [`${p.functionName} and role ${p.roleName} already equal the snapshot of incident ${s.incidentId}; nothing changed.`]
    : [`${p.functionName} and role ${p.roleName} restored from the snapshot of incident ${s.incidentId} (verified field by field):`, ...actions.map((a) => `- ${a}`)];
  if (p.reasons.length && status !== 'refused') lines.push(...p.reasons.map((x) => `Note: ${x}`));
  const summary = { incidentId: s.incidentId, functionName: p.functionName, roleName: p.roleName, status, actions, plannedSteps: p.description, reasons: p.reasons, requestedBy: s.requestedBy, simulated: deps.simulated };
  await deps.audit.record({ pk: pk(s.incidentId), type: `restore.${status}`, ...summary });
  await deps.notifier.notify({ subject: `${simTag(deps)}[Warden] restore ${status}: ${p.functionName} (${s.incidentId})`, text: `${simTag(deps)}${lines.join('\n')}`, detail: summary, severity: status === 'refused' ? 'warning' : 'info' });
  return summary;
};

const FailedSchema = z.object({ incidentId: z.string().optional(), plan: RestorePlanSchema.partial().optional(), error: z.object({ Error: z.string(), Cause: z.string().optional() }) }).loose();

/** restore.failed: record what was done, escalate, hand the Fail state its cause. */
const failed: TaskHandler<WorkflowDeps> = async (raw, deps) => {
  const s = parseTaskInput('restore.failed', FailedSchema, raw);
  const incidentId = s.incidentId ?? 'invalid-input';
  const done = (await deps.audit.list(pk(incidentId), ['restore.action'])).map((a) => String(a.action));
  const cause = `${s.error.Error}: ${s.error.Cause ?? ''}`.slice(0, 2000);
  const summary = { incidentId, functionName: s.plan?.functionName ?? null, status: 'failed', error: s.error.Error, cause, actionsSoFar: done, simulated: deps.simulated };
  await deps.audit.record({ pk: pk(incidentId), type: 'restore.failed', ...summary });
  await deps.notifier.notify({
    subject: `${simTag(deps)}[Warden] ESCALATION: restore FAILED (${incidentId})`,
    text: `${simTag(deps)}Restore for incident ${incidentId} failed and needs a human. The deny-all policy stays until restore completes.\nError: ${cause}\nDone so far:\n${done.map((a) => `- ${a}`).join('\n') || '- nothing'}`,
    detail: summary, severity: 'critical',
  });
  return { failure: { error: s.error.Error, cause: `restore failed (${done.length} action(s) recorded, see audit INC#${incidentId}): ${cause}` } };
};

export const RESTORE_TASKS = {
  'restore.plan': plan,
  'restore.apply': apply,
  'restore.report': report,
  'restore.failed': failed,
} satisfies Record<string, TaskHandler<WorkflowDeps>>;
