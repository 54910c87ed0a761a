import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AuditLog } from '../../engine/audit/audit-log';
import { TABLES } from '../../engine/audit/tables';
import { systemClock, type Clock } from '../common/clock';
import { APPROVERS_CONFIG_ENV, ApproversConfigSchema, type ApproversConfig } from './approvers';
import { CallbackStore } from './callback-store';
import { WardenSlackError } from './errors';
import { SecretsManagerSlackSecrets } from './secrets';
import { WebApiSlackPort } from './slack-port';
import { SdkSnsPort } from './sns-port';
import { SfnTaskCallback } from './task-callback';

/**
 * Builds the ports of the Slack-side Lambdas from their environment (table names, secret ARNs,
 * the approvers config as JSON). Once per container: handlers cache the result.
 */
export class LambdaEnvError extends WardenSlackError {
  constructor(message: string) {
    super(message);
    this.name = 'LambdaEnvError';
  }
}

export { APPROVERS_CONFIG_ENV };
/** tests and the local run point Slack at a local server */
export const SLACK_API_URL_ENV = 'WARDEN_SLACK_API_URL';

export function requireEnv(env: NodeJS.ProcessEnv, name: string, what: string): string {
  const v = env[name];
  if (!v) throw new LambdaEnvError(`environment variable ${name} (${what}) is not set; the Warden construct sets it`);
  return v;
}

export function approversFromEnv(env: NodeJS.ProcessEnv): ApproversConfig {
  const raw = requireEnv(env, APPROVERS_CONFIG_ENV, 'rules/approvers.yaml as JSON');
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new LambdaEnvError(`${APPROVERS_CONFIG_ENV} is not JSON`);
  }
  const r = ApproversConfigSchema.safeParse(json);
  if (!r.success) throw new LambdaEnvError(`${APPROVERS_CONFIG_ENV} is not a valid approvers config: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return r.data;
}

export interface AwsPorts {
  clock: Clock;
  doc: DynamoDBDocumentClient;
  store: CallbackStore;
  audit: AuditLog;
  secrets: SecretsManagerSlackSecrets;
  slack: WebApiSlackPort;
  callbacks: SfnTaskCallback;
  sns: SdkSnsPort;
}

export function awsPortsFromEnv(env: NodeJS.ProcessEnv = process.env): AwsPorts {
  const clock = systemClock;
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
  const secrets = SecretsManagerSlackSecrets.fromEnv(env, new SecretsManagerClient({}), () => clock.nowMs());
  const slackApiUrl = env[SLACK_API_URL_ENV];
  return {
    clock,
    doc,
    store: new CallbackStore(doc, requireEnv(env, TABLES.approvals.env, 'the approvals table')),
    audit: new AuditLog({ doc, tableName: requireEnv(env, TABLES.audit.env, 'the audit table'), clock }),
    secrets,
    slack: new WebApiSlackPort({ botToken: async () => (await secrets.get()).botToken, ...(slackApiUrl ? { slackApiUrl } : {}) }),
    callbacks: new SfnTaskCallback(new SFNClient({})),
    sns: new SdkSnsPort(new SNSClient({})),
  };
}
