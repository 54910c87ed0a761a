/**
 * aws-local-stepfunctions silently ignores JSONata and `Assign`, so a definition using them would
 * run differently locally than on AWS. This finds every such use (the runner refuses them, and a
 * guard test scans every synthesized workflow).
 */
const JSONATA_ONLY_FIELDS = ['Arguments', 'Output', 'Assign'];

export function jsonataOrAssignUses(def: unknown, where = '$'): string[] {
  const out: string[] = [];
  const visit = (node: unknown, path: string): void => {
    if (typeof node === 'string') {
      if (/\{%[\s\S]*%\}/.test(node)) out.push(`${path}: JSONata expression ${JSON.stringify(node.slice(0, 60))}`);
      return;
    }
    if (Array.isArray(node)) { node.forEach((v, i) => visit(v, `${path}[${i}]`)); return; }
    if (!node || typeof node !== 'object') return;
    for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
      const p = `${path}.${k}`;
      if (k === 'QueryLanguage' && v === 'JSONata') out.push(`${p}: QueryLanguage JSONata`);
      // such a field counts on a state only (a Parameters payload may use the same key)
      if (JSONATA_ONLY_FIELDS.includes(k) && isState(node)) out.push(`${p}: ${k} (${k === 'Assign' ? 'variables' : 'JSONata-only field'})`);
      visit(v, p);
    }
  };
  visit(def, where);
  return out;
}

function isState(node: object): boolean {
  const t = (node as { Type?: unknown }).Type;
  return typeof t === 'string' && ['Task', 'Pass', 'Choice', 'Wait', 'Succeed', 'Fail', 'Parallel', 'Map'].includes(t);
}

interface Matcher { ErrorEquals?: unknown }

/**
 * On AWS, `States.TaskFailed` in a Retry or Catch matches every error except `States.Timeout`.
 * aws-local-stepfunctions only excepts its own internal timeout class, so the timeouts the local
 * task-token registry raises for `TimeoutSeconds` would be matched by a `States.TaskFailed`
 * retrier or catcher — the local run would take a path AWS never takes. This finds every Task that
 * has a timeout and a `States.TaskFailed` matcher not preceded (or accompanied) by one naming
 * `States.Timeout`; the runner refuses such definitions (name the timeout first to run it here).
 */
export function timeoutMatchDivergences(def: unknown, where = '$'): string[] {
  const out: string[] = [];
  const visit = (node: unknown, path: string): void => {
    if (Array.isArray(node)) { node.forEach((v, i) => visit(v, `${path}[${i}]`)); return; }
    if (!node || typeof node !== 'object') return;
    const s = node as Record<string, unknown>;
    if (s.Type === 'Task' && (s.TimeoutSeconds !== undefined || s.TimeoutSecondsPath !== undefined)) {
      for (const field of ['Retry', 'Catch'] as const) {
        const list = s[field];
        if (!Array.isArray(list)) continue;
        let timeoutNamed = false;
        list.forEach((m: Matcher, i) => {
          const errors = Array.isArray(m?.ErrorEquals) ? (m.ErrorEquals as unknown[]) : [];
          if (errors.includes('States.Timeout')) timeoutNamed = true;
          if (errors.includes('States.TaskFailed') && !timeoutNamed) {
            out.push(`${path}.${field}[${i}]: States.TaskFailed on a Task with a timeout, before any ${field === 'Retry' ? 'retrier' : 'catcher'} naming States.Timeout`);
          }
        });
      }
    }
    for (const [k, v] of Object.entries(s)) visit(v, `${path}.${k}`);
  };
  visit(def, where);
  return out;
}
