import { z } from 'zod';
import { roleNameFromArn, type FunctionState, type RoleState } from '../common/account-port';
import { INCIDENT_TAG, QUARANTINE_POLICY_NAME, type WorkflowDeps } from '../common/deps';
import { AccountNotFoundError, SnapshotError } from '../common/errors';
import { isoNow } from '../common/clock';
import { makeSnapshot } from '../common/snapshot';
import { parseTaskInput, type TaskHandler } from '../common/task-runtime';
import { PlanSchema, QuarantineInputSchema, planQuarantine, quarantinedBy } from './quarantine-core';

/**
 * The quarantine workflow's Lambda tasks (WARDEN_TASK → handler). Each reads the current state
 * first and changes only what still differs, so a repeated or resumed run changes nothing twice;
 * each change is recorded in the audit log the moment it is made, so a failure part-way still
 * leaves a full account of what was done.
 */

export interface ActionRecord { action: string; target: string; detail?: Record<string, unknown>; at: string }

const StateSchema = QuarantineInputSchema.extend({ plan: PlanSchema, results: z.record(z.string(), z.unknown()).optional() });
type State = z.infer<typeof StateSchema>;

const pk = (incidentId: string) => `INC#${incidentId}`;

async function act(deps: WorkflowDeps, s: { incidentId: string }, type: string, action: string, target: string, change: () => Promise<void>, detail?: Record<string, unknown>): Promise<ActionRecord> {
  await change();
  const rec: ActionRecord = { action, target, ...(detail ? { detail } : {}), at: isoNow(deps.clock) };
  await deps.audit.record({ pk: pk(s.incidentId), type, ...rec, simulated: deps.simulated });
  return rec;
}

async function observe(deps: WorkflowDeps, functionName: string): Promise<{ fn: FunctionState; role: RoleState }> {
  const fn = await deps.account.getFunction(functionName);
  const role = await deps.account.getRole(roleNameFromArn(fn.roleArn));
  return { fn, role };
}

const simTag = (deps: WorkflowDeps) => (deps.simulated ? '[SIMULATED] ' : '');

/** quarantine.plan: validate the input, read the function and its role, apply guardrails, decide the steps. */
const plan: TaskHandler<WorkflowDeps> = async (raw, deps) => {
  const input = parseTaskInput('quarantine.plan', QuarantineInputSchema, raw);
  const { fn, role } = await observe(deps, input.functionName);
  const snapshot = await deps.snapshots.get(input.incidentId);
  const owner = quarantinedBy(fn, role);
  const ownerSnapshotExists = owner !== null && owner !== 'unknown' && owner !== input.incidentId && (await deps.snapshots.get(owner)) !== null;
  const roleUsers = await deps.account.functionsUsingRole(role.arn);
  return planQuarantine({ input, fn, role, snapshot, ownerSnapshotExists, roleUsers, guardrails: deps.guardrails, now: isoNow(deps.clock), simulated: deps.simulated });
};

/** quarantine.snapshot: store role + function state once for the incident (conditional put), never of a quarantined role. */
const snapshot: TaskHandler<WorkflowDeps> = async (raw, deps) => {
  const s = parseTaskInput('quarantine.snapshot', StateSchema, raw);
  const existing = await deps.snapshots.get(s.incidentId);
  if (existing) return { created: false, takenAt: existing.takenAt };
  const { fn, role } = await observe(deps, s.functionName);
  const owner = quarantinedBy(fn, role);
  if (owner !== null) {
    throw new SnapshotError(`refusing to snapshot ${s.functionName}: it is already quarantined (incident ${owner}), so the snapshot would not be the state to restore; restore from incident ${owner}'s snapshot instead`);
  }
  const snap = makeSnapshot(s.incidentId, isoNow(deps.clock), fn, role, deps.simulated);
  const { created, snapshot: stored } = await deps.snapshots.putOnce(snap);
  if (stored.function.functionName !== s.functionName) throw new SnapshotError(`incident ${s.incidentId} already holds a snapshot of ${stored.function.functionName}, not ${s.functionName}`);
  await deps.audit.record({ pk: pk(s.incidentId), type: 'quarantine.snapshot', created, functionName: s.functionName, roleName: role.roleName, takenAt: stored.takenAt, simulated: deps.simulated });
  return { created, takenAt: stored.takenAt };
};

