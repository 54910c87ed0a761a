import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { WARDEN_DEFAULTS } from './warden-defaults';

/**
 * Slack app wiring. Channels and approvers live in the rules (approvers.yaml, escalation.yaml).
 * Secret VALUES never pass through CDK: give an existing secret, or let Warden create one whose
 * value you set after deploy.
 */
export interface WardenSlackProps {
  /** existing secret holding the Slack signing secret (plain string) */
  readonly signingSecret?: secretsmanager.ISecret;
  /** ARN of an existing secret holding the Slack signing secret (alternative to `signingSecret`) */
  readonly signingSecretArn?: string;
  /** existing secret holding the bot token (`xoxb-…`) */
  readonly botToken?: secretsmanager.ISecret;
  /** ARN of an existing secret holding the bot token (alternative to `botToken`) */
  readonly botTokenArn?: string;
}

/**
 * The signed policy store (`warden rules publish`): an S3 bucket and a KMS signing key are created;
 * once `publicKeyPem` (from `warden keys public`) is given, the engine and protected functions
 * enforce the newest verified bundle in the store instead of waiting for a deploy.
 */
export interface WardenPolicyStoreProps {
  /** the trusted public key (PEM), exported once from the created KMS key; pinned, never fetched */
  readonly publicKeyPem?: string;
  /** key prefix in the bucket (default `policy`) */
  readonly prefix?: string;
  /** how often a running function checks the store (default 1 minute) */
  readonly refresh?: Duration;
  /**
   * the public key (PEM) of the exceptions signing key (output ExceptionsSigningKeyArn; export it
   * with `warden keys public`): once pinned, protected functions honour approved exceptions from
   * the store (WARDEN_EXCEPTIONS_PUBLIC_KEY) and the publisher needs no kms:GetPublicKey
   */
  readonly exceptionsPublicKeyPem?: string;
}

export interface WardenTargetProps {
  /** retries per EventBridge target before the event lands in its dead-letter queue (0–185) */
  readonly retryAttempts?: number;
  /** oldest event EventBridge keeps retrying (60 s – 24 h) */
  readonly maxEventAge?: Duration;
  /** how long dead-letter queues keep failed events (60 s – 14 days) */
  readonly deadLetterRetention?: Duration;
}

export interface WardenEngineProps {
  readonly memorySize?: number;
  readonly timeout?: Duration;
  readonly exceptionCacheTtl?: Duration;
  readonly idempotencyTtl?: Duration;
  readonly logRetentionDays?: number;
  readonly metricsNamespace?: string;
}

export interface WardenProps {
  /** the rules directory (see rules/), compiled at synth and shipped as a Lambda layer */
  readonly rules: string;
  /** Slack secrets (default: Warden creates both secrets; you put their values after deploy) */
  readonly slack?: WardenSlackProps;
  /** SNS topics the escalation tiers page, by the key `rules/escalation.yaml` uses (`sns: oncall-pager`) */
  readonly topics?: Record<string, sns.ITopic>;
  /** name of the event bus (default `warden`) */
  readonly busName?: string;
  /** how long the bus archive keeps events (default 90 days; at least 1 day) */
  readonly archiveRetention?: Duration;
  /**
   * Other AWS accounts whose protected functions publish agent events to this bus. Events with
   * source `warden.agent` are accepted only from principals tagged with the protected tag, in this
   * account or in these.
   */
  readonly agentAccounts?: string[];
  /** the tag marking roles/functions Warden may quarantine and restore (default `warden:protected=true`) */
  readonly protectedTag?: { key: string; value: string };
  readonly targets?: WardenTargetProps;
  readonly engine?: WardenEngineProps;
  /** SNS topic the dead-letter-queue and error alarms notify (default: alarms without actions) */
  readonly alarmTopic?: sns.ITopic;
  /** removal policy of the tables (default RETAIN: the audit trail outlives the stack) */
  readonly removalPolicy?: RemovalPolicy;
  /** the signed policy store for `warden rules publish` (default: none; rules ship with each deploy) */
  readonly policyStore?: WardenPolicyStoreProps;
}

/** Props after defaults are merged in and everything is validated. */
export interface ResolvedWardenProps {
  rulesDir: string;
  slack: WardenSlackProps;
  topics: Record<string, sns.ITopic>;
  busName: string;
  archiveRetention: Duration;
  agentAccounts: string[];
  protectedTag: { key: string; value: string };
  ownTag: { key: string; value: string };
  targets: Required<WardenTargetProps>;
  engine: Required<WardenEngineProps>;
  alarmTopic: sns.ITopic | undefined;
  removalPolicy: RemovalPolicy;
  policyStore: { publicKeyPem: string | undefined; prefix: string; refresh: Duration; exceptionsPublicKeyPem: string | undefined } | undefined;
}

export class WardenPropsError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(`Warden: ${message}`, options);
    this.name = 'WardenPropsError';
  }
}

const unresolved = (v: unknown) => Token.isUnresolved(v);

