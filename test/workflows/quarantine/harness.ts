import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as sns from 'aws-cdk-lib/aws-sns';
import { TABLES } from '../../../engine/audit/tables';
import type { CfnTemplate } from '../../../workflows/local/asl-from-template';
import { localWorkflowDeps, responseLambdaHandlers } from '../../../workflows/local/local-deps';
import { LocalRunner } from '../../../workflows/local/runner';
import { SimClock } from '../../../workflows/local/sim-clock';
import { SimulatedAccount, type SimulatedAccountSpec } from '../../../workflows/local/simulated-account';
import type { GuardrailConfig } from '../../../workflows/common/deps';
import { MemoryNotifier } from '../../../workflows/common/notifier';
import { QuarantineWorkflow } from '../../../workflows/quarantine/quarantine.workflow';
import { RestoreWorkflow } from '../../../workflows/restore/restore.workflow';
import type { Dynalite } from '../local/dynalite';
import { synthesizedTemplate } from '../../infra/template';

/** The Warden stack synthesized once per test run (jest globalSetup → cdk.out): the definitions that ship. */
export function responseTemplate(): CfnTemplate {
  return synthesizedTemplate() as CfnTemplate;
}

/** A stack holding only the quarantine and restore workflows (for construct-level tests). */
export function synthResponseStack(): CfnTemplate {
  process.env.CDK_VALIDATION ??= 'false';
  const app = new App();
  const stack = new Stack(app, 'ResponseTest');
  const table = (id: string, t: { partitionKey: string; sortKey?: string | undefined }) => new dynamodb.TableV2(stack, id, {
    partitionKey: { name: t.partitionKey, type: dynamodb.AttributeType.STRING },
    ...(t.sortKey ? { sortKey: { name: t.sortKey, type: dynamodb.AttributeType.STRING } } : {}),
  });
  const props = { snapshotsTable: table('Snapshots', TABLES.snapshots), auditTable: table('Audit', TABLES.audit), topic: new sns.Topic(stack, 'Topic') };
  new QuarantineWorkflow(stack, 'Quarantine', props);
  new RestoreWorkflow(stack, 'Restore', props);
  return Template.fromStack(stack).toJSON() as CfnTemplate;
}

/** orders-api: protected, 3 managed policies, an inline policy, a boundary, reserved concurrency 25, two mappings. */
export const ORDERS_ACCOUNT: SimulatedAccountSpec = {
  managedPolicies: [{ name: 'orders-table-rw' }, { name: 'orders-queue-consume' }, { name: 'boundary-app' }],
  roles: [
    {
      name: 'orders-api-role',
      attachedPolicies: ['orders-table-rw', 'orders-queue-consume', 'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'],
      inlinePolicies: { 'kms-decrypt': { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:Decrypt', Resource: '*' }] } },
      permissionsBoundary: 'boundary-app',
      tags: { team: 'orders' },
    },
    { name: 'warden-engine-role', tags: { 'warden:component': 'engine' } },
    { name: 'billing-role' },
  ],
  functions: [
    { name: 'orders-api', role: 'orders-api-role', reservedConcurrency: 25, tags: { 'warden:protected': 'true', team: 'orders' } },
    { name: 'warden-engine', role: 'warden-engine-role', tags: { 'warden:protected': 'true' } },
    { name: 'billing', role: 'billing-role' },
  ],
  eventSourceMappings: [
    { uuid: 'esm-orders-queue', function: 'orders-api', eventSourceArn: 'arn:aws:sqs:us-east-1:123456789012:orders', state: 'Enabled' },
    { uuid: 'esm-orders-stream', function: 'orders-api', eventSourceArn: 'arn:aws:kinesis:us-east-1:123456789012:stream/orders', state: 'Disabled' },
  ],
};

export function makeEnv(template: CfnTemplate, db: Dynalite, spec: SimulatedAccountSpec = ORDERS_ACCOUNT, guardrails?: Partial<GuardrailConfig>) {
  const clock = new SimClock('2026-11-23T18:00:00.000Z');
  const account = new SimulatedAccount(spec);
  const notifier = new MemoryNotifier();
  const deps = localWorkflowDeps({ account, clock, doc: db.doc, notifier, ...(guardrails ? { guardrails } : {}) });
  const runner = new LocalRunner({ template, clock, account, lambdaHandlers: responseLambdaHandlers(deps) });
  return { clock, account, notifier, deps, runner };
}

let seq = 0;
/** A fresh incident id per test, so tests sharing one dynalite never see each other's items. */
export const newIncident = (label = 'inc'): string => `${label}-${Date.now().toString(36)}-${++seq}`;
