/** Agent configuration, read from the environment once and validated with clear errors. */
import { z } from 'zod';
import { ModeSchema, type Mode } from '../events/access-event';
import { WardenConfigError } from './errors';

export interface AgentConfig {
  /** path of the bundle from `warden rules bundle`; undefined = no policy (fails closed in block mode). */
  policyPath: string | undefined;
  /** overrides the bundle's mode for this function when set. */
  mode: Mode | undefined;
  eventBus: string;
  functionName: string;
  region: string | undefined;
  account: string | undefined;
  roleArn: string | undefined;
  tags: Record<string, string>;
  /** allow traffic when the policy cannot be loaded (each such decision is reported). */
  failOpen: boolean;
  reportIntervalMs: number;
  /** maximum time a flush may add to an invocation. */
  flushBudgetMs: number;
  /** `host:port` the agent never captures (the Lambda Runtime API). */
  exemptEndpoints: string[];
}

const bool = (name: string) => z.string().trim().toLowerCase()
  .refine((v) => ['true', 'false', '1', '0', 'yes', 'no', ''].includes(v), { message: `${name} must be "true" or "false"` })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const positiveNumber = (name: string, max: number) => z.string().trim()
  .refine((v) => /^\d+(\.\d+)?$/.test(v) && Number(v) > 0 && Number(v) <= max, { message: `${name} must be a positive number of seconds up to ${max}` })
  .transform(Number);

const EnvSchema = z.object({
  WARDEN_POLICY: z.string().trim().min(1).optional(),
  WARDEN_MODE: z.string().trim().toLowerCase()
    .pipe(z.union([ModeSchema, z.literal('')], { error: 'WARDEN_MODE must be one of monitor, block, learn' })).optional(),
  WARDEN_EVENT_BUS: z.string().trim().regex(/^[A-Za-z0-9._\-/:]{1,1600}$/, 'WARDEN_EVENT_BUS must be an event bus name or ARN').optional(),
  WARDEN_FUNCTION_NAME: z.string().trim().min(1).max(256).optional(),
  AWS_LAMBDA_FUNCTION_NAME: z.string().trim().min(1).max(256).optional(),
  AWS_REGION: z.string().trim().min(1).optional(),
  AWS_DEFAULT_REGION: z.string().trim().min(1).optional(),
  WARDEN_ACCOUNT_ID: z.string().trim().regex(/^\d{12}$/, 'WARDEN_ACCOUNT_ID must be a 12-digit AWS account id').optional(),
  WARDEN_ROLE_ARN: z.string().trim().startsWith('arn:', 'WARDEN_ROLE_ARN must be an IAM role ARN').optional(),
  WARDEN_FUNCTION_TAGS: z.string().trim().optional(),
  WARDEN_FAIL_OPEN: bool('WARDEN_FAIL_OPEN').optional(),
  WARDEN_REPORT_INTERVAL_S: positiveNumber('WARDEN_REPORT_INTERVAL_S', 86_400).optional(),
  WARDEN_FLUSH_BUDGET_MS: positiveNumber('WARDEN_FLUSH_BUDGET_MS', 60_000).optional(),
  AWS_LAMBDA_RUNTIME_API: z.string().trim().optional(),
});

const TagsSchema = z.record(z.string().max(256), z.string().max(512));

/** Parses the environment; throws WardenConfigError listing every bad variable. */
export function configFromEnv(env: NodeJS.ProcessEnv | Record<string, string | undefined>): AgentConfig {
  // An empty variable means unset (consoles and templates often leave them empty).
  const present = Object.fromEntries(Object.keys(EnvSchema.shape).map((k) => [k, env[k]?.trim() ? env[k] : undefined]));
  const parsed = EnvSchema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new WardenConfigError(`Invalid Warden agent configuration:\n${lines.join('\n')}`, { cause: parsed.error });
  }
  const e = parsed.data;
  const functionName = e.WARDEN_FUNCTION_NAME ?? e.AWS_LAMBDA_FUNCTION_NAME;
  if (!functionName) {
    throw new WardenConfigError('Warden agent: no function name. Lambda sets AWS_LAMBDA_FUNCTION_NAME; outside Lambda set WARDEN_FUNCTION_NAME.');
  }
  let tags: Record<string, string> = {};
  if (e.WARDEN_FUNCTION_TAGS) {
    let raw: unknown;
    try { raw = JSON.parse(e.WARDEN_FUNCTION_TAGS); } catch (err) {
      throw new WardenConfigError('WARDEN_FUNCTION_TAGS must be a JSON object of string values, e.g. {"team":"payments"}', { cause: err });
    }
    const t = TagsSchema.safeParse(raw);
    if (!t.success) throw new WardenConfigError('WARDEN_FUNCTION_TAGS must be a JSON object of string values, e.g. {"team":"payments"}', { cause: t.error });
    tags = t.data;
  }
  const mode = e.WARDEN_MODE === '' ? undefined : e.WARDEN_MODE;
  return {
    policyPath: e.WARDEN_POLICY,
    mode,
    eventBus: e.WARDEN_EVENT_BUS ?? 'warden',
    functionName,
    region: e.AWS_REGION ?? e.AWS_DEFAULT_REGION,
    account: e.WARDEN_ACCOUNT_ID,
    roleArn: e.WARDEN_ROLE_ARN,
    tags,
    failOpen: e.WARDEN_FAIL_OPEN ?? false,
    reportIntervalMs: Math.round((e.WARDEN_REPORT_INTERVAL_S ?? 60) * 1000),
    flushBudgetMs: Math.round(e.WARDEN_FLUSH_BUDGET_MS ?? 2000),
    exemptEndpoints: e.AWS_LAMBDA_RUNTIME_API ? [e.AWS_LAMBDA_RUNTIME_API.toLowerCase()] : [],
  };
}
