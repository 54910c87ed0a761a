import type { SimulatedAccount, SimulatedAccountSpec } from '../../../workflows/local/simulated-account';
import type { Snapshot } from '../../../workflows/common/snapshot';
import type { Scenario } from './scenario';
import type { RoleState } from './timeline';

/** The scenario's functions and roles as the simulated account's spec (one role per function unless shared by name). */
export function accountSpecFromScenario(s: Scenario): SimulatedAccountSpec {
  const roles = new Map<string, NonNullable<SimulatedAccountSpec['roles']>[number]>();
  const functions: NonNullable<SimulatedAccountSpec['functions']> = [];
  for (const [fn, spec] of Object.entries(s.functions)) {
    const roleName = roleNameOf(s, fn);
    if (!roles.has(roleName)) {
      roles.set(roleName, {
        name: roleName,
        path: spec.role.path,
        attachedPolicies: spec.role.managedPolicies,
        inlinePolicies: spec.role.inlinePolicies,
        tags: spec.role.tags,
      });
    }
    functions.push({ name: fn, role: roleName, reservedConcurrency: spec.concurrency ?? null, tags: spec.tags });
  }
  return { accountId: s.account.id, region: s.account.region, roles: [...roles.values()], functions };
}

export function roleNameOf(s: Scenario, fn: string): string {
  return s.functions[fn]?.role.name ?? fn;
}

export function roleArnOf(s: Scenario, fn: string): string {
  const role = s.functions[fn]?.role;
  return `arn:aws:iam::${s.account.id}:role${role?.path ?? '/'}${roleNameOf(s, fn)}`;
}

/** Everything quarantine may change and restore must put back, for one function. */
export interface FullRoleState {
  role: string;
  inlinePolicies: Record<string, unknown>;
  managedPolicies: string[];
  permissionsBoundary: string | null;
  tags: Record<string, string>;
  concurrency: number | null;
  functionTags: Record<string, string>;
  eventSourceMappings: { uuid: string; state: string }[];
}

export function captureState(account: SimulatedAccount, s: Scenario, fn: string): FullRoleState {
  const role = account.describeRole(roleNameOf(s, fn));
  const f = account.describeFunction(fn);
  const inline: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(role.inlinePolicies)) inline[k] = parseDoc(v);
  return {
    role: role.roleName,
    inlinePolicies: inline,
    managedPolicies: [...role.attachedPolicyArns].sort(),
    permissionsBoundary: role.permissionsBoundaryArn,
    tags: { ...role.tags },
    concurrency: f.reservedConcurrency,
    functionTags: { ...f.tags },
    eventSourceMappings: f.eventSourceMappings.map((m) => ({ uuid: m.uuid, state: m.state })).sort((a, b) => a.uuid.localeCompare(b.uuid)),
  };
}

/** The state a stored quarantine snapshot describes, in the same shape as `captureState`. */
export function stateFromSnapshot(snap: Snapshot): FullRoleState {
  const inline: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(snap.role.inlinePolicies)) inline[k] = parseDoc(v);
  return {
    role: snap.role.roleName,
    inlinePolicies: inline,
    managedPolicies: [...snap.role.attachedPolicyArns].sort(),
    permissionsBoundary: snap.role.permissionsBoundaryArn,
    tags: { ...snap.role.tags },
    concurrency: snap.function.reservedConcurrency,
    functionTags: { ...snap.function.tags },
    eventSourceMappings: snap.function.eventSourceMappings.map((m) => ({ uuid: m.uuid, state: m.state })).sort((a, b) => a.uuid.localeCompare(b.uuid)),
  };
}

/** Policy documents compare as JSON values (key order and whitespace do not matter). */
function parseDoc(v: string): unknown {
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

export function summarizeState(s: FullRoleState): RoleState {
  return { inlinePolicies: Object.keys(s.inlinePolicies).sort(), managedPolicies: s.managedPolicies, concurrency: s.concurrency };
}

/** Deep equality of two captured states (policy documents by value, lists by content). */
export function sameState(a: FullRoleState, b: FullRoleState): boolean {
  return canonical(a) === canonical(b);
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v as object).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}
