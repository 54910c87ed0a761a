import { approversFromEnv, awsPortsFromEnv } from './lambda-env';
import { handleInteraction, type HttpResponse, type InteractivityDeps } from './interactivity-core';

/**
 * Lambda entry of the Slack interactivity endpoint (HTTP API, payload format 2.0): wiring only.
 * Environment: WARDEN_APPROVAL_TABLE, WARDEN_AUDIT_TABLE, WARDEN_SLACK_SIGNING_SECRET_ARN (the
 * secret's ARN, never its value), WARDEN_APPROVERS_CONFIG (approvers.yaml as JSON).
 */
let deps: InteractivityDeps | undefined;

function build(): InteractivityDeps {
  const aws = awsPortsFromEnv(process.env);
  return {
    secrets: aws.secrets,
    store: aws.store,
    callbacks: aws.callbacks,
    slack: aws.slack,
    audit: aws.audit,
    clock: aws.clock,
    approvers: approversFromEnv(process.env),
    log: (level, message, fields) => {
      const line = JSON.stringify({ level, message, ...fields, time: new Date(aws.clock.nowMs()).toISOString() });
      if (level === 'info') console.log(line); else console.error(line);
    },
  };
}

export const handler = async (event: unknown): Promise<HttpResponse> => {
  try {
    return (await handleInteraction(event, (deps ??= build()))).response;
  } catch (err) {
    // an internal failure (DynamoDB, Secrets Manager) decides nothing; Slack shows the user an error and they can retry
    console.error(JSON.stringify({ level: 'error', message: 'interaction failed', error: (err as Error).name, detail: (err as Error).message }));
    return { statusCode: 500, headers: { 'content-type': 'application/json' }, body: '{"error":"internal error"}' };
  }
};
