import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { DurationSchema, FunctionPatternSchema, SlackChannelIdSchema, SlackUserIdSchema } from '../slack/approvers';
import { functionGlobMatches, parseYamlConfig } from '../slack/config-file';
import { ConfigFileError } from '../slack/errors';

/**
 * `rules/escalation.yaml`: who is told about a violation, in which order, how long each tier has
 * to acknowledge, and what happens when nobody does. Read at synth time: each tier becomes states
 * of the escalate state machine (static TimeoutSeconds / HeartbeatSeconds).
 */
const SNS_TOPIC_RE = /^(arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}|[A-Za-z0-9_-]{1,256})$/;

export const TierSchema = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z0-9 _-]{1,40}$/, { message: 'letters, digits, spaces, "-" and "_", at most 40 characters' }),
    slack: z
      .strictObject({
        channel: SlackChannelIdSchema.optional(),
        users: z.array(SlackUserIdSchema).default([]),
      })
      .optional(),
    /** an SNS topic: a key of the construct's `topics` prop, or a topic ARN. */
    sns: z.string().regex(SNS_TOPIC_RE, { message: 'must be a topic key (letters, digits, "-", "_") or an SNS topic ARN' }).optional(),
    /** no ack and no "Looking into it" within this window → next notification (HeartbeatSeconds). */
    ackTimeout: DurationSchema,
    /** cap on one wait however often someone clicks "Looking into it" (TimeoutSeconds); default 4 × ackTimeout. */
    maxWait: DurationSchema.optional(),
    /** notify this tier this many extra times before moving on. */
    repeats: z.number().int().min(0).max(5).default(0),
  })
  .superRefine((t, ctx) => {
    if (!t.slack?.channel && !(t.slack?.users.length) && !t.sns) {
      ctx.addIssue({ code: 'custom', message: `tier "${t.name}" notifies nobody: give it slack.channel, slack.users or sns` });
    }
    if (t.maxWait !== undefined && t.maxWait <= t.ackTimeout) {
      ctx.addIssue({ code: 'custom', path: ['maxWait'], message: `maxWait (${t.maxWait}s) must be longer than ackTimeout (${t.ackTimeout}s): Step Functions requires HeartbeatSeconds < TimeoutSeconds` });
    }
  });

export const FINAL_ACTIONS = ['quarantine', 'repeat', 'none'] as const;

const PlanFields = {
  tiers: z.array(TierSchema).min(1, { message: 'list at least one tier' }).max(10, { message: 'at most 10 tiers' }),
  /** after the last tier: start quarantine, start over from the first tier, or stop (recorded as unacknowledged). */
  finalAction: z.enum(FINAL_ACTIONS).default('quarantine'),
  /** with finalAction "repeat": how many passes over the tiers in total before giving up. */
  cycles: z.number().int().min(1).max(10).default(3),
};

export const EscalationOverrideSchema = z.strictObject({
  /** names the plan in the state machine (state names, audit); default override-<n> */
  name: z.string().regex(/^[A-Za-z0-9_-]{1,24}$/, { message: 'letters, digits, "-" and "_", at most 24 characters' }).optional(),
  functions: z.array(FunctionPatternSchema).min(1, { message: 'list at least one function name or glob' }),
  tiers: PlanFields.tiers.optional(),
  finalAction: z.enum(FINAL_ACTIONS).optional(),
  cycles: PlanFields.cycles.optional(),
});

