/**
 * The rules-engine Lambda: wiring only. Parses the EventBridge envelope (Powertools parser
 * schema, zod), is idempotent on the EventBridge event id (Powertools idempotency, DynamoDB
 * persistence), and hands the access event to `processAccessEvents` (core.ts). Any failure
 * throws, so Lambda retries the invocation and then parks it in the failure queue.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { EventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/eventbridge';
import { z } from 'zod';
import { ACCESS_EVENT_DETAIL_TYPE, ACCESS_EVENT_SOURCE } from '../events/access-event';
import { dynamoAuditSink } from './audit-sink';
import { processAccessEvents, type EngineDeps, type EngineLogger, type EngineResult, type Evaluate } from './core';
import { EngineConfigError, EnvelopeError } from './errors';
import { dynamoExceptionSource, type ExceptionRecord, type ExceptionSource } from './exceptions';
import { engineEvaluatorFromEnv } from '../distribution/engine-source';
import { evaluatorFor, loadEvaluator } from './evaluator';
import { putEventsPublisher } from './publisher';
import { TtlCache } from './ttl-cache';

/** The Lambda context, as Powertools takes it (no @types/aws-lambda needed). */
type Context = Parameters<IdempotencyConfig['registerLambdaContext']>[0];

type LogAttributes = Parameters<Logger['appendKeys']>[0];
/** Adapts the Powertools logger to the core's small logger port. */
export function loggerPort(logger: Logger): EngineLogger {
  return {
    info: (m, extra) => logger.info(m, (extra ?? {}) as LogAttributes),
    warn: (m, extra) => logger.warn(m, (extra ?? {}) as LogAttributes),
    error: (m, extra) => logger.error(m, (extra ?? {}) as LogAttributes),
  };
}

export const EngineEnvSchema = z.object({
  WARDEN_EVENT_BUS: z.string().min(1),
  WARDEN_RULES_BUNDLE: z.string().min(1),
  WARDEN_AUDIT_TABLE: z.string().min(1),
  WARDEN_EXCEPTION_TABLE: z.string().min(1),
  WARDEN_IDEMPOTENCY_TABLE: z.string().min(1),
  WARDEN_IDEMPOTENCY_TTL_SECONDS: z.coerce.number().int().positive().default(10800),
  WARDEN_EXCEPTION_CACHE_MS: z.coerce.number().int().min(0).default(30000),
});
export type EngineEnv = z.infer<typeof EngineEnvSchema>;

/** The envelope: an EventBridge event from the agents carrying an access event in `detail`. */
export const AccessEnvelopeSchema = EventBridgeSchema.extend({
  source: z.literal(ACCESS_EVENT_SOURCE),
  'detail-type': z.literal(ACCESS_EVENT_DETAIL_TYPE),
});

export function parseEngineEnv(env: Record<string, string | undefined>): EngineEnv {
  const r = EngineEnvSchema.safeParse(env);
  if (!r.success) {
    const what = r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new EngineConfigError(`rules-engine environment is invalid (${what}); it is set by the Warden construct — redeploy the stack`);
  }
  return r.data;
}

/** Parses the envelope; a non-agent or malformed envelope is a routing/config error, not a decision. */
export function parseEnvelope(event: unknown): z.infer<typeof AccessEnvelopeSchema> {
  const r = AccessEnvelopeSchema.safeParse(event);
  if (!r.success) {
    const what = r.error.issues.map((i) => `${i.path.join('.') || '(event)'}: ${i.message}`).join('; ');
    throw new EnvelopeError(`not an EventBridge "${ACCESS_EVENT_DETAIL_TYPE}" event from ${ACCESS_EVENT_SOURCE}: ${what}`);
  }
  return r.data;
}

export interface HandlerOverrides {
  dynamo?: DynamoDBClient;
  eventBridge?: EventBridgeClient;
  evaluate?: Evaluate;
  now?: () => number;
  logger?: Logger;
  metrics?: Metrics;
}

/** Caches exception lookups per function for `ttlMs` (approvals take effect within that delay). */
export function cachedExceptions(source: ExceptionSource, ttlMs: number, now: () => number): ExceptionSource {
  const cache = new TtlCache<string, ExceptionRecord[]>((fn) => source.forFunction(fn), ttlMs, now);
  return { forFunction: (fn) => cache.get(fn) };
}

export function createHandler(env: Record<string, string | undefined>, o: HandlerOverrides = {}) {
  const cfg = parseEngineEnv(env);
  const logger = o.logger ?? new Logger({ serviceName: 'warden-engine' });
  const metrics = o.metrics ?? new Metrics({ serviceName: 'warden-engine' });
  const now = o.now ?? (() => Date.now());
  const dynamo = o.dynamo ?? new DynamoDBClient({});
  const doc = DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } });
  const count = (name: string, value = 1) => metrics.addMetric(name, MetricUnit.Count, value);
  // the packaged bundle, or (WARDEN_POLICY_STORE set) the signed bundle published to the store
  const evaluate = o.evaluate ?? engineEvaluatorFromEnv(env, {
    bundlePath: cfg.WARDEN_RULES_BUNDLE,
    log: loggerPort(logger),
    count: (name) => count(name),
    packaged: loadEvaluator,
    build: (policy) => evaluatorFor(policy),
  });
  const deps: EngineDeps = {
    evaluate,
    exceptions: cachedExceptions(
      dynamoExceptionSource(doc, cfg.WARDEN_EXCEPTION_TABLE, (item, error) => logger.warn('skipping malformed exception record', { item: JSON.stringify(item), error })),
      cfg.WARDEN_EXCEPTION_CACHE_MS,
      now,
    ),
    audit: dynamoAuditSink(doc, cfg.WARDEN_AUDIT_TABLE, now),
    publisher: putEventsPublisher({ client: o.eventBridge ?? new EventBridgeClient({}), busName: cfg.WARDEN_EVENT_BUS }),
    now,
    log: loggerPort(logger),
    metrics: { count },
  };

  const persistenceStore = new DynamoDBPersistenceLayer({ tableName: cfg.WARDEN_IDEMPOTENCY_TABLE, awsSdkV3Client: dynamo });
  const config = new IdempotencyConfig({ eventKeyJmesPath: 'id', expiresAfterSeconds: cfg.WARDEN_IDEMPOTENCY_TTL_SECONDS, throwOnNoIdempotencyKey: true });

  const decide = makeIdempotent(
    async (event: unknown): Promise<{ eventId: string; counts: EngineResult['counts']; decisionIds: string[] }> => {
      const envelope = parseEnvelope(event);
      logger.appendKeys({ eventId: envelope.id });
      const result = await processAccessEvents([envelope.detail], deps);
      return { eventId: envelope.id, counts: result.counts, decisionIds: result.decisions.map((d) => d.decisionId) };
    },
    { persistenceStore, config },
  );

  return async (event: unknown, context: Context) => {
    config.registerLambdaContext(context);
    logger.addContext(context);
    try {
      return await decide(event);
    } catch (err) {
      logger.error('rules engine invocation failed; Lambda will retry, then park it in the failure queue', err as Error);
      metrics.addMetric('InvocationFailed', MetricUnit.Count, 1);
      throw err;
    } finally {
      metrics.publishStoredMetrics();
      logger.resetKeys();
    }
  };
}

let cached: ReturnType<typeof createHandler> | undefined;

/** The Lambda entry point (built on first use so a config error is reported on every invocation). */
export const handler = async (event: unknown, context: Context) => {
  cached ??= createHandler(process.env);
  return cached(event, context);
};
