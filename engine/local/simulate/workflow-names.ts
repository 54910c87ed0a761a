import { WORKFLOW_NAMES, type WorkflowName } from './scenario';

/**
 * Which of Warden's workflows a state machine of the template is, from its construct path
 * (`Stack/Warden/Quarantine/StateMachine/Resource`) or logical id; null for others.
 */
export function workflowOf(sm: { logicalId: string; path?: string }): WorkflowName | null {
  const hay = `${sm.path ?? ''}/${sm.logicalId}`.toLowerCase();
  const hits = WORKFLOW_NAMES.filter((w) => hay.includes(w === 'escalate' ? 'escalat' : w));
  return hits.length === 1 ? hits[0]! : null;
}

/** The function and incident an execution input is about (a decision event, its detail, or a workflow's own input). */
export function subjectOf(input: unknown): { functionName: string | null; incidentId: string | null } {
  const seen = new Set<unknown>();
  let functionName: string | null = null;
  let incidentId: string | null = null;
  const visit = (v: unknown, depth: number): void => {
    if (!v || typeof v !== 'object' || depth > 4 || seen.has(v)) return;
    seen.add(v);
    const o = v as Record<string, unknown>;
    if (functionName === null) {
      if (typeof o.functionName === 'string') functionName = o.functionName;
      else if (o.function && typeof (o.function as { name?: unknown }).name === 'string') functionName = (o.function as { name: string }).name;
    }
    if (incidentId === null && typeof o.incidentId === 'string') incidentId = o.incidentId;
    for (const k of ['detail', 'decision', 'input', 'incident']) visit(o[k], depth + 1);
  };
  visit(input, 0);
  return { functionName, incidentId };
}

/** A workflow's own word for how it ended, when its output says (status / outcome / result). */
export function outcomeOf(output: unknown): string | null {
  if (!output || typeof output !== 'object') return null;
  const o = output as Record<string, unknown>;
  for (const k of ['outcome', 'status', 'result', 'finalAction']) if (typeof o[k] === 'string') return o[k] as string;
  for (const k of ['summary', 'report', 'Payload']) {
    const nested = outcomeOf(o[k]);
    if (nested) return nested;
  }
  return null;
}