export const EscalationConfigSchema = z
  .strictObject({
    ...PlanFields,
    /** after an escalation ends (acknowledged or not), repeats of the same incident stay quiet this long. */
    quietPeriod: DurationSchema.default(3600),
    /** may acknowledge any escalation, besides the users named in its tiers. */
    ackers: z.array(SlackUserIdSchema).default([]),
    /** per function group, matched in order (first match wins); unset fields come from the top level. */
    overrides: z.array(EscalationOverrideSchema).max(20).default([]),
  })
  .superRefine((cfg, ctx) => {
    const names = new Set<string>(['default']);
    cfg.overrides.forEach((o, i) => {
      const key = o.name ?? `override-${i}`;
      if (names.has(key)) ctx.addIssue({ code: 'custom', path: ['overrides', i, 'name'], message: `plan name "${key}" is used twice` });
      names.add(key);
    });
    const seen = new Map<string, number>();
    cfg.overrides.forEach((o, i) => o.functions.forEach((f, j) => {
      const first = seen.get(f);
      if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['overrides', i, 'functions', j], message: `"${f}" is already in overrides[${first}]; the first match wins, so this entry never applies` });
      else seen.set(f, i);
    }));
    const plans = [{ tiers: cfg.tiers, path: ['tiers'] as (string | number)[] }, ...cfg.overrides.map((o, i) => ({ tiers: o.tiers ?? [], path: ['overrides', i, 'tiers'] as (string | number)[] }))];
    for (const { tiers, path } of plans) {
      const names = new Set<string>();
      tiers.forEach((t, i) => {
        if (names.has(t.name)) ctx.addIssue({ code: 'custom', path: [...path, i, 'name'], message: `duplicate tier name "${t.name}"` });
        names.add(t.name);
      });
    }
  });

export type EscalationConfig = z.output<typeof EscalationConfigSchema>;
export type EscalationConfigInput = z.input<typeof EscalationConfigSchema>;
export type EscalationTier = z.output<typeof TierSchema>;
export type FinalAction = (typeof FINAL_ACTIONS)[number];

/** One resolved escalation plan: the tiers and final action that apply to a group of functions. */
export interface EscalationPlan {
  /** `default`, the override's `name`, or `override-<n>` for overrides[n]. */
  key: string;
  /** function globs this plan applies to (empty for the default plan). */
  functions: string[];
  tiers: EscalationTier[];
  finalAction: FinalAction;
  cycles: number;
}

export const ESCALATION_FILE = 'escalation.yaml';

export function parseEscalationConfig(text: string, file = ESCALATION_FILE): EscalationConfig {
  return parseYamlConfig(text, file, EscalationConfigSchema);
}

/** Load `<rulesDir>/escalation.yaml` (or a file path ending in .yaml/.yml). */
export async function loadEscalationConfig(pathOrDir: string): Promise<EscalationConfig> {
  const file = /\.ya?ml$/.test(pathOrDir) ? pathOrDir : `${pathOrDir.replace(/\/+$/, '')}/${ESCALATION_FILE}`;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigFileError([{ file, line: null, path: '', message: `cannot read the escalation file (${(err as NodeJS.ErrnoException).code ?? String(err)}): create it or pass the rules directory that holds it` }], { cause: err });
  }
  return parseEscalationConfig(text, file);
}

/** Every plan, overrides first (in file order), the default last. */
export function escalationPlans(cfg: EscalationConfig): EscalationPlan[] {
  const plans: EscalationPlan[] = cfg.overrides.map((o, i) => ({
    key: o.name ?? `override-${i}`,
    functions: o.functions,
    tiers: o.tiers ?? cfg.tiers,
    finalAction: o.finalAction ?? cfg.finalAction,
    cycles: o.cycles ?? cfg.cycles,
  }));
  plans.push({ key: 'default', functions: [], tiers: cfg.tiers, finalAction: cfg.finalAction, cycles: cfg.cycles });
  return plans;
}

/** The plan that applies to a function (what the state machine's Choice picks). */
export function escalationPlanFor(cfg: EscalationConfig, functionName: string): EscalationPlan {
  const plans = escalationPlans(cfg);
  return plans.find((p) => p.functions.some((f) => functionGlobMatches(f, functionName))) ?? (plans[plans.length - 1] as EscalationPlan);
}

/** TimeoutSeconds of a tier's wait. */
export function tierMaxWait(t: EscalationTier): number {
  return t.maxWait ?? t.ackTimeout * 4;
}

/** Who may acknowledge an escalation under this plan: tier users plus `ackers`. */
export function ackersFor(cfg: EscalationConfig, plan: EscalationPlan): string[] {
  return [...new Set([...plan.tiers.flatMap((t) => t.slack?.users ?? []), ...cfg.ackers])];
}
