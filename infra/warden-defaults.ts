import { Duration, RemovalPolicy } from 'aws-cdk-lib';

/**
 * Every default of the `Warden` construct, in one place. `resolveWardenProps` (warden-props.ts)
 * merges the user's props over these and validates the result.
 */
export const WARDEN_DEFAULTS = {
  /** name of the custom event bus agents publish to */
  busName: 'warden',
  /** how long the bus archive keeps events (decisions can be replayed after a rule change) */
  archiveRetention: Duration.days(90),
  /** tag that marks a role or function Warden may quarantine/restore; Warden never touches anything else */
  protectedTag: { key: 'warden:protected', value: 'true' },
  /** tag Warden puts on all its own resources; its workflows are denied any action on them */
  ownTag: { key: 'warden:component', value: 'warden' },
  targets: {
    /** EventBridge retries per target before the event goes to the target's dead-letter queue */
    retryAttempts: 8,
    maxEventAge: Duration.hours(2),
    /** how long the dead-letter queues keep failed events */
    deadLetterRetention: Duration.days(14),
  },
  engine: {
    memorySize: 512,
    timeout: Duration.seconds(30),
    /** exceptions granted by approvals are re-read at most this often per Lambda instance */
    exceptionCacheTtl: Duration.seconds(30),
    /** idempotency records (keyed on the EventBridge event id) expire after this */
    idempotencyTtl: Duration.hours(3),
    logRetentionDays: 90,
    /** CloudWatch metrics namespace for Powertools metrics */
    metricsNamespace: 'Warden',
  },
  tables: {
    removalPolicy: RemovalPolicy.RETAIN,
  },
  slack: {
    /** secret names (Secrets Manager) created when no existing secret is passed */
    signingSecretName: 'warden/slack/signing-secret',
    botTokenSecretName: 'warden/slack/bot-token',
  },
} as const;

export type WardenDefaults = typeof WARDEN_DEFAULTS;
