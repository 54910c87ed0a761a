import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Annotations, Aws, CfnOutput, Duration, Stack, Tags, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ApprovalWorkflow } from '../workflows/approval/approval.workflow';
import { EscalateWorkflow } from '../workflows/escalate/escalate.workflow';
import { ESCALATION_FILE, parseEscalationConfig } from '../workflows/escalate/escalation-config';
import { QuarantineWorkflow } from '../workflows/quarantine/quarantine.workflow';
import { RestoreWorkflow } from '../workflows/restore/restore.workflow';
import { APPROVERS_CONFIG_ENV, APPROVERS_FILE, parseApproversConfig } from '../workflows/slack/approvers';
import { SLACK_SECRET_ENV } from '../workflows/slack/secrets';
import { approversEnvValue } from '../workflows/approval/approval.workflow';
import { ACCESS_EVENT_DETAIL_TYPE, ACCESS_EVENT_SOURCE, type Mode } from '../engine/events/access-event';
import { DECISION_EVENT_DETAIL_TYPE, DECISION_EVENT_SOURCE, type ResponseAction } from '../engine/events/decision-event';
import { TABLES, type TableName } from '../engine/audit/tables';
import { bucketObjectsFinding } from '../workflows/common/workflow-constructs';
import { writeAgentLayer } from './agent-layer';
import { buildRulesLayerAsset } from './rules-bundle';
import { WARDEN_DEFAULTS } from './warden-defaults';
import { resolveWardenProps, WardenPropsError, type ResolvedWardenProps, type WardenProps } from './warden-props';

export type { WardenProps, WardenSlackProps, WardenTargetProps, WardenEngineProps } from './warden-props';
export { WardenPropsError };

/** Repository root: entry files of the Lambdas are resolved from here. */
export const REPO_ROOT = resolve(__dirname, '..');

/** Environment variable names the Lambdas read (the handlers parse them with zod). */
export const ENGINE_ENV = {
  bus: 'WARDEN_EVENT_BUS',
  rulesBundle: 'WARDEN_RULES_BUNDLE',
  idempotencyTable: 'WARDEN_IDEMPOTENCY_TABLE',
  idempotencyTtlSeconds: 'WARDEN_IDEMPOTENCY_TTL_SECONDS',
  exceptionCacheMs: 'WARDEN_EXCEPTION_CACHE_MS',
} as const;

/** Where the rules layer puts the compiled bundle inside a function. */
export const RULES_BUNDLE_PATH = '/opt/warden/policy.json';

/** Where the agent layer puts the agent: `NODE_OPTIONS=--require warden/agent/register` finds it on NODE_PATH. */
export const AGENT_REQUIRE = 'warden/agent/register';

export interface ProtectOptions {
  /** overrides the mode the rules set for this function */
  readonly mode?: Mode;
}

/** Changes to a role the response workflows may make only on roles carrying the protected tag. */
export const PROTECTED_ROLE_ACTIONS = [
  'iam:PutRolePolicy', 'iam:DeleteRolePolicy', 'iam:AttachRolePolicy', 'iam:DetachRolePolicy', 'iam:PutRolePermissionsBoundary',
  'iam:DeleteRolePermissionsBoundary', 'iam:TagRole', 'iam:UntagRole', 'iam:UpdateAssumeRolePolicy', 'iam:UpdateRole',
];
/** Changes to a function the response workflows may make only on functions carrying the protected tag. */
export const PROTECTED_FUNCTION_ACTIONS = [
  'lambda:PutFunctionConcurrency', 'lambda:DeleteFunctionConcurrency', 'lambda:TagResource', 'lambda:UntagResource',
  'lambda:UpdateFunctionConfiguration', 'lambda:UpdateFunctionCode', 'lambda:AddPermission', 'lambda:RemovePermission',
];

/** A target with its dead-letter queue and the alarm on that queue. */
export interface WardenTarget {
  readonly name: string;
  readonly deadLetterQueue: sqs.Queue;
  readonly alarm: cloudwatch.Alarm;
}

/**
 * Warden on AWS: the `warden` bus (archive + resource policy), the rules-engine Lambda, the
 * response state machines routed by `detail.response`, DynamoDB tables, the Slack endpoint and
 * its secrets — least privilege, with a DLQ, retry policy and alarm on every target.
 */
