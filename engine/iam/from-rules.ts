import { ruleIdFor, type RulesRepo } from '../policy';
import { globMatch } from '../policy/glob';
import type { IamRuleEntry } from './iam-policy';

/**
 * The AWS entries that apply to one function: those of every rules file whose `functions` names
 * it (exactly or by glob), plus global.yaml — the same set the engine decides with.
 */
export interface FunctionAwsEntries {
  allow: IamRuleEntry[];
  deny: IamRuleEntry[];
  files: string[];
  /** host/cidr deny entries: enforced by the agent, not expressible in IAM */
  networkDenies: number;
}

export function awsEntriesFor(repo: RulesRepo, functionName: string): FunctionAwsEntries {
  const out: FunctionAwsEntries = { allow: [], deny: [], files: [], networkDenies: 0 };
  const take = (file: string, allow: RulesRepo['functions'][number]['data']['allow'], deny: RulesRepo['functions'][number]['data']['deny']): void => {
    for (const e of allow ?? []) {
      if (e.aws !== undefined) out.allow.push({ id: ruleIdFor(e), aws: e.aws, resource: e.resource ?? null, source: file, expires: e.expires ?? null });
    }
    for (const e of deny ?? []) {
      if (e.aws !== undefined) out.deny.push({ id: ruleIdFor(e), aws: e.aws, resource: e.resource ?? null, source: file, expires: e.expires ?? null });
      else out.networkDenies++;
    }
  };
  for (const f of repo.functions) {
    if (!f.data.functions.some((p) => p === functionName || globMatch(p, functionName))) continue;
    out.files.push(f.file);
    take(f.file, f.data.allow, f.data.deny);
  }
  if (repo.global) take(repo.global.file, repo.global.data.allow, repo.global.data.deny);
  return out;
}
