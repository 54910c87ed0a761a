import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { AWS_SERVICES } from './aws-services';
import { parseDuration } from './duration';
import { ScenarioError } from './errors';

/**
 * The `warden simulate --scenario FILE` format (YAML). One schema; the TypeScript types derive
 * from it. Documented with an example in ./README.md; the built-in scenario is written in it.
 */

const duration = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const ms = parseDuration(v);
  if (ms === null) {
    ctx.addIssue({ code: 'custom', message: `"${v}" is not a duration; write e.g. "0", "90s", "5m", "1h30m" or "2d"` });
    return z.NEVER;
  }
  return ms;
});

const name = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'use 1-64 letters, digits, "-", "_" or "."');
const tags = z.record(z.string().min(1).max(128), z.string().max(256)).default({});
const hostName = z.string().regex(/^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/, 'must be a DNS name such as api.stripe.com');

/** an IAM policy document, as an object or JSON text */
const policyDocument = z.union([z.string(), z.record(z.string(), z.unknown())]).transform((v, ctx) => {
  let doc: unknown = v;
  if (typeof v === 'string') {
    try {
      doc = JSON.parse(v);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'a policy given as text must be JSON' });
      return z.NEVER;
    }
  }
  const d = doc as { Statement?: unknown };
  if (typeof doc !== 'object' || doc === null || !('Statement' in d)) {
    ctx.addIssue({ code: 'custom', message: 'an IAM policy document needs "Version" and "Statement"' });
    return z.NEVER;
  }
  return doc as Record<string, unknown>;
});

