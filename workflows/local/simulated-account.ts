import { z } from 'zod';

/**
 * A small, explicit, SIMULATED AWS account for the local runner and tests: IAM roles, managed and
 * inline policies, permissions boundaries, Lambda functions with reserved concurrency, event source
 * mappings and tags. It answers the operations Step Functions' `aws-sdk:<service>:<operation>`
 * integrations use (lowerCamel names, PascalCase parameters and responses), with IAM/Lambda-like
 * errors (NoSuchEntity, LimitExceeded beyond 10 managed policies per role, injectable Throttling
 * and AccessDenied), and records every call as an action with `simulated: true`.
 */

export const DEFAULT_ACCOUNT_ID = '123456789012';
export const DEFAULT_REGION = 'us-east-1';

const TagsSchema = z.record(z.string(), z.string());
const PolicyDocSchema = z.union([z.string(), z.record(z.string(), z.unknown())]).transform((d) => (typeof d === 'string' ? d : JSON.stringify(d)));

export const SimulatedAccountSpecSchema = z.object({
  accountId: z.string().regex(/^\d{12}$/, 'accountId must be 12 digits').default(DEFAULT_ACCOUNT_ID),
  region: z.string().min(1).default(DEFAULT_REGION),
  /** IAM's default quota of managed policies attached to one role */
  maxManagedPoliciesPerRole: z.number().int().min(1).default(10),
  managedPolicies: z.array(z.object({ name: z.string().min(1), arn: z.string().optional(), document: PolicyDocSchema.optional() })).default([]),
  roles: z.array(z.object({
    name: z.string().min(1),
    path: z.string().default('/'),
    /** names or ARNs of managed policies (AWS-managed ARNs such as arn:aws:iam::aws:policy/… are accepted as is) */
    attachedPolicies: z.array(z.string()).default([]),
    inlinePolicies: z.record(z.string(), PolicyDocSchema).default({}),
    permissionsBoundary: z.string().nullable().default(null),
    tags: TagsSchema.default({}),
  })).default([]),
  functions: z.array(z.object({
    name: z.string().min(1),
    /** role name or ARN */
    role: z.string().min(1),
    reservedConcurrency: z.number().int().min(0).nullable().default(null),
    tags: TagsSchema.default({}),
  })).default([]),
  eventSourceMappings: z.array(z.object({
    uuid: z.string().min(1),
    function: z.string().min(1),
    eventSourceArn: z.string().min(1),
    state: z.enum(['Enabled', 'Disabled']).default('Enabled'),
    batchSize: z.number().int().min(1).default(10),
  })).default([]),
});
export type SimulatedAccountSpec = z.input<typeof SimulatedAccountSpecSchema>;

export interface SimRole {
  roleName: string; path: string; arn: string;
  attachedPolicyArns: string[];
  inlinePolicies: Record<string, string>;
  permissionsBoundaryArn: string | null;
  tags: Record<string, string>;
}
export interface SimFunction { functionName: string; arn: string; roleArn: string; reservedConcurrency: number | null; tags: Record<string, string> }
export interface SimMapping { uuid: string; functionArn: string; eventSourceArn: string; state: 'Enabled' | 'Disabled'; batchSize: number }

export interface SimAction {
  seq: number;
  service: string;
  operation: string;
  params: unknown;
  outcome: 'ok' | 'error';
  error?: string;
  /** always true: nothing here touched a real account */
  simulated: true;
}

export type SimErrorCode = 'NoSuchEntity' | 'LimitExceeded' | 'Throttling' | 'AccessDenied' | 'InvalidInput' | 'ResourceNotFound' | 'TooManyRequests' | 'ServiceFailure';

const SDK_ERROR_NAME: Record<string, Record<SimErrorCode, string>> = {
  iam: { NoSuchEntity: 'NoSuchEntityException', LimitExceeded: 'LimitExceededException', Throttling: 'ThrottlingException', AccessDenied: 'AccessDeniedException', InvalidInput: 'InvalidInputException', ResourceNotFound: 'NoSuchEntityException', TooManyRequests: 'ThrottlingException', ServiceFailure: 'ServiceFailureException' },
  lambda: { NoSuchEntity: 'ResourceNotFoundException', ResourceNotFound: 'ResourceNotFoundException', LimitExceeded: 'InvalidParameterValueException', Throttling: 'TooManyRequestsException', TooManyRequests: 'TooManyRequestsException', AccessDenied: 'AccessDeniedException', InvalidInput: 'InvalidParameterValueException', ServiceFailure: 'ServiceException' },
};

