import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IAMClient } from '@aws-sdk/client-iam';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AuditLog } from '../../engine/audit/audit-log';
import { TABLES } from '../../engine/audit/tables';
import { CallerAccountPort, sdkCaller } from './account-port';
import { systemClock } from './clock';
import { GUARDRAIL_DEFAULTS, type WorkflowDeps } from './deps';
import { WorkflowError } from './errors';
import { SnsNotifier } from './notifier';
import { SnapshotStore } from './snapshot';

/** Env the quarantine/restore task Lambdas read (set by the workflow constructs). */
export const ENV = {
  topicArn: 'WARDEN_NOTIFY_TOPIC_ARN',
  ownPrefixes: 'WARDEN_OWN_NAME_PREFIXES',
  protectedTag: 'WARDEN_PROTECTED_TAG',
  componentTag: 'WARDEN_COMPONENT_TAG',
  listedFunctions: 'WARDEN_LISTED_FUNCTIONS',
} as const;

const list = (v: string): string[] => v.split(',').map((x) => x.trim()).filter(Boolean);

function required(env: NodeJS.ProcessEnv, key: string): string {
  const v = env[key];
  if (!v) throw new WorkflowError(`environment variable ${key} is not set; the workflow construct sets it — redeploy, or set it by hand`);
  return v;
}

/** Builds the task deps from the Lambda environment (real AWS clients, system clock). */
export function depsFromEnv(env: NodeJS.ProcessEnv = process.env): WorkflowDeps {
  const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
  return {
    account: new CallerAccountPort(sdkCaller({ iam: new IAMClient({}), lambda: new LambdaClient({}) })),
    audit: new AuditLog({ doc: ddb, tableName: required(env, TABLES.audit.env), clock: systemClock }),
    snapshots: new SnapshotStore(ddb, required(env, TABLES.snapshots.env)),
    notifier: new SnsNotifier(new SNSClient({}), required(env, ENV.topicArn)),
    clock: systemClock,
    guardrails: {
      protectedTag: env[ENV.protectedTag] || GUARDRAIL_DEFAULTS.protectedTag,
      componentTag: env[ENV.componentTag] || GUARDRAIL_DEFAULTS.componentTag,
      ownNamePrefixes: env[ENV.ownPrefixes] !== undefined ? list(env[ENV.ownPrefixes]!) : GUARDRAIL_DEFAULTS.ownNamePrefixes,
      listedFunctions: list(env[ENV.listedFunctions] ?? ''),
    },
    simulated: false,
  };
}