function checkDuration(name: string, d: Duration, min: Duration, max: Duration): void {
  if (unresolved(d.toSeconds({ integral: false }))) return;
  const s = d.toSeconds({ integral: false });
  if (s < min.toSeconds() || s > max.toSeconds()) {
    throw new WardenPropsError(`${name} must be between ${min.toHumanString()} and ${max.toHumanString()}, got ${d.toHumanString()}`);
  }
}

function checkInt(name: string, n: number, min: number, max: number): void {
  if (unresolved(n)) return;
  if (!Number.isInteger(n) || n < min || n > max) throw new WardenPropsError(`${name} must be an integer from ${min} to ${max}, got ${n}`);
}

const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/;
const BUS_NAME = /^[A-Za-z0-9._\-/]{1,256}$/;
const ACCOUNT = /^\d{12}$/;
const TOPIC_KEY = /^[A-Za-z0-9_-]{1,64}$/;

function checkSecretPair(slack: WardenSlackProps, what: 'signingSecret' | 'botToken'): void {
  const arnKey = what === 'signingSecret' ? 'signingSecretArn' : 'botTokenArn';
  const secret = slack[what];
  const arn = slack[arnKey];
  if (secret && arn !== undefined) {
    throw new WardenPropsError(`give slack.${what} or slack.${arnKey}, not both (they name the same secret)`);
  }
  if (arn !== undefined && !unresolved(arn) && !SECRET_ARN.test(arn)) {
    throw new WardenPropsError(
      `slack.${arnKey} must be a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>-<suffix>), got "${arn}". ` +
        'Never pass the secret value itself: store it in Secrets Manager and pass the ARN.',
    );
  }
  if (arn !== undefined && /xox[abp]-|^[0-9a-f]{32}$/.test(arn)) {
    throw new WardenPropsError(`slack.${arnKey} looks like a secret value, not an ARN: store it in Secrets Manager and pass the ARN`);
  }
}