/** An error of the simulated account. `name` is the SDK exception name; `stepFunctionsError` what an aws-sdk integration reports. */
export class SimulatedAwsError extends Error {
  readonly code: SimErrorCode;
  readonly service: string;
  readonly operation: string;
  constructor(service: string, operation: string, code: SimErrorCode, message: string) {
    super(`${message} (SIMULATED ${service}:${operation})`);
    this.name = SDK_ERROR_NAME[service]?.[code] ?? `${code}Exception`;
    this.code = code;
    this.service = service;
    this.operation = operation;
  }
  /** e.g. `Iam.NoSuchEntityException`, as Step Functions names errors of aws-sdk integrations */
  get stepFunctionsError(): string { return `${this.service[0]!.toUpperCase()}${this.service.slice(1)}.${this.name}`; }
}

export class SimulatedAccountError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SimulatedAccountError';
  }
}

export interface FaultSpec {
  service?: string;
  /** lowerCamel operation, e.g. `detachRolePolicy` */
  operation?: string;
  code: SimErrorCode;
  /** how many matching calls fail (default: every one) */
  times?: number;
  message?: string;
}

type Params = Record<string, unknown>;
type Op = (p: Params) => unknown;

const clone = <T>(v: T): T => structuredClone(v);
const str = (p: Params, k: string, svc: string, op: string): string => {
  const v = p[k];
  if (typeof v !== 'string' || v === '') throw new SimulatedAwsError(svc, op, 'InvalidInput', `parameter ${k} is required and must be a non-empty string`);
  return v;
};
const nameFromArn = (s: string, marker: string): string => (s.includes(marker) ? s.slice(s.lastIndexOf(marker) + marker.length) : s);

export class SimulatedAccount {
  readonly accountId: string;
  readonly region: string;
  readonly simulated = true as const;
  private readonly maxManaged: number;
  private readonly roles = new Map<string, SimRole>();
  private readonly policies = new Map<string, { arn: string; name: string; document: string }>();
  private readonly functions = new Map<string, SimFunction>();
  private readonly mappings = new Map<string, SimMapping>();
  private readonly faults: (FaultSpec & { left: number })[] = [];
  private readonly log: SimAction[] = [];
  private readonly ops: Record<string, Record<string, Op>>;

  constructor(spec: SimulatedAccountSpec = {}) {
    const parsed = SimulatedAccountSpecSchema.safeParse(spec);
    if (!parsed.success) throw new SimulatedAccountError(`invalid simulated account: ${z.prettifyError(parsed.error)}`);
    const s = parsed.data;
    this.accountId = s.accountId;
    this.region = s.region;
    this.maxManaged = s.maxManagedPoliciesPerRole;
    for (const p of s.managedPolicies) {
      const arn = p.arn ?? `arn:aws:iam::${this.accountId}:policy/${p.name}`;
      this.policies.set(arn, { arn, name: p.name, document: p.document ?? JSON.stringify({ Version: '2012-10-17', Statement: [] }) });
    }
    for (const r of s.roles) {
      const attached = r.attachedPolicies.map((a) => this.policyArn(a));
      if (attached.length > this.maxManaged) throw new SimulatedAccountError(`role ${r.name}: ${attached.length} managed policies exceed the quota of ${this.maxManaged}`);
      this.roles.set(r.name, {
        roleName: r.name, path: r.path, arn: `arn:aws:iam::${this.accountId}:role${r.path}${r.name}`,
        attachedPolicyArns: attached, inlinePolicies: { ...r.inlinePolicies },
        permissionsBoundaryArn: r.permissionsBoundary === null ? null : this.policyArn(r.permissionsBoundary), tags: { ...r.tags },
      });
    }
    for (const f of s.functions) {
      const roleName = nameFromArn(f.role, '/');
      const role = this.roles.get(roleName);
      if (!role) throw new SimulatedAccountError(`function ${f.name}: role ${f.role} is not a role of the simulated account; add it under roles`);
      this.functions.set(f.name, { functionName: f.name, arn: this.functionArn(f.name), roleArn: role.arn, reservedConcurrency: f.reservedConcurrency, tags: { ...f.tags } });
    }
    for (const m of s.eventSourceMappings) {
      const fn = nameFromArn(m.function, 'function:');
      if (!this.functions.has(fn)) throw new SimulatedAccountError(`event source mapping ${m.uuid}: function ${m.function} is not in the simulated account`);
      this.mappings.set(m.uuid, { uuid: m.uuid, functionArn: this.functionArn(fn), eventSourceArn: m.eventSourceArn, state: m.state, batchSize: m.batchSize });
    }
    this.ops = { iam: this.iamOps(), lambda: this.lambdaOps() };
  }

