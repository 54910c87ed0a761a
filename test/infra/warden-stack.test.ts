/**
 * Property assertions on the synthesized Warden template (synthesized once per run by
 * global-setup.ts), not a whole-template snapshot.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CDK_OUT, nagReport, synthesizedTemplate } from './template';

type Res = { Type: string; Properties?: Record<string, unknown>; Metadata?: unknown };
const t = synthesizedTemplate();
const resources = Object.entries(t.Resources) as [string, Res][];
const ofType = (type: string) => resources.filter(([, r]) => r.Type === type);
const props = (r: Res) => (r.Properties ?? {}) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const refOf = (v: unknown): string | undefined => {
  const o = v as { Ref?: string; 'Fn::GetAtt'?: [string, string] } | undefined;
  return o?.Ref ?? o?.['Fn::GetAtt']?.[0];
};

interface Statement { Effect: string; Action: string | string[]; Resource?: unknown; Condition?: Record<string, Record<string, unknown>> }
function allPolicyStatements(): { owner: string; s: Statement }[] {
  const out: { owner: string; s: Statement }[] = [];
  for (const [id, r] of resources) {
    if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') {
      for (const s of props(r).PolicyDocument.Statement as Statement[]) out.push({ owner: id, s });
    }
    if (r.Type === 'AWS::IAM::Role') {
      for (const pol of (props(r).Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[]) {
        for (const s of pol.PolicyDocument.Statement) out.push({ owner: id, s });
      }
    }
  }
  return out;
}
const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const resourcesOf = (s: Statement) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]);

describe('event bus', () => {
  const [busId, bus] = ofType('AWS::Events::EventBus')[0]!;

  it('is named warden and has an archive of all Warden events', () => {
    expect(props(bus).Name).toBe('warden');
    const archives = ofType('AWS::Events::Archive');
    expect(archives).toHaveLength(1);
    const a = props(archives[0]![1]);
    expect(a.SourceArn).toEqual({ 'Fn::GetAtt': [busId, 'Arn'] });
    expect(a.EventPattern.source).toEqual(expect.arrayContaining(['warden.agent', 'warden.engine']));
    expect(a.RetentionDays).toBeGreaterThanOrEqual(1);
  });

  it('denies warden.agent events from principals without the protected tag', () => {
    const policies = ofType('AWS::Events::EventBusPolicy').map(([, r]) => props(r).Statement as Statement & { Principal: unknown });
    const deny = policies.find((s) => s.Effect === 'Deny' && s.Condition?.StringEquals?.['events:source'] === 'warden.agent' && s.Condition?.StringNotEquals?.['aws:PrincipalTag/warden:protected']);
    expect(deny).toBeDefined();
    expect(deny!.Condition!.StringNotEquals!['aws:PrincipalTag/warden:protected']).toBe('true');
    expect(deny!.Principal).toEqual({ AWS: '*' });
  });

  it('denies warden.agent events from accounts other than the listed ones', () => {
    const policies = ofType('AWS::Events::EventBusPolicy').map(([, r]) => props(r).Statement as Statement);
    const deny = policies.find((s) => s.Effect === 'Deny' && s.Condition?.StringEquals?.['events:source'] === 'warden.agent' && s.Condition?.StringNotEquals?.['aws:PrincipalAccount']);
    expect(deny!.Condition!.StringNotEquals!['aws:PrincipalAccount']).toEqual([{ Ref: 'AWS::AccountId' }]);
  });

  it('lets only the engine role publish warden.engine decisions', () => {
    const [engineId] = ofType('AWS::Lambda::Function').find(([id]) => id.includes('Engine'))!;
    const roleId = refOf(props(t.Resources[engineId]!).Role)!;
    const policies = ofType('AWS::Events::EventBusPolicy').map(([, r]) => props(r).Statement as Statement);
    const deny = policies.find((s) => s.Effect === 'Deny' && s.Condition?.StringEquals?.['events:source'] === 'warden.engine');
    expect(deny!.Condition!.ArnNotEquals!['aws:PrincipalArn']).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
  });
});

describe('rules and targets', () => {
  const rules = ofType('AWS::Events::Rule');

  it('routes Access Observed agent events to the rules-engine function', () => {
    const agent = rules.find(([, r]) => JSON.stringify(props(r).EventPattern) === JSON.stringify({ source: ['warden.agent'], 'detail-type': ['Access Observed'] }));
    expect(agent).toBeDefined();
    const target = props(agent![1]).Targets[0];
    expect(t.Resources[refOf(target.Arn)!]!.Type).toBe('AWS::Lambda::Function');
  });

  it('gives every target of every rule a dead-letter queue and a retry policy', () => {
    expect(rules.length).toBeGreaterThan(0);
    for (const [id, r] of rules) {
      for (const target of props(r).Targets as Record<string, any>[]) { // eslint-disable-line @typescript-eslint/no-explicit-any
        const where = `${id}/${target.Id}`;
        expect({ where, dlq: t.Resources[refOf(target.DeadLetterConfig?.Arn) ?? '']?.Type }).toEqual({ where, dlq: 'AWS::SQS::Queue' });
        expect({ where, retries: target.RetryPolicy?.MaximumRetryAttempts }).toEqual({ where, retries: expect.any(Number) });
        expect(target.RetryPolicy.MaximumEventAgeInSeconds).toBeGreaterThanOrEqual(60);
      }
    }
  });

  it('parks failed engine invocations in a queue after Lambda retries', () => {
    const configs = ofType('AWS::Lambda::EventInvokeConfig');
    const engine = configs.find(([, r]) => refOf(props(r).FunctionName)?.includes('Engine'));
    expect(engine).toBeDefined();
    const c = props(engine![1]);
    expect(c.MaximumRetryAttempts).toBe(2);
    expect(t.Resources[refOf(c.DestinationConfig.OnFailure.Destination)!]!.Type).toBe('AWS::SQS::Queue');
  });

  it('alarms on every queue', () => {
    const alarmed = new Set(
      ofType('AWS::CloudWatch::Alarm')
        .filter(([, r]) => props(r).Namespace === 'AWS/SQS')
        .map(([, r]) => refOf((props(r).Dimensions as { Name: string; Value: unknown }[]).find((d) => d.Name === 'QueueName')?.Value)),
    );
    const queues = ofType('AWS::SQS::Queue').map(([id]) => id);
    expect(queues.length).toBeGreaterThanOrEqual(2);
    for (const q of queues) expect({ q, alarmed: alarmed.has(q) }).toEqual({ q, alarmed: true });
  });

  it('encrypts every queue and refuses non-TLS access', () => {
    for (const [id, q] of ofType('AWS::SQS::Queue')) {
      expect({ id, sse: props(q).SqsManagedSseEnabled ?? Boolean(props(q).KmsMasterKeyId) }).toEqual({ id, sse: true });
      const policy = ofType('AWS::SQS::QueuePolicy').find(([, p]) => (props(p).Queues as unknown[]).some((x) => refOf(x) === id));
      const tls = (props(policy![1]).PolicyDocument.Statement as Statement[]).find((s) => s.Effect === 'Deny' && s.Condition?.Bool?.['aws:SecureTransport'] === 'false');
      expect(tls).toBeDefined();
    }
  });
});

describe('rules-engine Lambda', () => {
  const [, engine] = ofType('AWS::Lambda::Function').find(([id]) => id.includes('Engine'))!;
  const env = props(engine).Environment.Variables as Record<string, unknown>;

  it('runs on nodejs22.x with the rules layer', () => {
    expect(props(engine).Runtime).toBe('nodejs22.x');
    expect(props(engine).Layers).toHaveLength(1);
    expect(env.WARDEN_RULES_BUNDLE).toBe('/opt/warden/policy.json');
  });

  it('gets table names, bus and idempotency settings from the environment', () => {
    for (const k of ['WARDEN_EVENT_BUS', 'WARDEN_AUDIT_TABLE', 'WARDEN_EXCEPTION_TABLE', 'WARDEN_IDEMPOTENCY_TABLE']) expect(env[k]).toEqual({ Ref: expect.any(String) });
    expect(Number(env.WARDEN_IDEMPOTENCY_TTL_SECONDS)).toBeGreaterThan(0);
    expect(env.POWERTOOLS_SERVICE_NAME).toBe('warden-engine');
  });

  it('may publish only warden.engine events to the bus', () => {
    const put = allPolicyStatements().filter(({ s }) => actionsOf(s).includes('events:PutEvents'));
    expect(put.length).toBeGreaterThan(0);
    for (const { s } of put) expect(s.Condition?.StringEquals?.['events:source']).toBeDefined();
  });
});

describe('tables', () => {
  const tables = ofType('AWS::DynamoDB::Table');

  it('holds audit, snapshots, approvals, exceptions and idempotency tables', () => {
    const keys = tables.map(([, r]) => (props(r).KeySchema as { AttributeName: string; KeyType: string }[]).map((k) => k.AttributeName).join('+')).sort();
    expect(keys).toEqual(['approvalId', 'functionName+exceptionId', 'id', 'incidentId', 'pk+sk'].sort());
  });

  it('has point-in-time recovery and server-side encryption on every table', () => {
    for (const [id, r] of tables) {
      expect({ id, pitr: props(r).PointInTimeRecoverySpecification?.PointInTimeRecoveryEnabled }).toEqual({ id, pitr: true });
      expect({ id, sse: props(r).SSESpecification?.SSEEnabled }).toEqual({ id, sse: true });
    }
  });
});

describe('least privilege', () => {
  const statements = allPolicyStatements();

  it('grants no "*" actions and no service-wide wildcards', () => {
    for (const { owner, s } of statements.filter((x) => x.s.Effect === 'Allow')) {
      for (const a of actionsOf(s)) expect({ owner, a, wildcard: a === '*' || /^[a-z0-9-]+:\*$/.test(a) }).toEqual({ owner, a, wildcard: false });
    }
  });

  it('never writes role policies or touches roles/functions on "*" without a condition', () => {
    const sensitive = /^(iam:(Put|Delete|Attach|Detach)Role|iam:(Put|Delete)RolePolicy|iam:UpdateAssumeRolePolicy|iam:(Tag|Untag)Role|lambda:(PutFunctionConcurrency|DeleteFunctionConcurrency|UpdateFunctionConfiguration))/;
    for (const { owner, s } of statements.filter((x) => x.s.Effect === 'Allow')) {
      if (!actionsOf(s).some((a) => sensitive.test(a))) continue;
      const wildcard = resourcesOf(s).some((r) => typeof r === 'string' && r.includes('*'));
      if (wildcard) expect({ owner, actions: s.Action, condition: s.Condition !== undefined }).toEqual({ owner, actions: s.Action, condition: true });
    }
  });

  it('uses no AWS managed policies on Warden roles', () => {
    for (const [id, r] of ofType('AWS::IAM::Role')) expect({ id, managed: props(r).ManagedPolicyArns ?? [] }).toEqual({ id, managed: [] });
  });
});

describe('Slack secrets', () => {
  it('keeps secret values out of the template and out of function environments', () => {
    for (const [id, s] of ofType('AWS::SecretsManager::Secret')) {
      expect({ id, inline: props(s).SecretString }).toEqual({ id, inline: undefined });
    }
    const text = JSON.stringify(t);
    expect(text).not.toMatch(/xox[abp]-[0-9A-Za-z-]+/);
    for (const [id, f] of ofType('AWS::Lambda::Function')) {
      for (const [k, v] of Object.entries((props(f).Environment?.Variables ?? {}) as Record<string, unknown>)) {
        if (/SECRET|TOKEN/i.test(k)) expect({ id, k, isArn: /ARN$/.test(k) || JSON.stringify(v).includes('SecretsManager') || refOf(v) !== undefined }).toEqual({ id, k, isArn: true });
      }
    }
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('reports no unacknowledged errors or warnings', () => {
    const report = nagReport();
    expect(report.violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
  });

  it('gives every acknowledgement a reason', () => {
    const metadata = JSON.parse(readFileSync(join(CDK_OUT, 'Warden.metadata.json'), 'utf8')) as Record<string, { type: string; data: Record<string, string> }[]>;
    let count = 0;
    for (const [path, entries] of Object.entries(metadata)) {
      for (const e of entries.filter((x) => x.type === 'aws:cdk:acknowledged-rules')) {
        for (const [rule, reason] of Object.entries(e.data)) {
          count++;
          expect({ path, rule, reasoned: typeof reason === 'string' && reason.length >= 30 }).toEqual({ path, rule, reasoned: true });
        }
      }
    }
    expect(count).toBeGreaterThan(0);
  });
});
