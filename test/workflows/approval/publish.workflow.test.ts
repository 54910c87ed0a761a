import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { TABLES } from '../../../engine/audit/tables';
import { AuditLog } from '../../../engine/audit/audit-log';
import { createLocalDistribution } from '../../../engine/distribution/local';
import { dynamoExceptionSource } from '../../../engine/handler/exceptions';
import { ApprovalWorkflow } from '../../../workflows/approval/approval.workflow';
import { DynamoExceptionStore } from '../../../workflows/approval/exception-store';
import { approvalTaskHandlers, publishExceptionsTaskHandlers } from '../../../workflows/approval/tasks';
import type { CfnTemplate } from '../../../workflows/local/asl-from-template';
import { LocalRunner } from '../../../workflows/local/runner';
import { SimClock } from '../../../workflows/local/sim-clock';
import { loadApproversConfig } from '../../../workflows/slack/approvers';
import { CallbackStore, callbackIdFor } from '../../../workflows/slack/callback-store';
import { handleInteraction } from '../../../workflows/slack/interactivity-core';
import { ACTIONS } from '../../../workflows/slack/messages';
import { StaticSlackSecrets } from '../../../workflows/slack/secrets';
import { computeSlackSignature } from '../../../workflows/slack/signature';
import { RecordingSlackPort } from '../../../workflows/slack/slack-port';
import { RegistryTaskCallback } from '../../../workflows/slack/task-callback';
import { startDynalite, type LocalDynamo } from '../slack/dynalite-helper';
import { decision, RULES } from '../slack/harness';

const SECRET = 'publish-test-signing-secret';
let template: CfnTemplate;
let db: LocalDynamo;

/** The approval workflow with exception publishing, as the Warden construct builds it when a policy store exists. */
async function synth(): Promise<CfnTemplate> {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'ApprovalPublish', { env: { account: '123456789012', region: 'us-east-1' } });
  const table = (id: string, spec: (typeof TABLES)[keyof typeof TABLES]) => new dynamodb.Table(stack, id, {
    tableName: spec.defaultName,
    partitionKey: { name: spec.partitionKey, type: dynamodb.AttributeType.STRING },
    ...(spec.sortKey ? { sortKey: { name: spec.sortKey, type: dynamodb.AttributeType.STRING } } : {}),
  });
  const stand = (id: string) => new sfn.StateMachine(stack, id, { definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, `${id}Pass`)) });
  new ApprovalWorkflow(stack, 'Approval', {
    approvers: await loadApproversConfig(RULES),
    approvalsTable: table('Approvals', TABLES.approvals),
    exceptionsTable: table('Exceptions', TABLES.exceptions),
    auditTable: table('Audit', TABLES.audit),
    slackBotToken: new secretsmanager.Secret(stack, 'BotToken'),
    quarantine: stand('QuarantineStandIn'),
    escalate: stand('EscalateStandIn'),
    exceptionPublishing: {
      bucket: new s3.Bucket(stack, 'PolicyStore'),
      prefix: 'policy',
      signingKey: new kms.Key(stack, 'ExceptionsKey', { keySpec: kms.KeySpec.ECC_NIST_P256, keyUsage: kms.KeyUsage.SIGN_VERIFY }),
    },
  });
  return Template.fromStack(stack).toJSON() as CfnTemplate;
}

beforeAll(async () => {
  template = await synth();
  db = await startDynalite(['approvals', 'exceptions', 'audit']);
});
afterAll(async () => db.close());

