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