  /** `service:operation` pairs this account answers, e.g. `iam:putRolePolicy`. */
  supportedOperations(): string[] {
    return Object.entries(this.ops).flatMap(([svc, ops]) => Object.keys(ops).map((o) => `${svc}:${o}`));
  }
  supports(service: string, operation: string): boolean { return Boolean(this.ops[service]?.[operation]); }

  /** Makes matching calls fail (Throttling, AccessDenied, …) `times` times, or always. */
  injectFault(f: FaultSpec): void { this.faults.push({ ...f, left: f.times ?? Number.POSITIVE_INFINITY }); }
  clearFaults(): void { this.faults.length = 0; }

  /** Every call made so far, in order (failed ones too). */
  actions(): SimAction[] { return clone(this.log); }
  /** Calls that changed (or tried to change) something: not Get/List. */
  mutations(): SimAction[] { return this.actions().filter((a) => !/^(get|list)/.test(a.operation)); }

  /** Serves an aws-sdk call: `service` e.g. `iam`, `operation` lowerCamel, params PascalCase. Returns a PascalCase response. */
  async call(service: string, operation: string, params: unknown = {}): Promise<unknown> {
    return this.callSync(service, operation, params);
  }

  callSync(service: string, operation: string, params: unknown = {}): unknown {
    const op = this.ops[service]?.[operation];
    const p = (params ?? {}) as Params;
    const record = (outcome: 'ok' | 'error', error?: string): void => {
      this.log.push({ seq: this.log.length + 1, service, operation, params: clone(p), outcome, ...(error ? { error } : {}), simulated: true });
    };
    if (!op) {
      const err = new SimulatedAccountError(`the simulated account does not implement ${service}:${operation}; supported: ${this.supportedOperations().join(', ')}`);
      record('error', err.name);
      throw err;
    }
    const fault = this.faults.find((f) => f.left > 0 && (!f.service || f.service === service) && (!f.operation || f.operation === operation));
    if (fault) {
      fault.left -= 1;
      const err = new SimulatedAwsError(service, operation, fault.code, fault.message ?? `injected ${fault.code}`);
      record('error', err.name);
      throw err;
    }
    try {
      const out = op(p);
      record('ok');
      return clone(out);
    } catch (err) {
      record('error', (err as Error).name);
      throw err;
    }
  }

  // ---- state inspection (for tests and the simulate timeline) ----
  describeRole(name: string): SimRole {
    const r = this.roles.get(name);
    if (!r) throw new SimulatedAccountError(`no role ${name} in the simulated account`);
    return clone(r);
  }
  describeFunction(name: string): SimFunction & { eventSourceMappings: SimMapping[] } {
    const f = this.functions.get(name);
    if (!f) throw new SimulatedAccountError(`no function ${name} in the simulated account`);
    return { ...clone(f), eventSourceMappings: [...this.mappings.values()].filter((m) => m.functionArn === f.arn).map(clone) };
  }
  roleNames(): string[] { return [...this.roles.keys()]; }
  functionNames(): string[] { return [...this.functions.keys()]; }

  private functionArn(name: string): string { return `arn:aws:lambda:${this.region}:${this.accountId}:function:${name}`; }
  private policyArn(nameOrArn: string): string { return nameOrArn.startsWith('arn:') ? nameOrArn : `arn:aws:iam::${this.accountId}:policy/${nameOrArn}`; }

  private role(p: Params, op: string): SimRole {
    const name = str(p, 'RoleName', 'iam', op);
    const r = this.roles.get(name);
    if (!r) throw new SimulatedAwsError('iam', op, 'NoSuchEntity', `The role with name ${name} cannot be found.`);
    return r;
  }
  private fn(p: Params, key: string, op: string): SimFunction {
    const raw = str(p, key, 'lambda', op);
    const name = nameFromArn(raw, 'function:').split(':')[0]!;
    const f = this.functions.get(name);
    if (!f) throw new SimulatedAwsError('lambda', op, 'ResourceNotFound', `Function not found: ${this.functionArn(name)}`);
    return f;
  }
  private validDoc(doc: string, op: string): void {
    try { JSON.parse(doc); } catch { throw new SimulatedAwsError('iam', op, 'InvalidInput', 'PolicyDocument is not valid JSON'); }
  }
  private tagList(tags: Record<string, string>): { Key: string; Value: string }[] { return Object.entries(tags).map(([Key, Value]) => ({ Key, Value })); }

