import { CfnOutput, RemovalPolicy } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { join } from 'node:path';
import { TABLES } from '../../engine/audit/tables';
import { approversEnvValue } from '../approval/approval.workflow';
import { APPROVERS_CONFIG_ENV, ApproversConfigSchema, type ApproversConfig, type ApproversConfigInput } from './approvers';
import { SLACK_SECRET_ENV } from './secrets';
import { taskFunction } from './workflow-parts';

export class SlackEndpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SlackEndpointError';
  }
}

export interface SlackEndpointProps {
  /** rules/approvers.yaml (who may click Approve / Deny) */
  readonly approvers: ApproversConfig | ApproversConfigInput;
  readonly approvalsTable: dynamodb.ITable;
  readonly auditTable: dynamodb.ITable;
  /** the Slack app's signing secret; only its ARN reaches the Lambda */
  readonly signingSecret: secretsmanager.ISecret;
  /** state machines whose callback tasks the buttons answer (approval, escalate) */
  readonly stateMachines: sfn.IStateMachine[];
  /** requests per second the endpoint accepts (default 20, burst 40): Slack clicks are few, floods are not */
  readonly throttle?: { rateLimit: number; burstLimit: number };
}

/** The path to enter as the Slack app's Interactivity "Request URL" (after the API URL). */
export const INTERACTIVITY_PATH = '/slack/interactivity';

/**
 * The Slack interactivity endpoint: an HTTP API (POST /slack/interactivity, payload format 2.0,
 * throttled, access-logged) in front of the `workflows/slack/interactivity.ts` Lambda, which may
 * read the signing secret, the approvals and audit tables, and answer callback tasks of the given
 * state machines (SendTaskSuccess / SendTaskHeartbeat) — nothing else.
 */
export class SlackEndpoint extends Construct {
  public readonly handler: NodejsFunction;
  public readonly api: apigwv2.HttpApi;
  /** the full Request URL for the Slack app */
  public readonly interactivityUrl: string;

  constructor(scope: Construct, id: string, props: SlackEndpointProps) {
    super(scope, id);
    const parsed = ApproversConfigSchema.safeParse(props.approvers);
    if (!parsed.success) throw new SlackEndpointError(`approvers config is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    if (props.stateMachines.length === 0) throw new SlackEndpointError('SlackEndpoint needs the state machines whose callbacks it answers (stateMachines: [approval, escalate])');
    const throttle = props.throttle ?? { rateLimit: 20, burstLimit: 40 };
    if (!(throttle.rateLimit > 0 && throttle.burstLimit >= 1)) throw new SlackEndpointError('throttle.rateLimit must be > 0 and throttle.burstLimit >= 1');

    this.handler = taskFunction(this, 'Handler', {
      entry: join(__dirname, 'interactivity.ts'),
      wardenTask: 'slack.interactivity',
      description: 'Warden Slack interactivity endpoint: verifies signatures, checks approvers, answers callback tasks',
      environment: {
        [TABLES.approvals.env]: props.approvalsTable.tableName,
        [TABLES.audit.env]: props.auditTable.tableName,
        [SLACK_SECRET_ENV.signingSecret]: props.signingSecret.secretArn,
        [APPROVERS_CONFIG_ENV]: approversEnvValue(parsed.data),
      },
    });
    props.approvalsTable.grantReadWriteData(this.handler);
    props.auditTable.grantWriteData(this.handler);
    props.signingSecret.grantRead(this.handler);
    for (const sm of props.stateMachines) sm.grantTaskResponse(this.handler);

    this.api = new apigwv2.HttpApi(this, 'Api', { description: 'Warden Slack interactivity', createDefaultStage: false });
    this.api.addRoutes({ path: INTERACTIVITY_PATH, methods: [apigwv2.HttpMethod.POST], integration: new HttpLambdaIntegration('Interactivity', this.handler) });
    const accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: logs.RetentionDays.THREE_MONTHS, removalPolicy: RemovalPolicy.DESTROY });
    const stage = new apigwv2.HttpStage(this, 'Stage', {
      httpApi: this.api, stageName: '$default', autoDeploy: true, throttle,
      accessLogSettings: { destination: new apigwv2.LogGroupLogDestination(accessLogs) },
    });
    this.interactivityUrl = `${stage.url.replace(/\/$/, '')}${INTERACTIVITY_PATH}`;
    new CfnOutput(this, 'InteractivityUrl', { value: this.interactivityUrl, description: 'Slack app → Interactivity & Shortcuts → Request URL' });
  }
}
