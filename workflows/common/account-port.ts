import * as iam from '@aws-sdk/client-iam';
import * as lambda from '@aws-sdk/client-lambda';
import { AccountCallError, mapAwsError } from './errors';

/**
 * What the quarantine and restore tasks read and change in an AWS account. One implementation
 * over a generic caller: the AWS SDK on AWS (`sdkCaller`), the simulated account locally
 * (`simulatedCaller` in workflows/local), with the same PascalCase requests and responses.
 */
export interface RoleState {
  roleName: string;
  arn: string;
  /** in the order IAM lists them */
  attachedPolicyArns: string[];
  /** name → policy document (JSON text, decoded) */
  inlinePolicies: Record<string, string>;
  permissionsBoundaryArn: string | null;
  tags: Record<string, string>;
}

export interface MappingState { uuid: string; eventSourceArn: string; state: string }

export interface FunctionState {
  functionName: string;
  arn: string;
  roleArn: string;
  /** null: no reserved concurrency (the function uses the unreserved pool) */
  reservedConcurrency: number | null;
  tags: Record<string, string>;
  eventSourceMappings: MappingState[];
}

export interface AccountPort {
  getFunction(functionName: string): Promise<FunctionState>;
  getRole(roleName: string): Promise<RoleState>;
  /** names of every function whose execution role is `roleArn` (the blast radius of quarantining it) */
  functionsUsingRole(roleArn: string): Promise<string[]>;
  putRolePolicy(roleName: string, policyName: string, document: string): Promise<void>;
  deleteRolePolicy(roleName: string, policyName: string): Promise<void>;
  attachRolePolicy(roleName: string, policyArn: string): Promise<void>;
  detachRolePolicy(roleName: string, policyArn: string): Promise<void>;
  putRolePermissionsBoundary(roleName: string, policyArn: string): Promise<void>;
  deleteRolePermissionsBoundary(roleName: string): Promise<void>;
  tagRole(roleName: string, tags: Record<string, string>): Promise<void>;
  untagRole(roleName: string, keys: string[]): Promise<void>;
  /** null removes the reservation */
  setReservedConcurrency(functionName: string, value: number | null): Promise<void>;
  setEventSourceMappingEnabled(uuid: string, enabled: boolean): Promise<void>;
  tagFunction(functionArn: string, tags: Record<string, string>): Promise<void>;
  untagFunction(functionArn: string, keys: string[]): Promise<void>;
}

/** One AWS call: service (`iam` | `lambda`), lowerCamel operation, PascalCase params → PascalCase response. */
export type AwsCaller = (service: 'iam' | 'lambda', operation: string, params: Record<string, unknown>) => Promise<Record<string, unknown>>;

export const roleNameFromArn = (arn: string): string => arn.slice(arn.lastIndexOf('/') + 1);

const tagsFromList = (list: unknown): Record<string, string> =>
  Object.fromEntries(((list ?? []) as { Key?: string; Value?: string }[]).map((t) => [t.Key ?? '', t.Value ?? '']));

const decodeDoc = (doc: unknown): string => {
  const s = String(doc ?? '');
  try { return decodeURIComponent(s); } catch { return s; }
};

export class CallerAccountPort implements AccountPort {
  constructor(private readonly caller: AwsCaller) {}

  private async call(service: 'iam' | 'lambda', operation: string, params: Record<string, unknown>): Promise<Record<string, unknown>> {
    try {
      return (await this.caller(service, operation, params)) ?? {};
    } catch (err) {
      throw mapAwsError(err, `${service}:${operation} ${JSON.stringify(params).slice(0, 200)}`);
    }
  }

  private async pages<T>(service: 'iam' | 'lambda', operation: string, params: Record<string, unknown>, key: string, nextKey: 'Marker' | 'NextMarker'): Promise<T[]> {
    const out: T[] = [];
    let marker: string | undefined;
    for (let page = 0; page < 1000; page++) {
      const r = await this.call(service, operation, { ...params, ...(marker ? { Marker: marker } : {}) });
      out.push(...((r[key] ?? []) as T[]));
      marker = (nextKey === 'Marker' ? (r.IsTruncated ? r.Marker : undefined) : r.NextMarker) as string | undefined;
      if (!marker) return out;
    }
    throw new AccountCallError(`${service}:${operation}: more than 1000 pages; refusing to continue`);
  }