/** quarantine.tag: mark role and function with the owning incident (first, so ownership shows even if a later step fails). */
const tag: TaskHandler<WorkflowDeps> = async (raw, deps) => {
  const s = parseTaskInput('quarantine.tag', StateSchema, raw);
  const owner = s.plan.ownerIncidentId;
  const done: ActionRecord[] = [];
  if (owner === 'unknown') return { actions: done };
  const { fn, role } = await observe(deps, s.functionName);
  if (!(INCIDENT_TAG in role.tags)) done.push(await act(deps, s, 'quarantine.action', 'tag-role', role.roleName, () => deps.account.tagRole(role.roleName, { [INCIDENT_TAG]: owner }), { [INCIDENT_TAG]: owner }));
  if (!(INCIDENT_TAG in fn.tags)) done.push(await act(deps, s, 'quarantine.action', 'tag-function', fn.functionName, () => deps.account.tagFunction(fn.arn, { [INCIDENT_TAG]: owner }), { [INCIDENT_TAG]: owner }));
  return { actions: done };
};

/** quarantine.detach: detach every managed policy (the inline deny is already in place). */
const detach: TaskHandler<WorkflowDeps> = async (raw, deps) => {
  const s = parseTaskInput('quarantine.detach', StateSchema, raw);
  const role = await deps.account.getRole(s.plan.roleName);
  const done: ActionRecord[] = [];
  for (const arn of role.attachedPolicyArns) {
    done.push(await act(deps, s, 'quarantine.action', 'detach-managed-policy', role.roleName, async () => {
      try { await deps.account.detachRolePolicy(role.roleName, arn); } catch (err) {
        if (!(err instanceof AccountNotFoundError)) throw err; // detached meanwhile: the goal holds
      }
    }, { policyArn: arn }));
  }
  return { actions: done };
};

/** quarantine.contain: reserved concurrency 0, event source mappings disabled. */
const contain: TaskHandler<WorkflowDeps> = async (raw, deps) => {
  const s = parseTaskInput('quarantine.contain', StateSchema, raw);
  const fn = await deps.account.getFunction(s.functionName);
  const done: ActionRecord[] = [];
  if (fn.reservedConcurrency !== 0) {
    done.push(await act(deps, s, 'quarantine.action', 'set-reserved-concurrency', fn.functionName, () => deps.account.setReservedConcurrency(fn.functionName, 0), { from: fn.reservedConcurrency, to: 0 }));
  }
  for (const m of fn.eventSourceMappings) {
    if (/^Disabl/.test(m.state)) continue;
    done.push(await act(deps, s, 'quarantine.action', 'disable-event-source-mapping', m.uuid, () => deps.account.setEventSourceMappingEnabled(m.uuid, false), { eventSourceArn: m.eventSourceArn, from: m.state }));
  }
  return { actions: done };
};

const ResultsSchema = z.object({
  denyAll: z.object({ applied: z.boolean() }).optional(),
  snapshot: z.object({ created: z.boolean(), takenAt: z.string() }).optional(),
  tag: z.object({ actions: z.array(z.unknown()) }).optional(),
  detach: z.object({ actions: z.array(z.unknown()) }).optional(),
  contain: z.object({ actions: z.array(z.unknown()) }).optional(),
}).partial();

/** Records the deny-all put by the aws-sdk integration (it has no Lambda of its own to record it). */
async function recordDenyAll(deps: WorkflowDeps, s: State): Promise<ActionRecord[]> {
  const r = ResultsSchema.parse(s.results ?? {});
  if (!r.denyAll?.applied) return [];
  return [await act(deps, s, 'quarantine.action', 'put-deny-all-inline-policy', s.plan.roleName, async () => {}, { policyName: QUARANTINE_POLICY_NAME, revokesSessionsIssuedBefore: s.plan.plannedAt, via: 'aws-sdk:iam:putRolePolicy' })];
}