export class Warden extends Construct {
  readonly props: ResolvedWardenProps;
  readonly bus: events.EventBus;
  readonly archive: events.Archive;
  readonly tables: Record<TableName, dynamodb.Table>;
  readonly idempotencyTable: dynamodb.Table;
  readonly engine: nodejs.NodejsFunction;
  readonly rulesLayer: lambda.LayerVersion;
  /** content hash of the rules compiled into `rulesLayer` */
  readonly policyVersion: string;
  readonly agentRule: events.Rule;
  readonly decisionRules: Partial<Record<ResponseAction, events.Rule>> = {};
  readonly slackSigningSecret: secretsmanager.ISecret;
  readonly slackBotToken: secretsmanager.ISecret;
  /** where the quarantine and restore workflows report what they did */
  readonly notifications: sns.Topic;
  /** escalation topics by the key rules/escalation.yaml uses (passed in `topics` or created) */
  readonly topics: Record<string, sns.ITopic>;
  readonly quarantine: QuarantineWorkflow;
  readonly restore: RestoreWorkflow;
  readonly escalate: EscalateWorkflow;
  readonly approval: ApprovalWorkflow;
  /** the Slack interactivity endpoint (Request URL of the Slack app) */
  readonly slackApi: apigw.HttpApi;
  readonly slackInteractivity: nodejs.NodejsFunction;
  /** the signed policy store (`policyStore` prop): bucket, KMS signing key, publisher role */
  readonly policyStore?: { bucket: s3.Bucket; signingKey: kms.Key; publisher: iam.Role; url: string; exceptionsSigningKey: kms.Key };
  /** environment that points a function at the policy store (empty until a public key is pinned) */
  private readonly policyStoreEnv: Record<string, string> = {};
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly deadLetterQueues: Record<string, sqs.Queue> = {};
  private agentLayerVersion?: lambda.LayerVersion;