  async getFunction(functionName: string): Promise<FunctionState> {
    const r = await this.call('lambda', 'getFunction', { FunctionName: functionName });
    const c = (r.Configuration ?? {}) as { FunctionName?: string; FunctionArn?: string; Role?: string };
    if (!c.FunctionArn || !c.Role) throw new AccountCallError(`lambda:getFunction ${functionName}: response lacks FunctionArn or Role`);
    const concurrency = (r.Concurrency as { ReservedConcurrentExecutions?: number } | undefined)?.ReservedConcurrentExecutions;
    const mappings = await this.pages<{ UUID?: string; EventSourceArn?: string; State?: string }>('lambda', 'listEventSourceMappings', { FunctionName: functionName }, 'EventSourceMappings', 'NextMarker');
    return {
      functionName: c.FunctionName ?? functionName,
      arn: c.FunctionArn,
      roleArn: c.Role,
      reservedConcurrency: typeof concurrency === 'number' ? concurrency : null,
      tags: { ...((r.Tags ?? {}) as Record<string, string>) },
      eventSourceMappings: mappings.map((m) => ({ uuid: m.UUID ?? '', eventSourceArn: m.EventSourceArn ?? '', state: m.State ?? 'Unknown' })),
    };
  }

  async getRole(roleName: string): Promise<RoleState> {
    const r = (await this.call('iam', 'getRole', { RoleName: roleName })).Role as { RoleName?: string; Arn?: string; Tags?: unknown; PermissionsBoundary?: { PermissionsBoundaryArn?: string } } | undefined;
    if (!r?.Arn) throw new AccountCallError(`iam:getRole ${roleName}: response lacks the role`);
    const attached = await this.pages<{ PolicyArn?: string }>('iam', 'listAttachedRolePolicies', { RoleName: roleName }, 'AttachedPolicies', 'Marker');
    const inlineNames = await this.pages<string>('iam', 'listRolePolicies', { RoleName: roleName }, 'PolicyNames', 'Marker');
    const inlinePolicies: Record<string, string> = {};
    for (const name of inlineNames) {
      inlinePolicies[name] = decodeDoc((await this.call('iam', 'getRolePolicy', { RoleName: roleName, PolicyName: name })).PolicyDocument);
    }
    return {
      roleName: r.RoleName ?? roleName,
      arn: r.Arn,
      attachedPolicyArns: attached.map((a) => a.PolicyArn ?? ''),
      inlinePolicies,
      permissionsBoundaryArn: r.PermissionsBoundary?.PermissionsBoundaryArn ?? null,
      tags: tagsFromList(r.Tags),
    };
  }

  async functionsUsingRole(roleArn: string): Promise<string[]> {
    const fns = await this.pages<{ FunctionName?: string; Role?: string }>('lambda', 'listFunctions', {}, 'Functions', 'NextMarker');
    return fns.filter((f) => f.Role === roleArn).map((f) => f.FunctionName ?? '').sort();
  }