/** Merges `props` over WARDEN_DEFAULTS and validates every prop and combination; throws WardenPropsError. */
export function resolveWardenProps(props: WardenProps | undefined, baseDir = process.cwd()): ResolvedWardenProps {
  const d = WARDEN_DEFAULTS;
  if (!props) throw new WardenPropsError('props are required: new Warden(this, "Warden", { rules: "./rules" })');
  if (typeof props.rules !== 'string' || props.rules.trim() === '') {
    throw new WardenPropsError('"rules" must be the path of your rules directory, e.g. rules: "./rules" (run `warden rules lint <dir>` to check it)');
  }
  const rulesDir = resolve(baseDir, props.rules);
  if (!existsSync(rulesDir)) throw new WardenPropsError(`rules directory ${rulesDir} does not exist (rules: "${props.rules}", resolved from ${baseDir})`);
  if (!statSync(rulesDir).isDirectory()) throw new WardenPropsError(`rules must be a directory, but ${rulesDir} is a file; point it at the folder holding global.yaml and functions/`);

  const slack = props.slack ?? {};
  if (typeof slack !== 'object') throw new WardenPropsError('"slack" must be an object such as { signingSecretArn, botTokenArn }');
  checkSecretPair(slack, 'signingSecret');
  checkSecretPair(slack, 'botToken');

  const topics = props.topics ?? {};
  for (const key of Object.keys(topics)) {
    if (!TOPIC_KEY.test(key)) throw new WardenPropsError(`topics keys are short names used in rules/escalation.yaml (letters, digits, _ -), got "${key}"`);
  }

  const busName = props.busName ?? d.busName;
  if (!unresolved(busName)) {
    if (busName === 'default') throw new WardenPropsError('busName cannot be "default": Warden needs its own bus so its resource policy and archive apply only to Warden events');
    if (!BUS_NAME.test(busName)) throw new WardenPropsError(`busName must be 1–256 characters of letters, digits, . _ - /, got "${busName}"`);
  }

  const archiveRetention = props.archiveRetention ?? d.archiveRetention;
  checkDuration('archiveRetention', archiveRetention, Duration.days(1), Duration.days(3650));

  const agentAccounts = props.agentAccounts ?? [];
  for (const a of agentAccounts) {
    if (!unresolved(a) && !ACCOUNT.test(a)) throw new WardenPropsError(`agentAccounts must hold 12-digit AWS account ids, got "${a}"`);
  }

  const protectedTag = props.protectedTag ?? d.protectedTag;
  if (!protectedTag.key || !protectedTag.value) throw new WardenPropsError('protectedTag needs a non-empty key and value, e.g. { key: "warden:protected", value: "true" }');
  if (protectedTag.key.toLowerCase().startsWith('aws:')) throw new WardenPropsError(`protectedTag.key "${protectedTag.key}" uses the reserved "aws:" prefix`);
  if (protectedTag.key === d.ownTag.key) {
    throw new WardenPropsError(`protectedTag.key cannot be "${d.ownTag.key}": Warden tags its own resources with it, and its workflows must never act on Warden itself`);
  }

  const targets = {
    retryAttempts: props.targets?.retryAttempts ?? d.targets.retryAttempts,
    maxEventAge: props.targets?.maxEventAge ?? d.targets.maxEventAge,
    deadLetterRetention: props.targets?.deadLetterRetention ?? d.targets.deadLetterRetention,
  };
  checkInt('targets.retryAttempts', targets.retryAttempts, 0, 185);
  checkDuration('targets.maxEventAge', targets.maxEventAge, Duration.minutes(1), Duration.hours(24));
  checkDuration('targets.deadLetterRetention', targets.deadLetterRetention, Duration.minutes(1), Duration.days(14));

  const engine = {
    memorySize: props.engine?.memorySize ?? d.engine.memorySize,
    timeout: props.engine?.timeout ?? d.engine.timeout,
    exceptionCacheTtl: props.engine?.exceptionCacheTtl ?? d.engine.exceptionCacheTtl,
    idempotencyTtl: props.engine?.idempotencyTtl ?? d.engine.idempotencyTtl,
    logRetentionDays: props.engine?.logRetentionDays ?? d.engine.logRetentionDays,
    metricsNamespace: props.engine?.metricsNamespace ?? d.engine.metricsNamespace,
  };
  checkInt('engine.memorySize', engine.memorySize, 128, 10240);
  checkDuration('engine.timeout', engine.timeout, Duration.seconds(1), Duration.minutes(15));
  checkDuration('engine.exceptionCacheTtl', engine.exceptionCacheTtl, Duration.seconds(0), Duration.minutes(15));
  checkDuration('engine.idempotencyTtl', engine.idempotencyTtl, Duration.minutes(1), Duration.days(7));
  if (engine.idempotencyTtl.toSeconds() < targets.maxEventAge.toSeconds()) {
    throw new WardenPropsError(
      `engine.idempotencyTtl (${engine.idempotencyTtl.toHumanString()}) must be at least targets.maxEventAge (${targets.maxEventAge.toHumanString()}), ` +
        'or a late EventBridge retry could be processed twice',
    );
  }
  const LOG_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];
  if (!LOG_DAYS.includes(engine.logRetentionDays)) throw new WardenPropsError(`engine.logRetentionDays must be one of ${LOG_DAYS.join(', ')}, got ${engine.logRetentionDays}`);

  let policyStore: ResolvedWardenProps['policyStore'];
  if (props.policyStore) {
    const ps = props.policyStore;
    const prefix = ps.prefix ?? 'policy';
    if (!/^[A-Za-z0-9][A-Za-z0-9/_.-]{0,200}$/.test(prefix) || prefix.endsWith('/')) {
      throw new WardenPropsError(`policyStore.prefix must be an S3 key prefix such as "policy" (letters, digits, / _ . -, no trailing slash), got "${prefix}"`);
    }
    if (ps.publicKeyPem !== undefined && !unresolved(ps.publicKeyPem) && !/-----BEGIN PUBLIC KEY-----[\s\S]+-----END PUBLIC KEY-----/.test(ps.publicKeyPem)) {
      throw new WardenPropsError('policyStore.publicKeyPem must be a PEM public key ("-----BEGIN PUBLIC KEY-----…"); export it with `warden keys public`. Never pass a private key.');
    }
    if (ps.exceptionsPublicKeyPem !== undefined && !unresolved(ps.exceptionsPublicKeyPem) && !/-----BEGIN PUBLIC KEY-----[\s\S]+-----END PUBLIC KEY-----/.test(ps.exceptionsPublicKeyPem)) {
      throw new WardenPropsError('policyStore.exceptionsPublicKeyPem must be a PEM public key ("-----BEGIN PUBLIC KEY-----…"); export it with `warden keys public --kms-key-id <ExceptionsSigningKeyArn>`. Never pass a private key.');
    }
    if (ps.exceptionsPublicKeyPem !== undefined && ps.publicKeyPem !== undefined && !unresolved(ps.exceptionsPublicKeyPem) && ps.exceptionsPublicKeyPem.trim() === ps.publicKeyPem.trim()) {
      throw new WardenPropsError('policyStore.exceptionsPublicKeyPem is the policy signing key: exceptions are signed with a key of their own (output ExceptionsSigningKeyArn), so the approval workflow can never sign a bundle or pointer');
    }
    const refresh = ps.refresh ?? Duration.minutes(1);
    checkDuration('policyStore.refresh', refresh, Duration.seconds(10), Duration.hours(24));
    policyStore = { publicKeyPem: ps.publicKeyPem, prefix, refresh, exceptionsPublicKeyPem: ps.exceptionsPublicKeyPem };
  }

  return {
    rulesDir,
    policyStore,
    slack,
    topics,
    busName,
    archiveRetention,
    agentAccounts,
    protectedTag,
    ownTag: { ...d.ownTag },
    targets,
    engine,
    alarmTopic: props.alarmTopic,
    removalPolicy: props.removalPolicy ?? d.tables.removalPolicy,
  };
}
