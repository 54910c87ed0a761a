import { z } from 'zod';
import { ModeSchema, VerdictSchema } from '../events/access-event';
import { ResponseSchema, SeveritySchema } from '../events/decision-event';
import { parseCidr } from './ip';
import { parseAwsPattern, parseHostPattern } from './patterns';

export { expiryEpoch, parseAwsPattern, parseHostPattern, type ParsedHost } from './patterns';

/**
 * Zod schemas of every rules-repo file. Strict objects: an unknown key (a typo like `hots:`) is
 * an error. Types are derived from these schemas. Formats are documented in engine/policy/README.md.
 */

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._:/@-]{0,127}$/;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

export const RuleIdSchema = z
  .string()
  .regex(ID_RE, 'an id is 1–128 characters: letters, digits and . _ : / @ -, starting with a letter or digit');

/** `2027-01-31`: the entry applies through the end of that day (UTC). */
export const ExpiresSchema = z
  .string()
  .regex(DATE_RE, 'use a date like 2027-01-31')
  .refine((s) => {
    const [y, m, d] = s.split('-').map(Number) as [number, number, number];
    const t = new Date(Date.UTC(y, m - 1, d));
    return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
  }, 'not a calendar date');

const base = {
  id: RuleIdSchema.optional().describe('Stable id named in decisions; derived from the entry when omitted'),
  description: z.string().max(1000).optional(),
  aws: z.string().min(1).max(200).optional().describe('AWS call: "service:Action" glob, e.g. "dynamodb:*", "s3:Get*"; "*" for any'),
  resource: z.string().min(1).max(2048).optional().describe('With aws: IAM-style ARN glob (* any run, ? one character)'),
  host: z.string().min(1).max(300).optional().describe('DNS name or "*.example.com" (strictly under), optional ":port"'),
  cidr: z.string().min(1).max(64).optional().describe('IPv4/IPv6 range, e.g. 10.0.0.0/8, fd00:ec2::254/128'),
  port: z.number().int().min(0).max(65535).optional().describe('With host or cidr: only this port'),
  expires: ExpiresSchema.optional().describe('YYYY-MM-DD: the entry stops applying after that day (UTC)'),
};

type EntryShape = { aws?: string; resource?: string; host?: string; cidr?: string; port?: number };

function checkEntry(e: EntryShape, ctx: z.RefinementCtx): void {
  const kinds = (['aws', 'host', 'cidr'] as const).filter((k) => e[k] !== undefined);
  if (kinds.length !== 1) {
    ctx.addIssue({
      code: 'custom',
      message: kinds.length === 0
        ? 'an entry needs exactly one of "aws", "host" or "cidr"'
        : `an entry has exactly one of "aws", "host" or "cidr", not ${kinds.map((k) => `"${k}"`).join(' and ')}; split it into separate entries`,
    });
    return;
  }
  if (e.resource !== undefined && e.aws === undefined) ctx.addIssue({ code: 'custom', path: ['resource'], message: '"resource" only goes with "aws"' });
  if (e.port !== undefined && e.aws !== undefined) ctx.addIssue({ code: 'custom', path: ['port'], message: '"port" goes with "host" or "cidr", not "aws"' });
  if (e.aws !== undefined) {
    const r = parseAwsPattern(e.aws);
    if ('error' in r) ctx.addIssue({ code: 'custom', path: ['aws'], message: r.error });
  }
  if (e.resource !== undefined && e.resource !== '*' && !e.resource.startsWith('arn:')) {
    ctx.addIssue({ code: 'custom', path: ['resource'], message: 'a resource is an ARN (or an ARN glob like "arn:aws:s3:::my-bucket/*"), or "*"' });
  }
  if (e.host !== undefined) {
    const r = parseHostPattern(e.host);
    if ('error' in r) ctx.addIssue({ code: 'custom', path: ['host'], message: r.error });
    else if (r.host.port !== undefined && e.port !== undefined) ctx.addIssue({ code: 'custom', path: ['port'], message: 'the host already names a port; keep only one' });
  }
  if (e.cidr !== undefined) {
    const r = parseCidr(e.cidr.trim());
    if ('error' in r) ctx.addIssue({ code: 'custom', path: ['cidr'], message: r.error });
  }
}

export const AllowEntrySchema = z.strictObject(base).superRefine(checkEntry);
export const DenyEntrySchema = z.strictObject({ ...base, severity: SeveritySchema.optional().describe('Default medium; critical denies quarantine by default') }).superRefine(checkEntry);
export type AllowEntry = z.infer<typeof AllowEntrySchema>;
export type DenyEntry = z.infer<typeof DenyEntrySchema>;
export type Entry = AllowEntry | DenyEntry;

