import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { FUNCTION_PATTERN_RE, functionGlobMatches, parseDuration, parseYamlConfig } from './config-file';
import { ConfigFileError } from './errors';

/**
 * `rules/approvers.yaml`: who may approve or deny an access for which functions, where approval
 * requests are posted, and what the approval workflow does when nobody answers.
 */
export const SLACK_USER_ID_RE = /^[UW][A-Z0-9]{2,20}$/;
export const SLACK_CHANNEL_ID_RE = /^[CGD][A-Z0-9]{2,20}$/;

export const SlackUserIdSchema = z.string().regex(SLACK_USER_ID_RE, {
  message: 'must be a Slack user id such as U0123ABCD (a name or @handle cannot be verified: Slack signs the id)',
});
export const SlackChannelIdSchema = z.string().regex(SLACK_CHANNEL_ID_RE, {
  message: 'must be a Slack channel id such as C0123ABCD (channel names can be renamed; ids cannot)',
});
export const FunctionPatternSchema = z.string().regex(FUNCTION_PATTERN_RE, {
  message: 'must be a function name or a glob with "*" (letters, digits, "-", "_", "*")',
});

/** seconds, or "90s" / "15m" / "2h" / "7d" */
export const DurationSchema = z
  .union([z.number().int(), z.string()])
  .transform((v, ctx) => {
    const s = parseDuration(v);
    if (!Number.isInteger(s) || s < 1 || s > 365 * 86400) {
      ctx.addIssue({ code: 'custom', message: `"${v}" is not a duration: use seconds or a number with s, m, h or d (e.g. 15m), between 1s and 365d` });
      return z.NEVER;
    }
    return s;
  });

export const TIMEOUT_ACTIONS = ['deny', 'escalate', 'quarantine', 'none'] as const;
export const DENY_ACTIONS = ['quarantine', 'escalate', 'none'] as const;

export const ApprovalSettingsSchema = z.strictObject({
  /** no decision and no "Still reviewing" click within this window → the timeout action (HeartbeatSeconds). */
  timeout: DurationSchema.default(3600),
  /** hard cap on the whole wait, however often someone clicks "Still reviewing" (TimeoutSeconds). */
  maxWait: DurationSchema.optional(),
  /** what an unanswered request becomes: `deny` applies `onDeny`. */
  onTimeout: z.enum(TIMEOUT_ACTIONS).default('deny'),
  /** what a deny (clicked or by timeout) starts. */
  onDeny: z.enum(DENY_ACTIONS).default('quarantine'),
  /** how long an approved access stays allowed (the time-bound exception). */
  exceptionTtl: DurationSchema.default(86400),
  /** where requests go when no group names a channel. */
  channel: SlackChannelIdSchema.optional(),
});

export const ApproverGroupSchema = z.strictObject({
  name: z.string().min(1).max(64).optional(),
  functions: z.array(FunctionPatternSchema).min(1, { message: 'list at least one function name or glob' }),
  approvers: z.array(SlackUserIdSchema).min(1, { message: 'list at least one approver (Slack user id)' }),
  /** channel for this group's approval requests (default: approval.channel). */
  channel: SlackChannelIdSchema.optional(),
  /** overrides approval.exceptionTtl for this group. */
  exceptionTtl: DurationSchema.optional(),
});

export const ApproversConfigSchema = z
  .strictObject({
    approval: ApprovalSettingsSchema.prefault({}),
    /** may approve or deny for every function, in addition to the matching group. */
    admins: z.array(SlackUserIdSchema).default([]),
    /** matched in order; the first group whose `functions` matches the function decides who may approve. */
    groups: z.array(ApproverGroupSchema).default([]),
  })
  .superRefine((cfg, ctx) => {
    const maxWait = cfg.approval.maxWait;
    if (maxWait !== undefined && maxWait <= cfg.approval.timeout) {
      ctx.addIssue({ code: 'custom', path: ['approval', 'maxWait'], message: `maxWait (${maxWait}s) must be longer than timeout (${cfg.approval.timeout}s): Step Functions requires HeartbeatSeconds < TimeoutSeconds` });
    }
    if (cfg.groups.length === 0 && cfg.admins.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['groups'], message: 'nobody can approve anything: add a group with approvers, or admins' });
    }
    if (!cfg.approval.channel && cfg.groups.some((g) => !g.channel)) {
      ctx.addIssue({ code: 'custom', path: ['approval', 'channel'], message: 'set approval.channel, or a channel on every group, so each request has somewhere to go' });
    }
    const seen = new Map<string, number>();
    cfg.groups.forEach((g, i) => g.functions.forEach((f, j) => {
      const first = seen.get(f);
      if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['groups', i, 'functions', j], message: `"${f}" is already in groups[${first}]; the first match wins, so this entry never applies` });
      else seen.set(f, i);
    }));
  });

export type ApproversConfig = z.output<typeof ApproversConfigSchema>;
export type ApproversConfigInput = z.input<typeof ApproversConfigSchema>;
export type ApprovalSettings = ApproversConfig['approval'];
export type ApproverGroup = z.output<typeof ApproverGroupSchema>;

export const APPROVERS_FILE = 'approvers.yaml';
/** the Lambda environment variable that carries the parsed approvers config as JSON */
export const APPROVERS_CONFIG_ENV = 'WARDEN_APPROVERS_CONFIG';

/** Parse approvers.yaml text; throws ConfigFileError with file, line and path per problem. */
export function parseApproversConfig(text: string, file = APPROVERS_FILE): ApproversConfig {
  return parseYamlConfig(text, file, ApproversConfigSchema);
}

/** Load `<rulesDir>/approvers.yaml` (or a file path ending in .yaml/.yml). */
export async function loadApproversConfig(pathOrDir: string): Promise<ApproversConfig> {
  const file = /\.ya?ml$/.test(pathOrDir) ? pathOrDir : `${pathOrDir.replace(/\/+$/, '')}/${APPROVERS_FILE}`;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigFileError([{ file, line: null, path: '', message: `cannot read the approvers file (${(err as NodeJS.ErrnoException).code ?? String(err)}): create it or pass the rules directory that holds it` }], { cause: err });
  }
  return parseApproversConfig(text, file);
}

/** The group that governs a function (first match), or null. */
export function groupFor(config: ApproversConfig, functionName: string): ApproverGroup | null {
  return config.groups.find((g) => g.functions.some((p) => functionGlobMatches(p, functionName))) ?? null;
}

/** Everyone who may approve or deny an access of this function. */
export function approversFor(config: ApproversConfig, functionName: string): string[] {
  return [...new Set([...(groupFor(config, functionName)?.approvers ?? []), ...config.admins])];
}

export function isApprover(config: ApproversConfig, functionName: string, userId: string): boolean {
  return approversFor(config, functionName).includes(userId);
}

/** Where an approval request for this function is posted. */
export function approvalChannelFor(config: ApproversConfig, functionName: string): string {
  const channel = groupFor(config, functionName)?.channel ?? config.approval.channel;
  if (!channel) throw new ConfigFileError([{ file: APPROVERS_FILE, line: null, path: 'approval.channel', message: `no channel for "${functionName}": set approval.channel` }]);
  return channel;
}

export function exceptionTtlFor(config: ApproversConfig, functionName: string): number {
  return groupFor(config, functionName)?.exceptionTtl ?? config.approval.exceptionTtl;
}

/** maxWait when set, else 4 × timeout (the wait's TimeoutSeconds). */
export function approvalMaxWait(settings: ApprovalSettings): number {
  return settings.maxWait ?? settings.timeout * 4;
}