  private iamOps(): Record<string, Op> {
    return {
      getRole: (p) => {
        const r = this.role(p, 'getRole');
        return { Role: { RoleName: r.roleName, Path: r.path, Arn: r.arn, Tags: this.tagList(r.tags), ...(r.permissionsBoundaryArn ? { PermissionsBoundary: { PermissionsBoundaryType: 'Policy', PermissionsBoundaryArn: r.permissionsBoundaryArn } } : {}) } };
      },
      listAttachedRolePolicies: (p) => {
        const r = this.role(p, 'listAttachedRolePolicies');
        return { AttachedPolicies: r.attachedPolicyArns.map((arn) => ({ PolicyArn: arn, PolicyName: nameFromArn(arn, '/') })), IsTruncated: false };
      },
      listRolePolicies: (p) => ({ PolicyNames: Object.keys(this.role(p, 'listRolePolicies').inlinePolicies), IsTruncated: false }),
      getRolePolicy: (p) => {
        const r = this.role(p, 'getRolePolicy');
        const name = str(p, 'PolicyName', 'iam', 'getRolePolicy');
        const doc = r.inlinePolicies[name];
        if (doc === undefined) throw new SimulatedAwsError('iam', 'getRolePolicy', 'NoSuchEntity', `The role policy with name ${name} cannot be found.`);
        return { RoleName: r.roleName, PolicyName: name, PolicyDocument: encodeURIComponent(doc) };
      },
      putRolePolicy: (p) => {
        const r = this.role(p, 'putRolePolicy');
        const name = str(p, 'PolicyName', 'iam', 'putRolePolicy');
        const doc = typeof p.PolicyDocument === 'string' ? p.PolicyDocument : JSON.stringify(p.PolicyDocument ?? null);
        this.validDoc(doc, 'putRolePolicy');
        r.inlinePolicies[name] = doc;
        return {};
      },
      deleteRolePolicy: (p) => {
        const r = this.role(p, 'deleteRolePolicy');
        const name = str(p, 'PolicyName', 'iam', 'deleteRolePolicy');
        if (!(name in r.inlinePolicies)) throw new SimulatedAwsError('iam', 'deleteRolePolicy', 'NoSuchEntity', `The role policy with name ${name} cannot be found.`);
        delete r.inlinePolicies[name];
        return {};
      },
      attachRolePolicy: (p) => {
        const r = this.role(p, 'attachRolePolicy');
        const arn = str(p, 'PolicyArn', 'iam', 'attachRolePolicy');
        if (!arn.startsWith('arn:aws:iam::aws:policy/') && !this.policies.has(arn)) throw new SimulatedAwsError('iam', 'attachRolePolicy', 'NoSuchEntity', `Policy ${arn} does not exist or is not attachable.`);
        if (r.attachedPolicyArns.includes(arn)) return {};
        if (r.attachedPolicyArns.length >= this.maxManaged) throw new SimulatedAwsError('iam', 'attachRolePolicy', 'LimitExceeded', `Cannot exceed quota for PoliciesPerRole: ${this.maxManaged}`);
        r.attachedPolicyArns.push(arn);
        return {};
      },
      detachRolePolicy: (p) => {
        const r = this.role(p, 'detachRolePolicy');
        const arn = str(p, 'PolicyArn', 'iam', 'detachRolePolicy');
        const i = r.attachedPolicyArns.indexOf(arn);
        if (i < 0) throw new SimulatedAwsError('iam', 'detachRolePolicy', 'NoSuchEntity', `Policy ${arn} was not found.`);
        r.attachedPolicyArns.splice(i, 1);
        return {};
      },
      putRolePermissionsBoundary: (p) => {
        const r = this.role(p, 'putRolePermissionsBoundary');
        r.permissionsBoundaryArn = str(p, 'PermissionsBoundary', 'iam', 'putRolePermissionsBoundary');
        return {};
      },
      deleteRolePermissionsBoundary: (p) => {
        const r = this.role(p, 'deleteRolePermissionsBoundary');
        if (r.permissionsBoundaryArn === null) throw new SimulatedAwsError('iam', 'deleteRolePermissionsBoundary', 'NoSuchEntity', `The role ${r.roleName} has no permissions boundary.`);
        r.permissionsBoundaryArn = null;
        return {};
      },
      listRoleTags: (p) => ({ Tags: this.tagList(this.role(p, 'listRoleTags').tags), IsTruncated: false }),
      tagRole: (p) => {
        const r = this.role(p, 'tagRole');
        for (const t of (p.Tags ?? []) as { Key: string; Value: string }[]) r.tags[t.Key] = t.Value;
        if (Object.keys(r.tags).length > 50) throw new SimulatedAwsError('iam', 'tagRole', 'LimitExceeded', 'a role can have at most 50 tags');
        return {};
      },
      untagRole: (p) => {
        const r = this.role(p, 'untagRole');
        for (const k of (p.TagKeys ?? []) as string[]) delete r.tags[k];
        return {};
      },
    };
  }

