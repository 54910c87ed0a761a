/**
 * Concrete ASL from a synthesized CloudFormation template: `DefinitionString` (usually a
 * `Fn::Join` over `Ref`s and `Fn::GetAtt`s) is resolved with placeholder names and ARNs, so the
 * local runner executes exactly what CDK synthesized. Placeholders follow one rule per resource
 * type, e.g. a Lambda function's Arn is `arn:aws:lambda:us-east-1:123456789012:function:<LogicalId>`.
 */
export class TemplateError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TemplateError';
  }
}

export const PLACEHOLDER = { region: 'us-east-1', accountId: '123456789012', partition: 'aws', stackName: 'warden-local' } as const;

export interface CfnResource { Type: string; Properties?: Record<string, unknown>; Metadata?: Record<string, unknown> }
export interface CfnTemplate { Resources?: Record<string, CfnResource> }

export interface TemplateStateMachine {
  logicalId: string;
  /** construct path (`aws:cdk:path` metadata) when present, e.g. `Stack/Quarantine/StateMachine/Resource` */
  path?: string;
  definition: Record<string, unknown>;
}

export interface TemplateFunction {
  logicalId: string;
  name: string;
  arn: string;
  /** `WARDEN_TASK` from the function's environment, if set */
  wardenTask?: string;
  environment: Record<string, string>;
}

const NO_VALUE = Symbol('AWS::NoValue');
const { region, accountId, partition } = PLACEHOLDER;

function physicalName(logicalId: string, res: CfnResource | undefined): string {
  const p = res?.Properties ?? {};
  for (const key of ['FunctionName', 'TableName', 'TopicName', 'QueueName', 'RoleName', 'StateMachineName', 'Name', 'BucketName']) {
    if (typeof p[key] === 'string') return p[key] as string;
  }
  return logicalId;
}

function arnOf(logicalId: string, res: CfnResource | undefined): string {
  const name = physicalName(logicalId, res);
  switch (res?.Type) {
    case 'AWS::Lambda::Function': return `arn:${partition}:lambda:${region}:${accountId}:function:${name}`;
    case 'AWS::DynamoDB::Table': case 'AWS::DynamoDB::GlobalTable': return `arn:${partition}:dynamodb:${region}:${accountId}:table/${name}`;
    case 'AWS::IAM::Role': return `arn:${partition}:iam::${accountId}:role/${name}`;
    case 'AWS::IAM::ManagedPolicy': return `arn:${partition}:iam::${accountId}:policy/${name}`;
    case 'AWS::SNS::Topic': return `arn:${partition}:sns:${region}:${accountId}:${name}`;
    case 'AWS::SQS::Queue': return `arn:${partition}:sqs:${region}:${accountId}:${name}`;
    case 'AWS::StepFunctions::StateMachine': return `arn:${partition}:states:${region}:${accountId}:stateMachine:${name}`;
    case 'AWS::Events::EventBus': return `arn:${partition}:events:${region}:${accountId}:event-bus/${name}`;
    case 'AWS::SecretsManager::Secret': return `arn:${partition}:secretsmanager:${region}:${accountId}:secret:${name}`;
    case 'AWS::S3::Bucket': return `arn:${partition}:s3:::${name}`;
    default: return `arn:${partition}:${(res?.Type ?? 'unknown::x').split('::')[1]?.toLowerCase() ?? 'unknown'}:${region}:${accountId}:${name}`;
  }
}

function refOf(logicalId: string, res: CfnResource | undefined): string {
  switch (res?.Type) {
    case 'AWS::SNS::Topic': case 'AWS::StepFunctions::StateMachine': case 'AWS::SecretsManager::Secret': case 'AWS::IAM::ManagedPolicy':
      return arnOf(logicalId, res);
    case 'AWS::SQS::Queue': return `https://sqs.${region}.amazonaws.com/${accountId}/${physicalName(logicalId, res)}`;
    default: return physicalName(logicalId, res);
  }
}

const PSEUDO: Record<string, string> = {
  'AWS::Region': region, 'AWS::AccountId': accountId, 'AWS::Partition': partition,
  'AWS::URLSuffix': 'amazonaws.com', 'AWS::StackName': PLACEHOLDER.stackName,
  'AWS::StackId': `arn:aws:cloudformation:${region}:${accountId}:stack/${PLACEHOLDER.stackName}/00000000`,
};

/** Resolves CloudFormation intrinsics with placeholder values. Throws TemplateError on what it cannot resolve. */
export function resolveIntrinsics(value: unknown, template: CfnTemplate, where = 'value'): unknown {
  const r = resolve(value, template, where);
  return r === NO_VALUE ? undefined : r;
}

