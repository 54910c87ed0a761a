/**
 * Property assertions on the synthesized Warden template (synthesized once per run by
 * global-setup.ts), not a whole-template snapshot.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stateMachinesFromTemplate } from '../../workflows/local/asl-from-template';
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
    const deny = policies.find((s) => s.Effect === 'Deny' && s.Condition?.StringEquals?.['events:source'] === 'warden.agent' && s.Condition?.Null);
    expect(deny).toBeDefined();
    expect(deny!.Condition!.Null!['aws:PrincipalTag/warden:protected']).toBe('true');
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

  const SENSITIVE = /^(iam:(Put|Delete|Attach|Detach)Role|iam:(Put|Delete)RolePolicy|iam:(Put|Delete)RolePermissionsBoundary|iam:UpdateAssumeRolePolicy|iam:(Tag|Untag)Role|lambda:(Put|Delete)FunctionConcurrency|lambda:UpdateFunction|lambda:(Tag|Untag)Resource)/;

  /** the Deny statements attached to the same role(s) as the policy `owner` */
  function guardsFor(owner: string): Statement[] {
    const roles = new Set(((t.Resources[owner]!.Properties as { Roles?: unknown[] }).Roles ?? []).map(refOf));
    return statements.filter(({ owner: o, s }) => s.Effect === 'Deny' && ((t.Resources[o]!.Properties as { Roles?: unknown[] }).Roles ?? []).some((r) => roles.has(refOf(r)))).map((x) => x.s);
  }

  it('allows changes to roles/functions on a wildcard only under a protected-tag condition (on the Allow or a Deny guard)', () => {
    let checked = 0;
    for (const { owner, s } of statements.filter((x) => x.s.Effect === 'Allow')) {
      const sensitive = actionsOf(s).filter((a) => SENSITIVE.test(a));
      if (sensitive.length === 0) continue;
      if (!resourcesOf(s).some((r) => JSON.stringify(r).includes('*'))) continue;
      checked++;
      if (s.Condition) continue;
      const guards = guardsFor(owner);
      for (const a of sensitive) {
        const guarded = guards.some((g) => actionsOf(g).includes(a) && JSON.stringify(resourcesOf(g)) === '["*"]'
          && (g.Condition?.Null?.['iam:ResourceTag/warden:protected'] === 'true' || g.Condition?.Null?.['aws:ResourceTag/warden:protected'] === 'true'));
        expect({ owner, a, guarded }).toEqual({ owner, a, guarded: true });
      }
    }
    expect(checked).toBeGreaterThan(0); // the quarantine/restore roles exist and were checked
  });

  it('denies the workflow roles any change to Warden\'s own roles and functions', () => {
    // every role allowed to change a role or function
    const roleIds = [...new Set(statements.filter(({ s }) => s.Effect === 'Allow' && actionsOf(s).some((a) => SENSITIVE.test(a)))
      .flatMap(({ owner }) => ((t.Resources[owner]!.Properties as { Roles?: unknown[] }).Roles ?? []).map(refOf)))] as string[];
    expect(roleIds.length).toBeGreaterThan(0);
    for (const roleId of roleIds) {
      const denies = statements.filter(({ owner, s }) => s.Effect === 'Deny' && ((t.Resources[owner]!.Properties as { Roles?: unknown[] }).Roles ?? []).some((r) => refOf(r) === roleId)).map((x) => x.s);
      const own = denies.find((d) => actionsOf(d).includes('iam:PutRolePolicy') && JSON.stringify(d.Condition ?? {}).includes('warden:component'));
      expect({ roleId, own: own !== undefined }).toEqual({ roleId, own: true });
    }
  });

  it('uses no AWS managed policy beyond basic Lambda logging', () => {
    for (const [id, r] of ofType('AWS::IAM::Role')) {
      for (const m of (props(r).ManagedPolicyArns ?? []) as unknown[]) expect({ id, m: JSON.stringify(m) }).toEqual({ id, m: expect.stringContaining('service-role/AWSLambdaBasicExecutionRole') });
    }
  });
});