async function harness(opts: { failPublish?: Error } = {}) {
  const clock = new SimClock('2026-11-23T18:00:00.000Z');
  const slack = new RecordingSlackPort();
  const store = new CallbackStore(db.doc, TABLES.approvals.defaultName);
  const audit = new AuditLog({ doc: db.doc, tableName: TABLES.audit.defaultName, clock });
  const approvers = await loadApproversConfig(RULES);
  const dist = createLocalDistribution({ loadBundle: () => { throw new Error('no bundles in this test'); }, clock: { now: () => clock.nowMs() } });
  const table = dynamoExceptionSource(db.doc, TABLES.exceptions.defaultName);
  const publish = publishExceptionsTaskHandlers({
    readExceptions: (fn) => table.forFunction(fn), store: dist.store, signer: dist.exceptionsSigner, clock,
  });
  const runner = new LocalRunner({
    template,
    clock,
    lambdaHandlers: {
      ...approvalTaskHandlers({ store, slack, audit, clock, approvers, exceptions: new DynamoExceptionStore(db.doc, TABLES.exceptions.defaultName) }),
      ...(opts.failPublish ? { 'approval.publish-exceptions': () => { throw opts.failPublish; } } : publish),
    },
    integrations: { 'states:startExecution': () => ({ ExecutionArn: 'arn:aws:states:us-east-1:123456789012:execution:x:y', StartDate: clock.iso() }) },
  });
  const interactivity = { secrets: new StaticSlackSecrets({ signingSecrets: [SECRET], botToken: 'xoxb-local' }), store, slack, approvers, audit, clock, callbacks: new RegistryTaskCallback(runner.tokens) };
  // the approver clicks Approve as soon as the request is posted
  runner.tokens.onRegistered(async (t) => {
    const p = t.payload as { executionId: string; stateName: string };
    const id = callbackIdFor('approval', p.executionId, p.stateName);
    for (let i = 0; i < 200 && !(await store.get(id))?.messages.length; i++) await new Promise((r) => setImmediate(r));
    clock.advance(60_000);
    const body = `payload=${encodeURIComponent(JSON.stringify({ type: 'block_actions', user: { id: 'U0SECLEAD1' }, response_url: 'https://hooks.slack.com/actions/T/1/x', actions: [{ action_id: ACTIONS.approve, value: id }] }))}`;
    const ts = String(Math.floor(clock.nowMs() / 1000));
    await handleInteraction({ headers: { 'x-slack-request-timestamp': ts, 'x-slack-signature': computeSlackSignature(SECRET, ts, Buffer.from(body)) }, body, isBase64Encoded: false, requestContext: { http: { method: 'POST' } } }, interactivity);
  });
  return { runner, dist, clock };
}

let n = 0;
const fresh = (fn: string) => {
  n += 1;
  const d = decision({ incidentId: `inc-publish-${n}`, decisionId: `dec-publish-${n}` });
  return { ...d, function: { ...d.function, name: fn }, access: { kind: 'http' as const, host: `api${n}.partner.example`, port: 443 } };
};

describe('approval workflow with exception publishing (synthesized ASL, local runner)', () => {
  it('approve → exception recorded → the function\'s exceptions signed into the store; its agents\' source sees the approved access', async () => {
    const h = await harness();
    const d = fresh('payments-worker');
    const r = await h.runner.run('Approval', d);
    expect(r.status).toBe('SUCCEEDED');
    expect(r.path.slice(-3)).toEqual(['RecordApproval', 'PublishExceptions', 'Approved']);
    expect(r.output).toMatchObject({ published: { functionName: 'payments-worker', count: 1, key: 'exceptions/payments-worker.json' } });
    const source = h.dist.source({ exceptionsFor: 'payments-worker' });
    await source.refresh();
    const found = source.exceptions().find(d.access, h.clock.nowMs());
    expect(found).toMatchObject({ exceptionId: (r.output as { exception: { exceptionId: string } }).exception.exceptionId });
    // exactly the approved access: another port is still not covered
    expect(source.exceptions().find({ ...d.access, port: 8443 }, h.clock.nowMs())).toBeUndefined();
  });

  it('a second approval for the same function publishes both exceptions (the document is the whole active set)', async () => {
    const h = await harness();
    const a = fresh('orders-worker');
    const b = fresh('orders-worker');
    expect((await h.runner.run('Approval', a)).status).toBe('SUCCEEDED');
    const second = await h.runner.run('Approval', b);
    expect(second.output).toMatchObject({ published: { functionName: 'orders-worker', count: 2 } });
    const source = h.dist.source({ exceptionsFor: 'orders-worker' });
    await source.refresh();
    expect(source.exceptions().grants.map((g) => g.access.host).sort()).toEqual([a.access.host, b.access.host].sort());
  });

  it('a publish that cannot be done fails the execution visibly (the exception stays granted for the engine)', async () => {
    const h = await harness({ failPublish: Object.assign(new Error('KMS Sign failed: AccessDeniedException'), { name: 'KeyError' }) });
    const r = await h.runner.run('Approval', fresh('image-resizer'));
    expect(r.status).toBe('FAILED');
    expect(r.path.slice(-3)).toEqual(['RecordApproval', 'PublishExceptions', 'ExceptionsNotPublished']);
    expect(r.error).toMatch(/Warden.ExceptionsNotPublished/);
  });
});