  constructor(scope: Construct, id: string, props: WardenProps) {
    super(scope, id);
    const p = resolveWardenProps(props);
    this.props = p;
    Tags.of(this).add(p.ownTag.key, p.ownTag.value);

    // ---- tables -----------------------------------------------------------------------------
    this.tables = {} as Record<TableName, dynamodb.Table>;
    for (const [name, spec] of Object.entries(TABLES) as [TableName, (typeof TABLES)[TableName]][]) {
      this.tables[name] = this.table(`${name[0]!.toUpperCase()}${name.slice(1)}Table`, spec.partitionKey, spec.sortKey, name === 'approvals' || name === 'exceptions' ? 'ttl' : undefined);
    }
    // Powertools idempotency persistence: key `id`, expiry attribute `expiration` (its defaults).
    this.idempotencyTable = this.table('IdempotencyTable', 'id', undefined, 'expiration');

    // ---- bus, archive, resource policy ---------------------------------------------------------
    this.bus = new events.EventBus(this, 'Bus', { eventBusName: p.busName, description: 'Warden: agent access events and engine policy decisions' });
    this.archive = this.bus.archive('Archive', {
      description: 'Every Warden event, replayable after a rule change',
      eventPattern: { source: [ACCESS_EVENT_SOURCE, DECISION_EVENT_SOURCE] },
      retention: p.archiveRetention,
    });

    // ---- rules bundle (compiled at synth) --------------------------------------------------------
    const bundle = buildRulesLayerAsset(p.rulesDir);
    this.policyVersion = bundle.policyVersion;
    this.rulesLayer = new lambda.LayerVersion(this, 'RulesLayer', {
      code: lambda.Code.fromAsset(bundle.dir),
      compatibleRuntimes: [lambda.Runtime.NODEJS_22_X],
      description: `Warden compiled rules ${bundle.policyVersion} at ${RULES_BUNDLE_PATH}`,
    });

    // ---- the rules-engine Lambda -------------------------------------------------------------------
    const engineFailures = this.deadLetterQueue('EngineFailures', 'rules-engine invocations that failed after Lambda retries');
    this.engine = this.nodeFunction('Engine', {
      entry: join(REPO_ROOT, 'engine/handler/lambda.ts'),
      description: 'Warden rules engine: decides access events and publishes Policy Decision events',
      memorySize: p.engine.memorySize,
      timeout: p.engine.timeout,
      layers: [this.rulesLayer],
      environment: {
        [ENGINE_ENV.bus]: this.bus.eventBusName,
        [ENGINE_ENV.rulesBundle]: RULES_BUNDLE_PATH,
        [ENGINE_ENV.idempotencyTable]: this.idempotencyTable.tableName,
        [ENGINE_ENV.idempotencyTtlSeconds]: String(p.engine.idempotencyTtl.toSeconds()),
        [ENGINE_ENV.exceptionCacheMs]: String(p.engine.exceptionCacheTtl.toMilliseconds()),
        [TABLES.audit.env]: this.tables.audit.tableName,
        [TABLES.exceptions.env]: this.tables.exceptions.tableName,
        POWERTOOLS_SERVICE_NAME: 'warden-engine',
        POWERTOOLS_METRICS_NAMESPACE: p.engine.metricsNamespace,
        POWERTOOLS_LOG_LEVEL: 'INFO',
      },
      // a handler error is retried by Lambda's async invocation, then parked here (never dropped)
      onFailure: new destinations.SqsDestination(engineFailures),
      retryAttempts: 2,
      maxEventAge: p.targets.maxEventAge,
    });
    this.grantEngine(this.engine.role!);

    // agent events -> engine
    const agentPattern: events.EventPattern = { source: [ACCESS_EVENT_SOURCE], detailType: [ACCESS_EVENT_DETAIL_TYPE] };
    this.agentRule = new events.Rule(this, 'AgentEventsRule', {
      eventBus: this.bus,
      description: 'Access Observed events from the agents to the rules engine',
      eventPattern: agentPattern,
    });
    const engineDelivery = this.deadLetterQueue('EngineTarget', 'agent events EventBridge could not deliver to the rules engine');
    this.agentRule.addTarget(
      new targets.LambdaFunction(this.engine, {
        deadLetterQueue: engineDelivery,
        retryAttempts: p.targets.retryAttempts,
        maxEventAge: p.targets.maxEventAge,
      }),
    );
    this.engineErrorsAlarm();
    this.engineMetricAlarm('InvalidEventsAlarm', 'Decisions_invalid', 'agent events that could not be parsed were decided deny (audit partition FN#(invalid-event)): a broken or forged agent');
    this.engineMetricAlarm('ExceptionLookupAlarm', 'ExceptionLookupFailed', 'the exceptions table could not be read; approved exceptions are not being honoured (fail closed)');

    // ---- signed policy store (warden rules publish) ---------------------------------------------------
    if (p.policyStore) {
      this.policyStore = this.buildPolicyStore(p.policyStore);
      this.readPolicyStore(this.engine);
    }

    // ---- bus resource policy: who may publish which source ------------------------------------------
    this.restrictPublishers();

    // ---- Slack secrets (values never in the template or env) ------------------------------------
    this.slackSigningSecret = this.slackSecret('SlackSigningSecret', p.slack.signingSecret, p.slack.signingSecretArn, WARDEN_DEFAULTS.slack.signingSecretName, 'Slack app signing secret (Basic Information → Signing Secret)');
    this.slackBotToken = this.slackSecret('SlackBotToken', p.slack.botToken, p.slack.botTokenArn, WARDEN_DEFAULTS.slack.botTokenSecretName, 'Slack bot token xoxb-… (OAuth & Permissions)');
    new CfnOutput(this, 'SlackSigningSecretArn', { value: this.slackSigningSecret.secretArn, description: 'put the Slack signing secret here (aws secretsmanager put-secret-value)' });
    new CfnOutput(this, 'SlackBotTokenArn', { value: this.slackBotToken.secretArn, description: 'put the Slack bot token (xoxb-…) here' });

    // ---- response workflows, routed by detail.response -------------------------------------------
    this.notifications = this.topic('Notifications', 'Warden: quarantine and restore reports');
    const guardrails = { protectedTag: p.protectedTag.key, componentTag: p.ownTag.key };
    const responseProps = { snapshotsTable: this.tables.snapshots, auditTable: this.tables.audit, topic: this.notifications, guardrails };
    this.quarantine = new QuarantineWorkflow(this, 'Quarantine', responseProps);
    this.restore = new RestoreWorkflow(this, 'Restore', responseProps);
    const escalation = this.rulesConfig(ESCALATION_FILE, parseEscalationConfig);
    this.topics = { ...p.topics };
    for (const tier of escalation.tiers) {
      if (tier.sns && !tier.sns.startsWith('arn:') && !this.topics[tier.sns]) {
        this.topics[tier.sns] = this.topic(`EscalationTopic${tier.sns.replace(/[^A-Za-z0-9]/g, '')}`, `Warden escalation tier "${tier.name}" (${tier.sns}): subscribe its pager or e-mail`);
      }
    }
    this.escalate = new EscalateWorkflow(this, 'Escalate', {
      escalation,
      approvalsTable: this.tables.approvals,
      auditTable: this.tables.audit,
      slackBotToken: this.slackBotToken,
      topics: this.topics,
      quarantine: this.quarantine.stateMachine,
    });
    this.approval = new ApprovalWorkflow(this, 'Approval', {
      approvers: this.rulesConfig(APPROVERS_FILE, parseApproversConfig),
      approvalsTable: this.tables.approvals,
      exceptionsTable: this.tables.exceptions,
      auditTable: this.tables.audit,
      slackBotToken: this.slackBotToken,
      quarantine: this.quarantine.stateMachine,
      escalate: this.escalate.stateMachine,
      // approved exceptions reach the agents as signed documents in the policy store
      ...(this.policyStore ? { exceptionPublishing: {
        bucket: this.policyStore.bucket, prefix: p.policyStore!.prefix, signingKey: this.policyStore.exceptionsSigningKey,
        ...(p.policyStore!.exceptionsPublicKeyPem ? { publicKeyPem: p.policyStore!.exceptionsPublicKeyPem } : {}),
      } } : {}),
    });
    this.routeDecisions('escalate', this.escalate.stateMachine, 'EscalateRule');
    this.routeDecisions('quarantine', this.quarantine.stateMachine, 'QuarantineRule');
    this.routeDecisions('approve', this.approval.stateMachine, 'ApprovalRule');
    for (const wf of [this.quarantine, this.restore, this.escalate, this.approval]) {
      this.onlyProtectedResources(wf);
      this.acknowledgeWorkflowFindings(wf);
    }

    // ---- Slack interactivity endpoint ----------------------------------------------------------------
    this.slackInteractivity = this.nodeFunction('SlackInteractivity', {
      entry: join(REPO_ROOT, 'workflows/slack/interactivity.ts'),
      description: 'Warden Slack interactivity: verifies the signature, checks the approver, answers the waiting workflow',
      memorySize: 256,
      timeout: Duration.seconds(10),
      environment: {
        [TABLES.approvals.env]: this.tables.approvals.tableName,
        [TABLES.audit.env]: this.tables.audit.tableName,
        [SLACK_SECRET_ENV.signingSecret]: this.slackSigningSecret.secretArn,
        [SLACK_SECRET_ENV.botToken]: this.slackBotToken.secretArn,
        [APPROVERS_CONFIG_ENV]: approversEnvValue(this.approval.config),
      },
    });
    const slackRole = this.slackInteractivity.role!;
    this.slackSigningSecret.grantRead(slackRole);
    this.slackBotToken.grantRead(slackRole);
    slackRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:PutItem'], resources: [this.tables.approvals.tableArn] }));
    slackRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['dynamodb:PutItem'], resources: [this.tables.audit.tableArn] }));
    this.approval.stateMachine.grantTaskResponse(slackRole);
    this.escalate.stateMachine.grantTaskResponse(slackRole);
    const accessLogs = new logs.LogGroup(this, 'SlackApiAccessLogs', { retention: p.engine.logRetentionDays as logs.RetentionDays, removalPolicy: p.removalPolicy });
    this.slackApi = new apigw.HttpApi(this, 'SlackApi', { description: 'Warden: Slack interactivity (Request URL)', createDefaultStage: false });
    new apigw.HttpStage(this, 'SlackApiStage', {
      httpApi: this.slackApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: 20, burstLimit: 40 },
      accessLogSettings: { destination: new apigw.LogGroupLogDestination(accessLogs) },
    });
    this.slackApi.addRoutes({
      path: '/slack/interactivity',
      methods: [apigw.HttpMethod.POST],
      integration: new HttpLambdaIntegration('SlackInteractivityIntegration', this.slackInteractivity),
    });
    Validations.of(this.slackApi).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason: 'Slack cannot send IAM or JWT credentials; every request is authenticated by its Slack v0 signature (HMAC with the signing secret) before anything is read.',
    });

    // the agent layer is always built, so functions in other stacks and accounts can use it
    void this.agentLayer;

    new CfnOutput(this, 'SlackInteractivityUrl', { value: `${this.slackApi.apiEndpoint}/slack/interactivity`, description: 'paste into the Slack app: Interactivity & Shortcuts → Request URL' });
    new CfnOutput(this, 'RestoreStateMachineArn', {
      value: this.restore.stateMachine.stateMachineArn,
      description: 'start on demand to undo a quarantine: {"incidentId":"inc-…","dryRun":true}',
    });
    new CfnOutput(this, 'NotificationsTopicArn', { value: this.notifications.topicArn, description: 'subscribe to quarantine/restore reports' });
    new CfnOutput(this, 'EventBusName', { value: this.bus.eventBusName, description: 'bus the Warden agents publish to' });
    new CfnOutput(this, 'RulesLayerArn', { value: this.rulesLayer.layerVersionArn, description: 'layer holding the compiled rules at /opt/warden/policy.json' });
    new CfnOutput(this, 'PolicyVersion', { value: bundle.policyVersion, description: 'version of the rules compiled into this deployment' });
    this.acknowledgeFindings();
  }

  /**
   * The agent as a Lambda layer: `warden/agent/register` at /opt/nodejs/node_modules/warden,
   * built with esbuild at synth (infra/agent-layer.ts: the agent, and the policy store and the
   * EventBridge client as files of their own, so a cold start parses only the agent).
   */
  get agentLayer(): lambda.LayerVersion {
    if (this.agentLayerVersion) return this.agentLayerVersion;
    const dir = mkdtempSync(join(tmpdir(), 'warden-agent-layer-'));
    writeAgentLayer(dir, { build: Stack.of(this).bundlingRequired });
    this.agentLayerVersion = new lambda.LayerVersion(this, 'AgentLayer', {
      code: lambda.Code.fromAsset(dir),
      compatibleRuntimes: [lambda.Runtime.NODEJS_20_X, lambda.Runtime.NODEJS_22_X],
      description: 'Warden agent: NODE_OPTIONS=--require warden/agent/register',
    });
    new CfnOutput(this, 'AgentLayerArn', { value: this.agentLayerVersion.layerVersionArn, description: 'the Warden agent layer (add it with the rules layer, see infra/README.md)' });
    return this.agentLayerVersion;
  }

  /**
   * Puts a function under Warden: adds the agent and rules layers, loads the agent before the
   * handler (`NODE_OPTIONS`), tags the function and its role with the protected tag (the bus
   * accepts agent events only from tagged principals; quarantine may act only on tagged
   * resources) and lets the role publish `warden.agent` events. Replaces NODE_OPTIONS.
   */
  protect(fn: lambda.Function, opts: ProtectOptions = {}): void {
    if (fn.node.path === this.node.path || fn.node.path.startsWith(`${this.node.path}/`)) {
      throw new WardenPropsError(`protect(${fn.node.path}): Warden's own functions cannot be protected by Warden (its workflows must never act on Warden itself)`);
    }
    if (fn.runtime.family !== lambda.RuntimeFamily.NODEJS) {
      throw new WardenPropsError(`protect(${fn.node.path}): the Warden agent runs on Node.js functions only, this one uses ${fn.runtime.name}`);
    }
    const { key, value } = this.props.protectedTag;
    fn.addLayers(this.agentLayer, this.rulesLayer);
    fn.addEnvironment('NODE_OPTIONS', `--require ${AGENT_REQUIRE}`);
    fn.addEnvironment('WARDEN_POLICY', RULES_BUNDLE_PATH);
    fn.addEnvironment('WARDEN_EVENT_BUS', this.bus.eventBusArn);
    if (opts.mode) fn.addEnvironment('WARDEN_MODE', opts.mode);
    Tags.of(fn).add(key, value);
    const role = fn.role;
    if (role instanceof iam.Role) Tags.of(role).add(key, value);
    else {
      Annotations.of(fn).addWarningV2('warden:protect-untagged-role', `tag the role of ${fn.node.path} with ${key}=${value}: the Warden bus rejects agent events from untagged principals`);
    }
    role?.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['events:PutEvents'],
        resources: [this.bus.eventBusArn],
        conditions: { StringEquals: { 'events:source': ACCESS_EVENT_SOURCE } },
      }),
    );
    this.readPolicyStore(fn);
    // approved exceptions (signed with their own key) are honoured once that key is pinned
    const exceptionsKey = this.props.policyStore?.exceptionsPublicKeyPem;
    if (exceptionsKey && this.policyStoreEnv.WARDEN_POLICY_STORE) fn.addEnvironment('WARDEN_EXCEPTIONS_PUBLIC_KEY', exceptionsKey);
  }

  private buildPolicyStore(ps: NonNullable<ResolvedWardenProps['policyStore']>): NonNullable<Warden['policyStore']> {
    const accessLogs = new s3.Bucket(this, 'PolicyStoreAccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      // S3 log delivery writes with the log-delivery ACL unless the app sets the bucket-policy feature flag
      objectOwnership: s3.ObjectOwnership.OBJECT_WRITER,
      removalPolicy: this.props.removalPolicy,
    });
    Validations.of(accessLogs).acknowledge({ id: 'AwsSolutions-S1', reason: 'This bucket receives the server access logs of the policy store; logging it again would recurse.' });
    const bucket = new s3.Bucket(this, 'PolicyStore', {
      versioned: true,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'policy-store/',
      removalPolicy: this.props.removalPolicy,
    });
    const signingKey = this.signingKey('PolicySigningKey', 'Warden: signs published rules bundles (warden rules publish)',
      'agents pin the public key, so a new key is rolled out by publishing with both keys trusted.');
    const objects = bucket.arnForObjects(`${ps.prefix}/*`);
    const publisher = new iam.Role(this, 'PolicyPublisherRole', {
      assumedBy: new iam.AccountRootPrincipal(),
      description: 'Warden: publish signed rules bundles (CI on main); assume it from a principal your IAM policies allow',
    });
    publisher.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['kms:Sign', 'kms:GetPublicKey'], resources: [signingKey.keyArn] }));
    publisher.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject', 's3:PutObject'], resources: [objects] }));
    Validations.of(publisher).acknowledge({
      id: bucketObjectsFinding(this, bucket, `${ps.prefix}/*`),
      reason: 'Bundles, signatures and the pointer are objects under the store prefix; names carry the policy version.',
    });
    const url = `s3://${bucket.bucketName}/${ps.prefix}`;
    if (ps.publicKeyPem) {
      Object.assign(this.policyStoreEnv, {
        WARDEN_POLICY_STORE: url,
        WARDEN_POLICY_PUBLIC_KEY: ps.publicKeyPem,
        WARDEN_POLICY_REFRESH_MS: String(ps.refresh.toMilliseconds()),
        WARDEN_POLICY_BUCKET_OWNER: Aws.ACCOUNT_ID,
      });
    }
    new CfnOutput(this, 'PolicyStoreUrl', { value: url, description: 'WARDEN_POLICY_STORE for warden rules publish' });
    new CfnOutput(this, 'PolicySigningKeyArn', { value: signingKey.keyArn, description: 'WARDEN_KMS_KEY_ID for warden rules publish; export its public key with warden keys public and pin it (policyStore.publicKeyPem)' });
    new CfnOutput(this, 'PolicyPublisherRoleArn', { value: publisher.roleArn, description: 'role CI assumes to publish bundles' });
    // a key of its own for approved exceptions: the approval workflow can sign them, never a bundle or pointer
    const exceptionsSigningKey = this.signingKey('ExceptionsSigningKey', 'Warden: signs approved-exception documents (approval workflow); agents trust it for nothing else',
      'agents pin the public key (WARDEN_EXCEPTIONS_PUBLIC_KEY, several may be trusted during a rotation).');
    new CfnOutput(this, 'ExceptionsSigningKeyArn', { value: exceptionsSigningKey.keyArn, description: 'signs approved exceptions; export its public key with warden keys public and pin it (policyStore.exceptionsPublicKeyPem)' });
    return { bucket, signingKey, publisher, url, exceptionsSigningKey };
  }

  /** An asymmetric P-256 signing key; `pinning` completes the reason it cannot rotate automatically. */
  private signingKey(id: string, description: string, pinning: string): kms.Key {
    const key = new kms.Key(this, id, { description, keySpec: kms.KeySpec.ECC_NIST_P256, keyUsage: kms.KeyUsage.SIGN_VERIFY, removalPolicy: this.props.removalPolicy });
    Validations.of(key).acknowledge({ id: 'AwsSolutions-KMS5', reason: `Asymmetric (SIGN_VERIFY) KMS keys cannot rotate automatically; ${pinning}` });
    return key;
  }

  /** Points a function at the signed policy store (once a public key is pinned) and lets it read the store. */
  private readPolicyStore(fn: lambda.Function): void {
    if (!this.policyStore || Object.keys(this.policyStoreEnv).length === 0) return;
    for (const [k, v] of Object.entries(this.policyStoreEnv)) fn.addEnvironment(k, v);
    const objects = this.policyStore.bucket.arnForObjects(`${this.props.policyStore!.prefix}/*`);
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [objects] }));
    if (fn.role) {
      Validations.of(fn.role).acknowledge({
        id: bucketObjectsFinding(this, this.policyStore.bucket, `${this.props.policyStore!.prefix}/*`),
        reason: 'Reads the signed bundles and pointer under the policy store prefix (object names carry the policy version).',
      });
    }
  }

  // ---- building blocks ----------------------------------------------------------------------------

  private table(id: string, partitionKey: string, sortKey: string | undefined, ttl: string | undefined): dynamodb.Table {
    return new dynamodb.Table(this, id, {
      partitionKey: { name: partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: sortKey ? { name: sortKey, type: dynamodb.AttributeType.STRING } : undefined,
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: this.props.removalPolicy === 'retain',
      timeToLiveAttribute: ttl,
      removalPolicy: this.props.removalPolicy,
    });
  }

  /** An encrypted, TLS-only dead-letter queue with an alarm on its first message. */
  deadLetterQueue(name: string, what: string): sqs.Queue {
    const queue = new sqs.Queue(this, `${name}Dlq`, {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: this.props.targets.deadLetterRetention,
    });
    Validations.of(queue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue IS a dead-letter queue (of an EventBridge target or a Lambda); it is alarmed and drained by an operator.',
    });
    const alarm = new cloudwatch.Alarm(this, `${name}DlqAlarm`, {
      alarmDescription: `Warden: ${what}. Inspect the messages in the queue, fix the cause, then redrive them.`,
      metric: queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (this.props.alarmTopic) alarm.addAlarmAction(new cwActions.SnsAction(this.props.alarmTopic));
    this.alarms.push(alarm);
    this.deadLetterQueues[name] = queue;
    return queue;
  }

  private engineErrorsAlarm(): void {
    const alarm = new cloudwatch.Alarm(this, 'EngineErrorsAlarm', {
      alarmDescription: 'Warden: the rules engine is failing (decisions are being retried; check its logs)',
      metric: this.engine.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (this.props.alarmTopic) alarm.addAlarmAction(new cwActions.SnsAction(this.props.alarmTopic));
    this.alarms.push(alarm);
  }

  /** An alarm on a Powertools metric of the engine (EMF, dimension `service`). */
  private engineMetricAlarm(id: string, metricName: string, what: string): void {
    const alarm = new cloudwatch.Alarm(this, id, {
      alarmDescription: `Warden: ${what}`,
      metric: new cloudwatch.Metric({
        namespace: this.props.engine.metricsNamespace,
        metricName,
        dimensionsMap: { service: 'warden-engine' },
        period: Duration.minutes(5),
        statistic: 'Sum',
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (this.props.alarmTopic) alarm.addAlarmAction(new cwActions.SnsAction(this.props.alarmTopic));
    this.alarms.push(alarm);
  }

  /**
   * A NodejsFunction on nodejs22.x bundled locally by esbuild (no Docker), with its own role and
   * log group (no managed policies: it may write only its own logs).
   */
  nodeFunction(id: string, opts: Omit<nodejs.NodejsFunctionProps, 'runtime' | 'role' | 'logGroup' | 'bundling' | 'handler'>): nodejs.NodejsFunction {
    const logGroup = new logs.LogGroup(this, `${id}Logs`, {
      retention: this.props.engine.logRetentionDays as logs.RetentionDays,
      removalPolicy: this.props.removalPolicy,
    });
    const role = new iam.Role(this, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Warden ${id} function`,
    });
    // the log group's Arn attribute ends in ":*", which covers its streams and nothing else
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] }));
    return new nodejs.NodejsFunction(this, id, {
      ...opts,
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
      bundling: {
        // The SDK is bundled: the code that runs is the code we tested (the runtime's copy lags and
        // varies by region); minified and tree-shaken, the engine is ~1.4 MB with Powertools and zod.
        bundleAwsSDK: true,
        minify: true,
        sourceMap: true,
        target: 'node22',
        format: nodejs.OutputFormat.CJS,
        logLevel: nodejs.LogLevel.ERROR,
      },
      environment: { NODE_OPTIONS: '--enable-source-maps', ...opts.environment },
    });
  }

  private grantEngine(role: iam.IRole): void {
    // publish decisions only, under the engine's own source
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['events:PutEvents'],
        resources: [this.bus.eventBusArn],
        conditions: { StringEquals: { 'events:source': DECISION_EVENT_SOURCE } },
      }),
    );
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['dynamodb:PutItem'], resources: [this.tables.audit.tableArn] }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['dynamodb:Query', 'dynamodb:GetItem'], resources: [this.tables.exceptions.tableArn] }));
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
        resources: [this.idempotencyTable.tableArn],
      }),
    );
  }

  /**
   * Only principals carrying the protected tag (the protected functions' roles) may publish
   * `warden.agent` events, from this account or `agentAccounts`; only the engine may publish
   * `warden.engine` decisions (a forged decision could quarantine a function).
   */
  private restrictPublishers(): void {
    const p = this.props;
    const accounts = [Aws.ACCOUNT_ID, ...p.agentAccounts];
    if (p.agentAccounts.length > 0) {
      this.bus.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'AgentAccountsMayPublishAgentEvents',
          effect: iam.Effect.ALLOW,
          principals: p.agentAccounts.map((a) => new iam.AccountPrincipal(a)),
          actions: ['events:PutEvents'],
          resources: [this.bus.eventBusArn],
          conditions: {
            StringEquals: { 'events:source': ACCESS_EVENT_SOURCE },
            Null: { [`aws:PrincipalTag/${p.protectedTag.key}`]: 'false' },
          },
        }),
      );
    }
    this.bus.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyProtectedPrincipalsPublishAgentEvents',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['events:PutEvents'],
        resources: [this.bus.eventBusArn],
        conditions: {
          StringEquals: { 'events:source': ACCESS_EVENT_SOURCE },
          // the tag's presence marks a protected principal, as it marks a resource the workflows may act on
          Null: { [`aws:PrincipalTag/${p.protectedTag.key}`]: 'true' },
        },
      }),
    );
    this.bus.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AgentEventsOnlyFromKnownAccounts',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['events:PutEvents'],
        resources: [this.bus.eventBusArn],
        conditions: { StringEquals: { 'events:source': ACCESS_EVENT_SOURCE }, StringNotEquals: { 'aws:PrincipalAccount': accounts } },
      }),
    );
    this.bus.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyTheEnginePublishesDecisions',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['events:PutEvents'],
        resources: [this.bus.eventBusArn],
        conditions: { StringEquals: { 'events:source': DECISION_EVENT_SOURCE }, ArnNotEquals: { 'aws:PrincipalArn': this.engine.role!.roleArn } },
      }),
    );
  }

  private slackSecret(id: string, secret: secretsmanager.ISecret | undefined, arn: string | undefined, name: string, description: string): secretsmanager.ISecret {
    if (secret) return secret;
    if (arn) return secretsmanager.Secret.fromSecretCompleteArn(this, id, arn);
    // Created with a random placeholder; set the real value after deploy (see infra/README.md).
    const created = new secretsmanager.Secret(this, id, { secretName: name, description: `Warden: ${description}. Set it with aws secretsmanager put-secret-value.` });
    Validations.of(created).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason: 'Slack signing secrets and bot tokens are issued by Slack and cannot be rotated by a Lambda; rotate them in the Slack app and put the new value.',
    });
    return created;
  }

  /**
   * Routes `Policy Decision` events whose `detail.response` is `response` to a state machine,
   * started with the whole event (the workflows read the decision from `detail`), with a
   * dead-letter queue and retry policy.
   */
  routeDecisions(response: ResponseAction, machine: sfn.IStateMachine, id: string): events.Rule {
    const rule = new events.Rule(this, id, {
      eventBus: this.bus,
      description: `Policy Decision events with response "${response}"`,
      eventPattern: { source: [DECISION_EVENT_SOURCE], detailType: [DECISION_EVENT_DETAIL_TYPE], detail: { response: [response] } },
    });
    const dlq = this.deadLetterQueue(`${id.replace(/Rule$/, '')}Target`, `"${response}" decisions EventBridge could not deliver to the state machine`);
    rule.addTarget(new targets.SfnStateMachine(machine, { deadLetterQueue: dlq, retryAttempts: this.props.targets.retryAttempts, maxEventAge: this.props.targets.maxEventAge }));
    this.decisionRules[response] = rule;
    return rule;
  }

  /** An SNS topic encrypted with the AWS-managed SNS key, TLS only. */
  private topic(id: string, displayName: string): sns.Topic {
    return new sns.Topic(this, id, {
      displayName: displayName.slice(0, 100),
      masterKey: kms.Alias.fromAliasName(this, `${id}Key`, 'alias/aws/sns'),
      enforceSSL: true,
    });
  }

  /** Reads and validates a YAML config of the rules directory (approvers.yaml, escalation.yaml). */
  private rulesConfig<T>(file: string, parse: (text: string, file: string) => T): T {
    const path = join(this.props.rulesDir, file);
    if (!existsSync(path)) {
      throw new WardenPropsError(`${path} is missing: the response workflows need it (see the ${file} shipped in rules/ for the format)`);
    }
    try {
      return parse(readFileSync(path, 'utf8'), path);
    } catch (err) {
      throw new WardenPropsError(`${path} is invalid: ${(err as Error).message}`, { cause: err });
    }
  }

  /**
   * Defence in depth around the workflows' own code guardrails: every role in a workflow is
   * denied any change to a role or function that does NOT carry the protected tag (the Deny wins
   * over the workflows' Allow statements on role/* and function:*). Warden's own resources are
   * additionally denied by the workflows themselves (component tag).
   */
  private onlyProtectedResources(workflow: Construct): void {
    const key = this.props.protectedTag.key;
    for (const c of workflow.node.findAll()) {
      if (!(c instanceof iam.Role)) continue;
      c.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'OnlyProtectedRoles',
          effect: iam.Effect.DENY,
          actions: PROTECTED_ROLE_ACTIONS,
          resources: ['*'],
          conditions: { Null: { [`iam:ResourceTag/${key}`]: 'true' } },
        }),
      );
      c.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'OnlyProtectedFunctions',
          effect: iam.Effect.DENY,
          actions: PROTECTED_FUNCTION_ACTIONS,
          resources: ['*'],
          conditions: { Null: { [`aws:ResourceTag/${key}`]: 'true' } },
        }),
      );
    }
  }

  /**
   * cdk-nag findings inside the workflow constructs that are inherent to what they do; each
   * acknowledgement says why it is safe. Anything else still fails the check.
   */
  private acknowledgeWorkflowFindings(workflow: Construct): void {
    const v = Validations.of(workflow);
    v.acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'Only actions without resource-level permissions use "*": X-Ray trace submission, CloudWatch Logs delivery for Step Functions logging, lambda:ListEventSourceMappings (read). The suite asserts no mutating action is allowed on "*".',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:role/*]',
        reason: 'An incident names the role at run time. The OnlyProtectedRoles Deny confines every change to roles tagged with the protected tag, and NeverTouchWardenRoles excludes Warden\'s own roles.',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:lambda:<AWS::Region>:<AWS::AccountId>:function:*]',
        reason: 'An incident names the function at run time. The OnlyProtectedFunctions Deny confines every change to functions tagged with the protected tag, and NeverTouchWardenFunctions excludes Warden\'s own.',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:lambda:<AWS::Region>:<AWS::AccountId>:event-source-mapping:*]',
        reason: 'Event source mappings of the quarantined function are disabled (and re-enabled on restore); their UUIDs exist only at run time and the code acts only on mappings of a protected function.',
      },
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: 'Workflow task functions use the CDK default execution role; AWSLambdaBasicExecutionRole grants only CloudWatch Logs writes.',
      },
    );
    // LambdaInvoke grants lambda:InvokeFunction on the task function and its versions (`<arn>:*`)
    for (const c of workflow.node.findAll()) {
      if (c instanceof lambda.Function) {
        const id = Stack.of(this).getLogicalId(c.node.defaultChild as lambda.CfnFunction);
        v.acknowledge({ id: `AwsSolutions-IAM5[Resource::<${id}.Arn>:*]`, reason: 'The state machine invokes the workflow\'s own task function; ":*" covers its versions and aliases only.' });
      }
    }
  }

  private acknowledgeFindings(): void {
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'Warden targets nodejs22.x on purpose: it is the runtime the engine, agent and workflows are built and tested for.',
    });
  }
}