/** quarantine.report: record the outcome and notify (done, already quarantined, dry run, refused). */
const report: TaskHandler<WorkflowDeps> = async (raw, deps) => {
  const s = parseTaskInput('quarantine.report', StateSchema, raw);
  const p = s.plan;
  const r = ResultsSchema.parse(s.results ?? {});
  const denyAll = await recordDenyAll(deps, s);
  const actions = [...denyAll, ...(r.tag?.actions ?? []), ...(r.detach?.actions ?? []), ...(r.contain?.actions ?? [])] as ActionRecord[];
  const status = p.outcome === 'refused' ? 'refused' : p.dryRun ? 'dry-run' : p.outcome === 'already-quarantined' ? 'already-quarantined' : 'quarantined';
  const lines: string[] = [];
  if (status === 'refused') lines.push(`Quarantine of ${p.functionName} REFUSED:`, ...p.reasons.map((x) => `- ${x}`));
  else if (status === 'dry-run') lines.push(`DRY RUN: quarantine of ${p.functionName} would do (nothing was changed):`, ...(p.steps.length ? p.steps.map((x) => `- ${x}`) : ['- nothing: already quarantined']));
  else {
    lines.push(status === 'already-quarantined' ? `${p.functionName} was already quarantined: ${p.reasons.join('; ')}` : `${p.functionName} quarantined (role ${p.roleName}).`);
    lines.push(actions.length ? 'Done in this run:' : 'Nothing changed in this run (already in the quarantined state).', ...actions.map((a) => `- ${a.action} ${a.target}${a.detail ? ` ${JSON.stringify(a.detail)}` : ''}`));
    if (r.snapshot) lines.push(`Snapshot: ${r.snapshot.created ? 'taken' : 'already stored'} at ${r.snapshot.takenAt}; restore with the restore workflow (incident ${p.ownerIncidentId}).`);
  }
  if (s.reason) lines.push(`Reason: ${s.reason}`);
  const summary = { incidentId: s.incidentId, functionName: p.functionName, roleName: p.roleName, status, actions, steps: p.steps, reasons: p.reasons, simulated: deps.simulated };
  await deps.audit.record({ pk: pk(s.incidentId), type: `quarantine.${status}`, ...summary });
  await deps.notifier.notify({
    subject: `${simTag(deps)}[Warden] quarantine ${status}: ${p.functionName} (${s.incidentId})`,
    text: `${simTag(deps)}${lines.join('\n')}`,
    detail: summary,
    severity: status === 'quarantined' ? 'critical' : 'warning',
  });
  return summary;
};

const FailedSchema = z.object({
  incidentId: z.string().optional(),
  functionName: z.string().optional(),
  plan: PlanSchema.partial().optional(),
  results: z.record(z.string(), z.unknown()).optional(),
  error: z.object({ Error: z.string(), Cause: z.string().optional() }),
}).loose();

/** quarantine.failed: record what was done before the failure, escalate, and hand the Fail state its cause. */
const failed: TaskHandler<WorkflowDeps> = async (raw, deps) => {
  const s = parseTaskInput('quarantine.failed', FailedSchema, raw);
  const incidentId = s.incidentId ?? 'invalid-input';
  if (s.plan?.roleName && s.incidentId && s.plan.plannedAt) await recordDenyAll(deps, s as unknown as State);
  const done = await deps.audit.list(pk(incidentId), ['quarantine.action']);
  const actions = done.map((a) => ({ action: a.action, target: a.target, detail: a.detail, at: a.at }));
  const cause = `${s.error.Error}: ${s.error.Cause ?? ''}`.slice(0, 2000);
  const summary = { incidentId, functionName: s.functionName ?? null, status: 'failed', error: s.error.Error, cause, actionsSoFar: actions, simulated: deps.simulated };
  await deps.audit.record({ pk: pk(incidentId), type: 'quarantine.failed', ...summary });
  await deps.notifier.notify({
    subject: `${simTag(deps)}[Warden] ESCALATION: quarantine FAILED for ${s.functionName ?? '?'} (${incidentId})`,
    text: `${simTag(deps)}Quarantine of ${s.functionName ?? '?'} failed part-way and needs a human.\nError: ${cause}\nDone before the failure:\n${actions.map((a) => `- ${String(a.action)} ${String(a.target)}`).join('\n') || '- nothing'}`,
    detail: summary,
    severity: 'critical',
  });
  return { failure: { error: s.error.Error, cause: `quarantine failed part-way (${actions.length} action(s) done, see audit INC#${incidentId}): ${cause}` } };
};

export const QUARANTINE_TASKS = {
  'quarantine.plan': plan,
  'quarantine.snapshot': snapshot,
  'quarantine.tag': tag,
  'quarantine.detach': detach,
  'quarantine.contain': contain,
  'quarantine.report': report,
  'quarantine.failed': failed,
} satisfies Record<string, TaskHandler<WorkflowDeps>>;

export type QuarantineTask = keyof typeof QUARANTINE_TASKS;