describe('state machines', () => {
  const machines = stateMachinesFromTemplate(t as never);
  const rules = ofType('AWS::Events::Rule');

  it('holds the quarantine, restore, escalate and approval state machines', () => {
    const paths = machines.map((m) => m.path ?? m.logicalId).join(' ');
    for (const name of ['Quarantine', 'Restore', 'Escalate', 'Approval']) expect(paths).toContain(name);
    expect(machines).toHaveLength(4);
  });

  it('routes Policy Decision events by detail.response to escalate, quarantine and approval; restore only on demand', () => {
    const routed: Record<string, string> = {};
    for (const [, r] of rules) {
      const pattern = props(r).EventPattern;
      if (pattern.source?.[0] !== 'warden.engine') continue;
      expect(pattern['detail-type']).toEqual(['Policy Decision']);
      routed[pattern.detail.response[0]] = refOf(props(r).Targets[0].Arn)!;
    }
    expect(Object.keys(routed).sort()).toEqual(['approve', 'escalate', 'quarantine']);
    expect(routed.escalate).toMatch(/Escalate/);
    expect(routed.quarantine).toMatch(/Quarantine/);
    expect(routed.approve).toMatch(/Approval/);
    const restore = machines.find((m) => (m.path ?? m.logicalId).includes('Restore'))!;
    expect(Object.values(routed)).not.toContain(restore.logicalId);
    expect(JSON.stringify(t.Outputs)).toContain(restore.logicalId);
  });

  it('puts TimeoutSeconds and HeartbeatSeconds on every callback (.waitForTaskToken) step', () => {
    let callbacks = 0;
    const visit = (states: Record<string, Record<string, unknown>>, where: string) => {
      for (const [name, st] of Object.entries(states)) {
        if (typeof st.Resource === 'string' && st.Resource.endsWith('.waitForTaskToken')) {
          callbacks++;
          const ok = (typeof st.TimeoutSeconds === 'number' || typeof st.TimeoutSecondsPath === 'string') && (typeof st.HeartbeatSeconds === 'number' || typeof st.HeartbeatSecondsPath === 'string');
          expect({ where, name, ok }).toEqual({ where, name, ok: true });
          if (typeof st.TimeoutSeconds === 'number' && typeof st.HeartbeatSeconds === 'number') expect(st.HeartbeatSeconds).toBeLessThan(st.TimeoutSeconds);
        }
        for (const b of (st.Branches ?? []) as { States: Record<string, Record<string, unknown>> }[]) visit(b.States, `${where}/${name}`);
        const it = (st.ItemProcessor ?? st.Iterator) as { States: Record<string, Record<string, unknown>> } | undefined;
        if (it) visit(it.States, `${where}/${name}`);
      }
    };
    for (const m of machines) visit(m.definition.States as Record<string, Record<string, unknown>>, m.path ?? m.logicalId);
    expect(callbacks).toBeGreaterThanOrEqual(2); // approval request + escalation acks
  });

  it('uses JSONPath only (aws-local-stepfunctions ignores JSONata and Assign)', () => {
    for (const m of machines) {
      const text = JSON.stringify(m.definition);
      expect({ m: m.logicalId, jsonata: text.includes('"QueryLanguage":"JSONata"'), assign: text.includes('"Assign"') }).toEqual({ m: m.logicalId, jsonata: false, assign: false });
    }
  });

  it('logs every execution and traces it', () => {
    for (const [id, r] of ofType('AWS::StepFunctions::StateMachine')) {
      expect({ id, level: props(r).LoggingConfiguration?.Level, tracing: props(r).TracingConfiguration?.Enabled }).toEqual({ id, level: 'ALL', tracing: true });
    }
  });
});

describe('topics', () => {
  it('encrypts every topic and refuses non-TLS publishing', () => {
    const topics = ofType('AWS::SNS::Topic');
    expect(topics.length).toBeGreaterThanOrEqual(1);
    for (const [id, r] of topics) expect({ id, key: props(r).KmsMasterKeyId !== undefined }).toEqual({ id, key: true });
  });

  it('creates a topic for every escalation tier key not passed in props', () => {
    const names = ofType('AWS::SNS::Topic').map(([id]) => id).join(' ');
    expect(names).toMatch(/EscalationTopiconcallpager/);
    expect(names).toMatch(/EscalationTopicsecurityleads/);
  });
});

describe('Slack interactivity endpoint', () => {
  it('serves POST /slack/interactivity on an HTTP API with access logs and throttling', () => {
    const routes = ofType('AWS::ApiGatewayV2::Route').map(([, r]) => props(r).RouteKey);
    expect(routes).toContain('POST /slack/interactivity');
    const [, stage] = ofType('AWS::ApiGatewayV2::Stage')[0]!;
    expect(props(stage).AccessLogSettings?.DestinationArn).toBeDefined();
    expect(props(stage).DefaultRouteSettings?.ThrottlingRateLimit).toBeGreaterThan(0);
  });

  it('gets the Slack secrets as ARNs of Secrets Manager secrets, and may answer the waiting workflows', () => {
    const [id, fn] = ofType('AWS::Lambda::Function').find(([i]) => i.includes('SlackInteractivity'))!;
    const env = props(fn).Environment.Variables;
    for (const k of ['WARDEN_SLACK_SIGNING_SECRET_ARN', 'WARDEN_SLACK_BOT_TOKEN_ARN']) expect(t.Resources[refOf(env[k])!]!.Type).toBe('AWS::SecretsManager::Secret');
    const roleId = refOf(props(fn).Role)!;
    const own = allPolicyStatements().filter(({ owner }) => ((t.Resources[owner]!.Properties as { Roles?: unknown[] }).Roles ?? []).some((r) => refOf(r) === roleId));
    const actions = own.flatMap(({ s }) => actionsOf(s));
    expect({ id, actions }).toEqual({ id, actions: expect.arrayContaining(['states:SendTaskSuccess', 'states:SendTaskHeartbeat', 'secretsmanager:GetSecretValue']) });
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
