import { str, type Extractor } from './context';

/**
 * IAM (global: no region in ARNs). Role/user/group/instance-profile by name → ARN without path
 * (the path is not in the input; write rules as role/*name when roles have paths); PolicyArn as given
 * when the call targets only a policy.
 */
export const iam: Extractor = (_action, input, ctx) => {
  const base = `arn:${ctx.partition}:iam::${ctx.account}:`;
  const out: string[] = [];
  const role = str(input.RoleName); if (role) out.push(`${base}role/${role}`);
  const user = str(input.UserName); if (user) out.push(`${base}user/${user}`);
  const group = str(input.GroupName); if (group) out.push(`${base}group/${group}`);
  const profile = str(input.InstanceProfileName); if (profile) out.push(`${base}instance-profile/${profile}`);
  if (out.length === 0) { const p = str(input.PolicyArn); if (p) out.push(p); }
  return out;
};