  private lambdaOps(): Record<string, Op> {
    const conf = (f: SimFunction) => ({ FunctionName: f.functionName, FunctionArn: f.arn, Role: f.roleArn });
    return {
      getFunction: (p) => {
        const f = this.fn(p, 'FunctionName', 'getFunction');
        return { Configuration: conf(f), Tags: { ...f.tags }, ...(f.reservedConcurrency === null ? {} : { Concurrency: { ReservedConcurrentExecutions: f.reservedConcurrency } }) };
      },
      listFunctions: () => ({ Functions: [...this.functions.values()].map(conf) }),
      getFunctionConfiguration: (p) => conf(this.fn(p, 'FunctionName', 'getFunctionConfiguration')),
      getFunctionConcurrency: (p) => {
        const f = this.fn(p, 'FunctionName', 'getFunctionConcurrency');
        return f.reservedConcurrency === null ? {} : { ReservedConcurrentExecutions: f.reservedConcurrency };
      },
      putFunctionConcurrency: (p) => {
        const f = this.fn(p, 'FunctionName', 'putFunctionConcurrency');
        const n = p.ReservedConcurrentExecutions;
        if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw new SimulatedAwsError('lambda', 'putFunctionConcurrency', 'InvalidInput', 'ReservedConcurrentExecutions must be an integer >= 0');
        f.reservedConcurrency = n;
        return { ReservedConcurrentExecutions: n };
      },
      deleteFunctionConcurrency: (p) => {
        this.fn(p, 'FunctionName', 'deleteFunctionConcurrency').reservedConcurrency = null;
        return {};
      },
      listEventSourceMappings: (p) => {
        const f = p.FunctionName === undefined ? undefined : this.fn(p, 'FunctionName', 'listEventSourceMappings');
        const list = [...this.mappings.values()].filter((m) => !f || m.functionArn === f.arn);
        return { EventSourceMappings: list.map((m) => ({ UUID: m.uuid, FunctionArn: m.functionArn, EventSourceArn: m.eventSourceArn, State: m.state, BatchSize: m.batchSize })) };
      },
      getEventSourceMapping: (p) => {
        const m = this.mappings.get(str(p, 'UUID', 'lambda', 'getEventSourceMapping'));
        if (!m) throw new SimulatedAwsError('lambda', 'getEventSourceMapping', 'ResourceNotFound', `The resource you requested does not exist. (mapping ${String(p.UUID)})`);
        return { UUID: m.uuid, FunctionArn: m.functionArn, EventSourceArn: m.eventSourceArn, State: m.state, BatchSize: m.batchSize };
      },
      updateEventSourceMapping: (p) => {
        const m = this.mappings.get(str(p, 'UUID', 'lambda', 'updateEventSourceMapping'));
        if (!m) throw new SimulatedAwsError('lambda', 'updateEventSourceMapping', 'ResourceNotFound', `The resource you requested does not exist. (mapping ${String(p.UUID)})`);
        if (typeof p.Enabled === 'boolean') m.state = p.Enabled ? 'Enabled' : 'Disabled';
        if (typeof p.BatchSize === 'number') m.batchSize = p.BatchSize;
        return { UUID: m.uuid, State: m.state, FunctionArn: m.functionArn, EventSourceArn: m.eventSourceArn, BatchSize: m.batchSize };
      },
      listTags: (p) => ({ Tags: { ...this.fn(p, 'Resource', 'listTags').tags } }),
      tagResource: (p) => {
        const f = this.fn(p, 'Resource', 'tagResource');
        Object.assign(f.tags, (p.Tags ?? {}) as Record<string, string>);
        return {};
      },
      untagResource: (p) => {
        const f = this.fn(p, 'Resource', 'untagResource');
        for (const k of (p.TagKeys ?? []) as string[]) delete f.tags[k];
        return {};
      },
    };
  }
}