function resolve(value: unknown, t: CfnTemplate, where: string): unknown {
  if (Array.isArray(value)) return value.map((v, i) => resolve(v, t, `${where}[${i}]`)).filter((v) => v !== NO_VALUE);
  if (value === null || typeof value !== 'object') return value;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length === 1) {
    const [k] = keys as [string];
    const arg = obj[k];
    const res = t.Resources ?? {};
    switch (k) {
      case 'Ref': {
        if (typeof arg !== 'string') throw new TemplateError(`${where}: Ref expects a logical id string`);
        if (arg === 'AWS::NoValue') return NO_VALUE;
        if (arg in PSEUDO) return PSEUDO[arg];
        if (!(arg in res)) throw new TemplateError(`${where}: Ref to ${arg}, which is not a resource of the template (parameters are not supported locally)`);
        return refOf(arg, res[arg]);
      }
      case 'Fn::GetAtt': {
        const [id, attr] = Array.isArray(arg) ? (arg as string[]) : String(arg).split('.');
        if (!id || !attr || !(id in res)) throw new TemplateError(`${where}: Fn::GetAtt ${JSON.stringify(arg)} names no resource of the template`);
        if (attr === 'Arn' || attr.endsWith('Arn')) return arnOf(id, res[id]);
        if (attr === 'Name' || attr.endsWith('Name')) return physicalName(id, res[id]);
        if (attr === 'QueueUrl') return refOf(id, res[id]);
        return `${id}.${attr}`;
      }
      case 'Fn::Join': {
        if (!Array.isArray(arg) || arg.length !== 2 || typeof arg[0] !== 'string') throw new TemplateError(`${where}: Fn::Join expects [delimiter, [values]]`);
        const parts = resolve(arg[1], t, where);
        if (!Array.isArray(parts)) throw new TemplateError(`${where}: Fn::Join values did not resolve to a list`);
        return parts.map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join(arg[0]);
      }
      case 'Fn::Select': {
        const [i, list] = arg as [unknown, unknown];
        const l = resolve(list, t, where);
        if (!Array.isArray(l)) throw new TemplateError(`${where}: Fn::Select list did not resolve to a list`);
        return l[Number(resolve(i, t, where))];
      }
      case 'Fn::Split': {
        const [d, s] = arg as [string, unknown];
        return String(resolve(s, t, where)).split(d);
      }
      case 'Fn::Sub': {
        const [str, vars] = (Array.isArray(arg) ? arg : [arg, {}]) as [string, Record<string, unknown>];
        return str.replace(/\$\{([^}]+)\}/g, (_m, name: string) => {
          if (vars && name in vars) return String(resolve(vars[name], t, where));
          if (name.includes('.')) { const [id, at] = name.split('.'); return String(resolve({ 'Fn::GetAtt': [id, at] }, t, where)); }
          return String(resolve({ Ref: name }, t, where));
        });
      }
      default:
        if (k.startsWith('Fn::')) throw new TemplateError(`${where}: intrinsic ${k} is not supported by the local runner`);
    }
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    const r = resolve(v, t, `${where}.${k}`);
    if (r !== NO_VALUE) out[k] = r;
  }
  return out;
}

/** Every `AWS::StepFunctions::StateMachine` of the template, with its definition as concrete ASL. */
export function stateMachinesFromTemplate(template: CfnTemplate): TemplateStateMachine[] {
  const out: TemplateStateMachine[] = [];
  for (const [logicalId, res] of Object.entries(template.Resources ?? {})) {
    if (res.Type !== 'AWS::StepFunctions::StateMachine') continue;
    const p = res.Properties ?? {};
    let definition: unknown;
    if (p.Definition !== undefined) definition = resolveIntrinsics(p.Definition, template, `${logicalId}.Definition`);
    else if (p.DefinitionString !== undefined) {
      let text = resolveIntrinsics(p.DefinitionString, template, `${logicalId}.DefinitionString`);
      if (typeof text !== 'string') throw new TemplateError(`${logicalId}: DefinitionString did not resolve to a string`);
      const subs = p.DefinitionSubstitutions as Record<string, unknown> | undefined;
      if (subs) text = text.replace(/\$\{([^}]+)\}/g, (m, name: string) => (name in subs ? String(resolveIntrinsics(subs[name], template, `${logicalId}.DefinitionSubstitutions.${name}`)) : m));
      try { definition = JSON.parse(text as string); } catch (err) { throw new TemplateError(`${logicalId}: DefinitionString is not valid JSON after resolution`, { cause: err }); }
    } else throw new TemplateError(`${logicalId}: state machine has neither Definition nor DefinitionString (DefinitionS3Location is not supported locally)`);
    const path = typeof res.Metadata?.['aws:cdk:path'] === 'string' ? (res.Metadata['aws:cdk:path'] as string) : undefined;
    out.push({ logicalId, path, definition: definition as Record<string, unknown> });
  }
  return out;
}

/** Every Lambda function of the template with its placeholder name/ARN and `WARDEN_TASK`. */
export function functionsFromTemplate(template: CfnTemplate): TemplateFunction[] {
  const out: TemplateFunction[] = [];
  for (const [logicalId, res] of Object.entries(template.Resources ?? {})) {
    if (res.Type !== 'AWS::Lambda::Function') continue;
    const vars = ((res.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {});
    const environment: Record<string, string> = {};
    for (const [k, v] of Object.entries(vars)) {
      const r = resolveIntrinsics(v, template, `${logicalId}.Environment.${k}`);
      if (r !== undefined) environment[k] = typeof r === 'string' ? r : JSON.stringify(r);
    }
    out.push({ logicalId, name: physicalName(logicalId, res), arn: arnOf(logicalId, res), wardenTask: environment.WARDEN_TASK, environment });
  }
  return out;
}
