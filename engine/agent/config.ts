/** Agent configuration, read from the environment once and validated with clear errors. */
import type { Mode } from '../events/access-event';
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

// Hand-written checks instead of zod on purpose: loading zod costs more than the agent's whole
// cold-start budget (30 ms). Every variable still gets a precise message.
type Env = Record<string, string | undefined>;
const MODE_VALUES: readonly Mode[] = ['monitor', 'block', 'learn'];
const BOOL: Record<string, boolean> = { true: true, '1': true, yes: true, false: false, '0': false, no: false };

function checkBool(name: string, v: string | undefined, issues: string[]): boolean | undefined {
  if (v === undefined) return undefined;
  const b = BOOL[v.toLowerCase()];
  if (b === undefined) issues.push(`${name}: ${name} must be "true" or "false"`);
  return b;
}

function checkSeconds(name: string, v: string | undefined, max: number, issues: string[]): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+(\.\d+)?$/.test(v) || !(n > 0) || n > max) { issues.push(`${name}: ${name} must be a positive number of seconds up to ${max}`); return undefined; }
  return n;
}

function checkTags(v: string | undefined, issues: string[]): Record<string, string> {
  if (v === undefined) return {};
  const msg = 'WARDEN_FUNCTION_TAGS: WARDEN_FUNCTION_TAGS must be a JSON object of string values, e.g. {"team":"payments"}';
  let raw: unknown;
  try { raw = JSON.parse(v); } catch { issues.push(msg); return {}; }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) { issues.push(msg); return {}; }
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(raw)) {
    if (typeof val !== 'string' || k.length > 256 || val.length > 512) { issues.push(msg); return {}; }
    out[k] = val;
  }
  return out;
}

/** Parses the environment; throws WardenConfigError listing every bad variable. */
export function configFromEnv(env: NodeJS.ProcessEnv | Env): AgentConfig {
  // An empty variable means unset (consoles and templates often leave them empty).
  const get = (k: string): string | undefined => { const v = env[k]?.trim(); return v ? v : undefined; };
  const issues: string[] = [];
  const modeRaw = get('WARDEN_MODE')?.toLowerCase();
  const mode = modeRaw === undefined ? undefined : (MODE_VALUES as readonly string[]).includes(modeRaw) ? (modeRaw as Mode) : undefined;
  if (modeRaw !== undefined && mode === undefined) issues.push('WARDEN_MODE: WARDEN_MODE must be one of monitor, block, learn');
  const bus = get('WARDEN_EVENT_BUS');
  if (bus !== undefined && !/^[A-Za-z0-9._\-/:]{1,1600}$/.test(bus)) issues.push('WARDEN_EVENT_BUS: WARDEN_EVENT_BUS must be an event bus name or ARN');
  const account = get('WARDEN_ACCOUNT_ID');
  if (account !== undefined && !/^\d{12}$/.test(account)) issues.push('WARDEN_ACCOUNT_ID: WARDEN_ACCOUNT_ID must be a 12-digit AWS account id');
  const roleArn = get('WARDEN_ROLE_ARN');
  if (roleArn !== undefined && !roleArn.startsWith('arn:')) issues.push('WARDEN_ROLE_ARN: WARDEN_ROLE_ARN must be an IAM role ARN');
  const name = get('WARDEN_FUNCTION_NAME') ?? get('AWS_LAMBDA_FUNCTION_NAME');
  if (name !== undefined && name.length > 256) issues.push('AWS_LAMBDA_FUNCTION_NAME: the function name must be at most 256 characters');
  const failOpen = checkBool('WARDEN_FAIL_OPEN', get('WARDEN_FAIL_OPEN'), issues);
  const interval = checkSeconds('WARDEN_REPORT_INTERVAL_S', get('WARDEN_REPORT_INTERVAL_S'), 86_400, issues);
  const budget = checkSeconds('WARDEN_FLUSH_BUDGET_MS', get('WARDEN_FLUSH_BUDGET_MS'), 60_000, issues);
  const tags = checkTags(get('WARDEN_FUNCTION_TAGS'), issues);
  if (issues.length) throw new WardenConfigError(`Invalid Warden agent configuration:\n${issues.map((i) => `  ${i}`).join('\n')}`);
  if (!name) {
    throw new WardenConfigError('Warden agent: no function name. Lambda sets AWS_LAMBDA_FUNCTION_NAME; outside Lambda set WARDEN_FUNCTION_NAME.');
  }
  const runtimeApi = get('AWS_LAMBDA_RUNTIME_API');
  return {
    policyPath: get('WARDEN_POLICY'),
    mode,
    eventBus: bus ?? 'warden',
    functionName: name,
    region: get('AWS_REGION') ?? get('AWS_DEFAULT_REGION'),
    account,
    roleArn,
    tags,
    failOpen: failOpen ?? false,
    reportIntervalMs: Math.round((interval ?? 60) * 1000),
    flushBudgetMs: Math.round(budget ?? 2000),
    exemptEndpoints: runtimeApi ? [runtimeApi.toLowerCase()] : [],
  };
}