const FunctionPatternSchema = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[A-Za-z0-9_*?.:-]+$/, 'a function name or glob: letters, digits, - _ . : and the wildcards * ?');

export const FunctionRulesSchema = z.strictObject({
  functions: z.array(FunctionPatternSchema).min(1, 'list at least one function name or glob').describe('Lambda function names or globs ("payments-*")'),
  mode: ModeSchema.optional().describe('monitor (default): observe; block: the agent blocks denied and unlisted accesses; learn: record'),
  description: z.string().max(2000).optional(),
  allow: z.array(AllowEntrySchema).max(100_000).optional().describe('Present (even empty): anything not allowed is "unlisted"'),
  deny: z.array(DenyEntrySchema).max(100_000).optional().describe('Always wins over any allow'),
});
export type FunctionRules = z.infer<typeof FunctionRulesSchema>;

export const GlobalRulesSchema = z.strictObject({
  description: z.string().max(2000).optional(),
  allow: z.array(AllowEntrySchema).max(100_000).optional(),
  deny: z.array(DenyEntrySchema).max(100_000).optional(),
});
export type GlobalRules = z.infer<typeof GlobalRulesSchema>;

// ---- responses.yaml: json-rules-engine rules over the decision facts ----

export const RESPONSE_FACTS = ['verdict', 'severity', 'service', 'action', 'functionName', 'tags', 'mode'] as const;
export const RESPONSE_OPERATORS = [
  'equal', 'notEqual', 'in', 'notIn', 'contains', 'doesNotContain',
  'lessThan', 'lessThanInclusive', 'greaterThan', 'greaterThanInclusive',
  'glob', 'severityAtLeast',
] as const;

const ScalarSchema = z.union([z.string().max(1000), z.number(), z.boolean(), z.null()]);
export const FactConditionSchema = z.strictObject({
  fact: z.enum(RESPONSE_FACTS),
  operator: z.enum(RESPONSE_OPERATORS),
  value: z.union([ScalarSchema, z.array(ScalarSchema).max(1000)]),
  /** JSONPath into an object fact, e.g. `$.team` for a tag */
  path: z.string().regex(/^\$\.[A-Za-z0-9_:.-]+$/, 'a path like "$.team"').optional(),
});
export type FactCondition = z.infer<typeof FactConditionSchema>;
export type Condition = FactCondition | { all: Condition[] } | { any: Condition[] } | { not: Condition };
export const ConditionSchema: z.ZodType<Condition> = z.lazy(() =>
  z.union([
    FactConditionSchema,
    z.strictObject({ all: z.array(ConditionSchema).min(1).max(100) }),
    z.strictObject({ any: z.array(ConditionSchema).min(1).max(100) }),
    z.strictObject({ not: ConditionSchema }),
  ]),
);
export const TopConditionSchema = z.union([
  z.strictObject({ all: z.array(ConditionSchema).min(1).max(100) }),
  z.strictObject({ any: z.array(ConditionSchema).min(1).max(100) }),
  z.strictObject({ not: ConditionSchema }),
]);

export const ResponseRuleSchema = z.strictObject({
  name: RuleIdSchema,
  description: z.string().max(2000).optional(),
  /** higher wins when several rules match (default 1); ties go to the rule listed first */
  priority: z.number().int().min(1).max(1000).default(1),
  conditions: TopConditionSchema,
  response: ResponseSchema,
});
export type ResponseRule = z.infer<typeof ResponseRuleSchema>;

export const ResponsesConfigSchema = z.strictObject({
  description: z.string().max(2000).optional(),
  rules: z.array(ResponseRuleSchema).max(1000).default([]),
});
export type ResponsesConfig = z.infer<typeof ResponsesConfigSchema>;
export type ResponsesConfigInput = z.input<typeof ResponsesConfigSchema>;

// ---- tests/*.yaml: golden cases ----

export const GoldenCaseSchema = z.strictObject({
  name: z.string().min(1).max(300),
  /** the access event; `id` and `time` may be omitted (filled in) */
  event: z.record(z.string(), z.unknown()),
  /** the time of the decision (ISO date or timestamp); default: the event's `time`, else now */
  now: z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'an ISO date or timestamp').optional(),
  expect: z.strictObject({
    verdict: VerdictSchema,
    rule: z.string().nullable().optional(),
    severity: SeveritySchema.optional(),
    response: ResponseSchema.optional(),
  }),
});
export type GoldenCase = z.infer<typeof GoldenCaseSchema>;
export const GoldenFileSchema = z.strictObject({
  description: z.string().max(2000).optional(),
  cases: z.array(GoldenCaseSchema).min(1),
});
export type GoldenFile = z.infer<typeof GoldenFileSchema>;