const RoleSchema = z.strictObject({
  name: name.optional(),
  path: z.string().regex(/^\/([\w+=,.@-]+\/)*$/, 'an IAM path starts and ends with "/"').default('/'),
  inlinePolicies: z.record(name, policyDocument).default({}),
  managedPolicies: z.array(z.string().regex(/^arn:aws[a-z-]*:iam::(aws|\d{12}):policy\//, 'must be a managed policy ARN (arn:aws:iam::aws:policy/…)')).default([]),
  tags,
});

const FunctionSchema = z.strictObject({
  /** the execution role; named after the function when `name` is omitted */
  role: RoleSchema.default({ path: '/', inlinePolicies: {}, managedPolicies: [], tags: {} }),
  tags,
  /** reserved concurrency; omitted = unreserved */
  concurrency: z.number().int().min(0).max(100_000).optional(),
  /** a module exporting a Lambda handler ("path/to/file.ts" or "file.ts#exportName"), relative to the scenario; default: the built-in call runner */
  handler: z.string().min(1).optional(),
});

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;

const HttpCallSchema = z.strictObject({
  /** "METHOD URL" or just "URL" (GET) */
  http: z.string().transform((v, ctx) => {
    const m = /^(?:([A-Za-z]+)\s+)?(\S+)$/.exec(v.trim());
    const method = (m?.[1] ?? 'GET').toUpperCase();
    let url: URL | undefined;
    try {
      url = new URL(m?.[2] ?? '');
    } catch {
      /* reported below */
    }
    if (!m || !url || !['http:', 'https:'].includes(url.protocol)) {
      ctx.addIssue({ code: 'custom', message: `"${v}" is not "METHOD URL"; write e.g. "POST https://pastebin.com/api/api_post.php"` });
      return z.NEVER;
    }
    if (!(METHODS as readonly string[]).includes(method)) {
      ctx.addIssue({ code: 'custom', message: `unknown HTTP method "${method}"; use one of ${METHODS.join(', ')}` });
      return z.NEVER;
    }
    return { method, url: url.toString() };
  }),
  /** http.request (default) or the global fetch */
  via: z.enum(['http', 'fetch']).default('http'),
  body: z.string().max(1_000_000).optional(),
  headers: z.record(z.string(), z.string()).default({}),
  /** what the caller should see: the call going through, or the agent blocking it */
  expect: z.enum(['ok', 'blocked']).optional(),
});

const AwsCallSchema = z.strictObject({
  /** "service:Action" as in IAM, e.g. dynamodb:PutItem */
  aws: z.string().regex(/^[a-z0-9-]+:[A-Z][A-Za-z0-9]+$/, 'write "service:Action", e.g. "dynamodb:PutItem"'),
  /** the command input, as the AWS SDK v3 takes it */
  params: z.record(z.string(), z.unknown()).default({}),
  expect: z.enum(['ok', 'blocked']).optional(),
});

const TcpCallSchema = z.strictObject({
  /** "host:port": opens a TCP connection, writes `data`, closes */
  tcp: z.string().regex(/^[^\s:]+:\d{1,5}$/, 'write "host:port", e.g. "db.internal:5432"'),
  data: z.string().default(''),
  expect: z.enum(['ok', 'blocked']).optional(),
});

const CallSchema = z.union([HttpCallSchema, AwsCallSchema, TcpCallSchema]);
export type ScenarioCall = z.infer<typeof CallSchema>;

const BUTTONS = ['approve', 'deny', 'reviewing', 'acknowledge', 'looking'] as const;

const step = <T extends z.ZodRawShape>(shape: T) => z.strictObject({ at: duration, ...shape });

const InvokeStepSchema = step({
  invoke: name,
  /** the event the handler receives */
  payload: z.unknown().optional(),
  calls: z.array(CallSchema).default([]),
  /** invoke this many times at the same simulated moment (normal traffic) */
  repeat: z.number().int().min(1).max(10_000).default(1),
});
const ClickStepSchema = step({
  /** a Slack user clicks a button on the latest message Warden posted about `function` */
  click: z.strictObject({ user: z.string().regex(/^[UW][A-Z0-9]{2,}$/, 'a Slack user id such as U0APPROVER1'), function: name, button: z.enum(BUTTONS) }),
});
const AckStepSchema = step({
  /** shorthand for a click on "Acknowledge" of an escalation */
  ack: z.strictObject({ user: z.string().regex(/^[UW][A-Z0-9]{2,}$/, 'a Slack user id such as U0ONCALL1'), function: name }),
});
const RestoreStepSchema = step({
  /** a responder starts the restore workflow for the function's quarantine */
  restore: z.strictObject({ function: name, by: z.string().min(1).default('U0SECLEAD1') }),
});
const NoteStepSchema = step({ note: z.string().min(1).max(500) });
const PublishStepSchema = step({
  /** compiles this rules directory (relative to the scenario) and publishes it, signed, to the simulation's store; every agent and the engine refresh */
  publish: z.strictObject({
    rules: z.string().min(1, 'name the rules directory to publish, relative to the scenario file'),
    by: z.string().min(1).max(200).default('simulate'),
    /** `untrusted`: signed with a key the agents do not trust (a forged publish: they keep the version they have) */
    signedBy: z.enum(['trusted', 'untrusted']).default('trusted'),
  }),
});
const KillSwitchStepSchema = step({
  /** engages (on) or releases (off) the signed kill switch: every agent to monitor mode, or back */
  killswitch: z.union([z.enum(['on', 'off']), z.boolean().transform((b) => (b ? 'on' : 'off'))]),
  reason: z.string().min(1).max(500).default('engaged in the simulation'),
  by: z.string().min(1).max(200).default('simulate'),
});

const StepSchema = z.union([InvokeStepSchema, ClickStepSchema, AckStepSchema, RestoreStepSchema, NoteStepSchema, PublishStepSchema, KillSwitchStepSchema]);
export type ScenarioStep = z.infer<typeof StepSchema>;

const WORKFLOWS = ['escalate', 'quarantine', 'restore', 'approval'] as const;
export type WorkflowName = (typeof WORKFLOWS)[number];
export const WORKFLOW_NAMES = WORKFLOWS;

const ExpectSchema = z.strictObject({
  decisions: z
    .array(z.strictObject({ function: name, verdict: z.enum(['allow', 'deny', 'unlisted']), rule: z.string().nullable().optional(), response: z.enum(['none', 'approve', 'escalate', 'quarantine']).optional(), min: z.number().int().min(0).default(1) }))
    .default([]),
  workflows: z
    .array(z.strictObject({ workflow: z.enum(WORKFLOWS), function: name, status: z.enum(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']).default('SUCCEEDED'), outcome: z.string().optional(), min: z.number().int().min(0).default(1) }))
    .default([]),
});

const StandInSchema = z.strictObject({
  status: z.number().int().min(100).max(599).default(200),
  body: z.string().max(1_000_000).default(''),
  contentType: z.string().default('application/json'),
});

export const ScenarioSchema = z
  .strictObject({
    name: z.string().min(1).max(200),
    description: z.string().max(4000).optional(),
    account: z.strictObject({
      id: z.string().regex(/^\d{12}$/, 'an AWS account id has 12 digits').default('123456789012'),
      region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region such as us-east-1').default('us-east-1'),
    }).default({ id: '123456789012', region: 'us-east-1' }),
    /** the rules directory, relative to the scenario file; default: the rules/ Warden ships */
    rules: z.string().min(1).optional(),
    /** simulated start time */
    start: z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO-8601 time such as 2026-11-23T09:00:00Z').default('2026-11-23T09:00:00Z'),
    /** how long simulated time may run after the last step for workflows to finish */
    settle: duration.default(48 * 3_600_000),
    /** external hosts the functions may reach; a local HTTP server answers for each */
    hosts: z.record(hostName, StandInSchema.default({ status: 200, body: '', contentType: 'application/json' })).default({}),
    functions: z.record(name, FunctionSchema).refine((f) => Object.keys(f).length > 0, 'describe at least one function'),
    timeline: z.array(StepSchema).min(1, 'the timeline needs at least one step'),
    expect: ExpectSchema.default({ decisions: [], workflows: [] }),
  })
  .superRefine((s, ctx) => {
    let last = -1;
    s.timeline.forEach((st, i) => {
      if (st.at < last) ctx.addIssue({ code: 'custom', path: ['timeline', i, 'at'], message: 'steps must be in time order (this one is earlier than the step before)' });
      last = st.at;
      const fn = 'invoke' in st ? st.invoke : 'click' in st ? st.click.function : 'ack' in st ? st.ack.function : 'restore' in st ? st.restore.function : undefined;
      const where = 'invoke' in st ? ['invoke'] : 'click' in st ? ['click', 'function'] : 'ack' in st ? ['ack', 'function'] : ['restore', 'function'];
      if (fn !== undefined && !(fn in s.functions)) {
        ctx.addIssue({ code: 'custom', path: ['timeline', i, ...where], message: `unknown function "${fn}"; declare it under "functions" (known: ${Object.keys(s.functions).join(', ')})` });
      }
      if ('invoke' in st) {
        st.calls.forEach((c, j) => {
          if ('http' in c) {
            const host = new URL(c.http.url).hostname.toLowerCase();
            if (!(host in s.hosts) && !/^\d+\.\d+\.\d+\.\d+$/.test(host)) {
              ctx.addIssue({ code: 'custom', path: ['timeline', i, 'calls', j, 'http'], message: `host "${host}" has no stand-in; add it under "hosts" (the simulation never reaches the real network)` });
            }
          }
          if ('aws' in c) {
            const service = c.aws.split(':')[0]!;
            if (!(service in AWS_SERVICES)) ctx.addIssue({ code: 'custom', path: ['timeline', i, 'calls', j, 'aws'], message: `the simulation has no SDK client for "${service}"; use one of ${Object.keys(AWS_SERVICES).join(', ')} (or your own handler module)` });
          }
          if ('tcp' in c) {
            const host = c.tcp.slice(0, c.tcp.lastIndexOf(':')).toLowerCase();
            if (!(host in s.hosts)) ctx.addIssue({ code: 'custom', path: ['timeline', i, 'calls', j, 'tcp'], message: `host "${host}" has no stand-in; add it under "hosts"` });
          }
        });
      }
    });
    for (const [k, e] of [...s.expect.decisions.map((d) => ['decisions', d] as const), ...s.expect.workflows.map((w) => ['workflows', w] as const)].entries()) {
      if (!(e[1].function in s.functions)) ctx.addIssue({ code: 'custom', path: ['expect', e[0], k], message: `unknown function "${e[1].function}"` });
    }
  });

export type Scenario = z.infer<typeof ScenarioSchema>;
export type ScenarioInput = z.input<typeof ScenarioSchema>;

/** One line per mistake: `timeline[2].calls[0].http: "…" is not "METHOD URL"; …` */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.flatMap((i) => {
    // a union reports each branch's issues; show the branch closest to what was written
    if (i.code === 'invalid_union' && 'errors' in i && Array.isArray(i.errors) && i.errors.length > 0) {
      const best = [...(i.errors as z.core.$ZodIssue[][])].sort((a, b) => score(a) - score(b))[0]!;
      return formatIssues(best.map((b) => ({ ...b, path: [...i.path, ...b.path] })));
    }
    const path = i.path.map((p, n) => (typeof p === 'number' ? `[${p}]` : `${n ? '.' : ''}${String(p)}`)).join('');
    let message = i.message;
    if (i.code === 'unrecognized_keys') message = `unknown field${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `"${k}"`).join(', ')} (check the spelling; see engine/local/simulate/README.md)`;
    return [`${path || '(top level)'}: ${message}`];
  });
}

/** fewer and deeper issues = the branch the author meant (an unknown-key issue means a wrong branch) */
function score(issues: readonly z.core.$ZodIssue[]): number {
  return issues.reduce((s, i) => s + (i.code === 'unrecognized_keys' ? 10 : i.code === 'invalid_type' && i.path.length === 0 ? 5 : 1), 0);
}

/** Parses and validates scenario YAML; throws ScenarioError listing every mistake. */
export function parseScenario(text: string, source = 'scenario'): Scenario {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ScenarioError(`${source} is not valid YAML:`, doc.errors.map((e) => e.message.split('\n')[0]!));
  }
  const result = ScenarioSchema.safeParse(doc.toJS());
  if (!result.success) throw new ScenarioError(`${source} is not a valid Warden scenario:`, formatIssues(result.error.issues));
  return result.data;
}

export interface LoadedScenario {
  scenario: Scenario;
  /** absolute rules directory */
  rulesDir: string;
  /** directory relative paths in the scenario are resolved from */
  baseDir: string;
  source: string;
}

/** Reads a scenario file; `rules` and `handler` paths resolve relative to it. */
export async function loadScenarioFile(file: string, defaultRulesDir: string): Promise<LoadedScenario> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ScenarioError(`cannot read scenario ${file}: ${(err as Error).message}`, [], { cause: err });
  }
  const scenario = parseScenario(text, file);
  const baseDir = dirname(resolve(file));
  const rulesDir = scenario.rules ? (isAbsolute(scenario.rules) ? scenario.rules : resolve(baseDir, scenario.rules)) : defaultRulesDir;
  return { scenario, rulesDir, baseDir, source: file };
}