  async putRolePolicy(roleName: string, policyName: string, document: string): Promise<void> { await this.call('iam', 'putRolePolicy', { RoleName: roleName, PolicyName: policyName, PolicyDocument: document }); }
  async deleteRolePolicy(roleName: string, policyName: string): Promise<void> { await this.call('iam', 'deleteRolePolicy', { RoleName: roleName, PolicyName: policyName }); }
  async attachRolePolicy(roleName: string, policyArn: string): Promise<void> { await this.call('iam', 'attachRolePolicy', { RoleName: roleName, PolicyArn: policyArn }); }
  async detachRolePolicy(roleName: string, policyArn: string): Promise<void> { await this.call('iam', 'detachRolePolicy', { RoleName: roleName, PolicyArn: policyArn }); }
  async putRolePermissionsBoundary(roleName: string, policyArn: string): Promise<void> { await this.call('iam', 'putRolePermissionsBoundary', { RoleName: roleName, PermissionsBoundary: policyArn }); }
  async deleteRolePermissionsBoundary(roleName: string): Promise<void> { await this.call('iam', 'deleteRolePermissionsBoundary', { RoleName: roleName }); }
  async tagRole(roleName: string, tags: Record<string, string>): Promise<void> { await this.call('iam', 'tagRole', { RoleName: roleName, Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }); }
  async untagRole(roleName: string, keys: string[]): Promise<void> { await this.call('iam', 'untagRole', { RoleName: roleName, TagKeys: keys }); }
  async setReservedConcurrency(functionName: string, value: number | null): Promise<void> {
    if (value === null) await this.call('lambda', 'deleteFunctionConcurrency', { FunctionName: functionName });
    else await this.call('lambda', 'putFunctionConcurrency', { FunctionName: functionName, ReservedConcurrentExecutions: value });
  }
  async setEventSourceMappingEnabled(uuid: string, enabled: boolean): Promise<void> { await this.call('lambda', 'updateEventSourceMapping', { UUID: uuid, Enabled: enabled }); }
  async tagFunction(functionArn: string, tags: Record<string, string>): Promise<void> { await this.call('lambda', 'tagResource', { Resource: functionArn, Tags: tags }); }
  async untagFunction(functionArn: string, keys: string[]): Promise<void> { await this.call('lambda', 'untagResource', { Resource: functionArn, TagKeys: keys }); }
}

type Ctor = new (input: never) => unknown;
const IAM_COMMANDS: Record<string, Ctor> = {
  getRole: iam.GetRoleCommand, listAttachedRolePolicies: iam.ListAttachedRolePoliciesCommand, listRolePolicies: iam.ListRolePoliciesCommand,
  getRolePolicy: iam.GetRolePolicyCommand, putRolePolicy: iam.PutRolePolicyCommand, deleteRolePolicy: iam.DeleteRolePolicyCommand,
  attachRolePolicy: iam.AttachRolePolicyCommand, detachRolePolicy: iam.DetachRolePolicyCommand,
  putRolePermissionsBoundary: iam.PutRolePermissionsBoundaryCommand, deleteRolePermissionsBoundary: iam.DeleteRolePermissionsBoundaryCommand,
  tagRole: iam.TagRoleCommand, untagRole: iam.UntagRoleCommand, listRoleTags: iam.ListRoleTagsCommand,
};
const LAMBDA_COMMANDS: Record<string, Ctor> = {
  getFunction: lambda.GetFunctionCommand, listFunctions: lambda.ListFunctionsCommand, getFunctionConcurrency: lambda.GetFunctionConcurrencyCommand,
  putFunctionConcurrency: lambda.PutFunctionConcurrencyCommand, deleteFunctionConcurrency: lambda.DeleteFunctionConcurrencyCommand,
  listEventSourceMappings: lambda.ListEventSourceMappingsCommand, updateEventSourceMapping: lambda.UpdateEventSourceMappingCommand,
  tagResource: lambda.TagResourceCommand, untagResource: lambda.UntagResourceCommand, listTags: lambda.ListTagsCommand,
};

/** The AWS SDK as an AwsCaller. */
export function sdkCaller(clients: { iam: Pick<iam.IAMClient, 'send'>; lambda: Pick<lambda.LambdaClient, 'send'> }): AwsCaller {
  return async (service, operation, params) => {
    const Command = (service === 'iam' ? IAM_COMMANDS : LAMBDA_COMMANDS)[operation];
    if (!Command) throw new AccountCallError(`${service}:${operation} is not an operation Warden's account port uses`);
    const client = clients[service] as { send(c: unknown): Promise<unknown> };
    return (await client.send(new Command(params as never))) as Record<string, unknown>;
  };
}
