import { formatDuration } from './duration';
import type { Scenario } from './scenario';
import type { DecisionLine, RoleDiff, SummaryLine, TimelineLine, WorkflowEndLine, WorkflowStartLine, WorkflowStatus } from './timeline';

/** Pure: what the expectations of a scenario say went wrong, one sentence each. */
export function checkExpectations(scenario: Scenario, lines: readonly TimelineLine[]): string[] {
  const problems: string[] = [];
  const decisions = lines.filter((l): l is DecisionLine => l.type === 'decision');
  for (const e of scenario.expect.decisions) {
    const n = decisions.filter((d) => d.function === e.function && d.verdict === e.verdict && (e.rule === undefined || d.rule === e.rule) && (e.response === undefined || d.response === e.response)).length;
    if (n < e.min) {
      const seen = decisions.filter((d) => d.function === e.function).map((d) => `${d.verdict}${d.rule ? `/${d.rule}` : ''}→${d.response}`);
      problems.push(`expected ${e.min === 1 ? 'a' : `${e.min}`} ${e.verdict} decision${e.rule !== undefined ? ` by rule ${e.rule}` : ''}${e.response ? ` with response ${e.response}` : ''} for ${e.function}, got ${n} (seen: ${seen.join(', ') || 'none'})`);
    }
  }
  const ends = workflowRuns(lines);
  for (const e of scenario.expect.workflows) {
    const runs = ends.filter((w) => w.workflow === e.workflow && w.function === e.function);
    const n = runs.filter((w) => w.status === e.status && (e.outcome === undefined || w.outcome === e.outcome)).length;
    if (n < e.min) {
      const seen = runs.map((w) => `${w.status}${w.outcome ? ` (${w.outcome})` : ''}`);
      problems.push(`expected the ${e.workflow} workflow for ${e.function} to end ${e.status}${e.outcome ? ` (${e.outcome})` : ''}, got ${seen.join(', ') || 'no run'}`);
    }
  }
  return problems;
}

export interface WorkflowRun {
  workflow: WorkflowStartLine['workflow'];
  executionId: string;
  function: string | null;
  status: WorkflowStatus;
  outcome: string | null;
}

/** Every workflow execution with its final status (RUNNING when it never ended). */
export function workflowRuns(lines: readonly TimelineLine[]): WorkflowRun[] {
  const runs = new Map<string, WorkflowRun>();
  for (const l of lines) {
    if (l.type === 'workflow.start') runs.set(l.executionId, { workflow: l.workflow, executionId: l.executionId, function: l.function, status: 'RUNNING', outcome: null });
    if (l.type === 'workflow.end') {
      const r = runs.get(l.executionId) ?? { workflow: l.workflow, executionId: l.executionId, function: l.function, status: 'RUNNING' as WorkflowStatus, outcome: null };
      r.status = (l as WorkflowEndLine).status;
      r.outcome = l.outcome;
      r.function ??= l.function;
      runs.set(l.executionId, r);
    }
  }
  return [...runs.values()];
}

export interface SummaryInputs {
  scenario: Scenario;
  lines: readonly TimelineLine[];
  /** agent events accepted by the bus */
  emitted: number;
  /** agent events routed to a dead-letter queue after the engine failed on them */
  deadLettered: number;
  roles: RoleDiff[];
  audit?: SummaryLine['audit'];
  timings?: SummaryLine['timings'];
  /** problems found while running (errors, unexpected call results, …) */
  problems: string[];
  simStartMs: number;
  simEndMs: number;
  wallMs: number;
}

/** Pure: the final `summary` line. `ok` is false when anything went wrong. */
export function buildSummary(i: SummaryInputs): SummaryLine {
  const accesses = i.lines.filter((l) => l.type === 'access');
  const decisions = i.lines.filter((l): l is DecisionLine => l.type === 'decision');
  const byRule: Record<string, number> = {};
  for (const d of decisions) {
    const key = d.rule ?? (d.verdict === 'unlisted' ? '(unlisted)' : d.error ? '(error)' : '(default allow)');
    byRule[key] = (byRule[key] ?? 0) + 1;
  }
  const decided = new Set(decisions.map((d) => d.eventId)).size;
  const unaccounted = i.emitted - decided - i.deadLettered;
  const restoredRoles = i.roles.filter((r) => r.restoredExactly !== null);
  const restoredExactly = restoredRoles.every((r) => r.restoredExactly === true);
  const runs = workflowRuns(i.lines);
  const problems = [...i.problems, ...checkExpectations(i.scenario, i.lines)];
  if (unaccounted !== 0) problems.push(`${unaccounted} agent event(s) were neither decided nor dead-lettered (emitted ${i.emitted}, decided ${decided}, dead-lettered ${i.deadLettered})`);
  for (const r of restoredRoles) if (!r.restoredExactly) problems.push(`the restored role ${r.role} of ${r.function} differs from its quarantine snapshot`);
  for (const w of runs) {
    if (w.status === 'RUNNING') problems.push(`the ${w.workflow} workflow ${w.executionId}${w.function ? ` for ${w.function}` : ''} was still running when the simulation ended`);
    else if (w.status !== 'SUCCEEDED' && !i.scenario.expect.workflows.some((e) => e.workflow === w.workflow && e.function === w.function && e.status === w.status)) {
      problems.push(`the ${w.workflow} workflow ${w.executionId}${w.function ? ` for ${w.function}` : ''} ended ${w.status}`);
    }
  }
  return {
    type: 'summary',
    t: new Date(i.simEndMs).toISOString(),
    scenario: i.scenario.name,
    simulated: true,
    account: i.scenario.account.id,
    accesses: accesses.length,
    blocked: accesses.filter((a) => a.type === 'access' && a.blocked).length,
    decisions: {
      total: decisions.length,
      allow: decisions.filter((d) => d.verdict === 'allow').length,
      deny: decisions.filter((d) => d.verdict === 'deny').length,
      unlisted: decisions.filter((d) => d.verdict === 'unlisted').length,
      byRule,
    },
    workflows: runs,
    actions: i.lines.filter((l) => l.type === 'action').length,
    actionsByType: i.lines.reduce<Record<string, number>>((acc, l) => {
      if (l.type === 'action') acc[`${l.service}:${l.action}`] = (acc[`${l.service}:${l.action}`] ?? 0) + 1;
      return acc;
    }, {}),
    slackMessages: i.lines.filter((l) => l.type === 'slack.message').length,
    audit: i.audit ?? null,
    emitted: i.emitted,
    decided,
    deadLettered: i.deadLettered,
    unaccounted,
    restoredExactly,
    restored: restoredRoles.length,
    quarantinedRoles: i.roles,
    problems,
    ok: problems.length === 0,
    simulatedDuration: formatDuration(i.simEndMs - i.simStartMs),
    wallMs: Math.round(i.wallMs),
    timings: i.timings ?? { synthMs: 0, setupMs: 0, runMs: 0 },
  };
}
