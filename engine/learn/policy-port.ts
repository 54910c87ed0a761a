import { AllowEntrySchema, compilePolicy, loadRulesDir } from '../policy';
import type { CompiledPolicy } from '../policy/types';

/** The one place learn touches the policy core: load + compile a rules dir, and validate an entry. */
export async function loadCompiledRules(dir: string): Promise<CompiledPolicy> {
  return compilePolicy(await loadRulesDir(dir));
}

/** null when `entry` is a valid allow entry of the rules format, else why not. */
export function checkAllowEntry(entry: Record<string, unknown>): string | null {
  const r = AllowEntrySchema.safeParse(entry);
  if (r.success) return null;
  return r.error.issues.map((i) => `${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}`).join('; ');
}
