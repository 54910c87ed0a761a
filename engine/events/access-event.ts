import { z } from 'zod';

/**
 * The access event: detail of an EventBridge "Access Observed" event (source `warden.agent`).
 * Public contract, see DESIGN.md. Values inside an event are literal data, never patterns.
 */
export const ACCESS_EVENT_SOURCE = 'warden.agent';
export const ACCESS_EVENT_DETAIL_TYPE = 'Access Observed';

export const MODES = ['monitor', 'block', 'learn'] as const;
export const ModeSchema = z.enum(MODES);
export type Mode = z.infer<typeof ModeSchema>;

export const VERDICTS = ['allow', 'deny', 'unlisted'] as const;
export const VerdictSchema = z.enum(VERDICTS);
export type Verdict = z.infer<typeof VerdictSchema>;

export const ACCESS_KINDS = ['aws', 'http', 'tcp'] as const;
export const AccessKindSchema = z.enum(ACCESS_KINDS);
export type AccessKind = z.infer<typeof AccessKindSchema>;

const isoTime = z.string().max(64).refine((s) => !Number.isNaN(Date.parse(s)), { message: 'must be an ISO-8601 timestamp' });
const shortString = z.string().max(2048);

export const FunctionIdentitySchema = z.object({
  name: z.string().min(1).max(256),
  account: z.string().max(32).optional(),
  region: z.string().max(64).optional(),
  roleArn: z.string().max(2048).optional(),
  tags: z.record(z.string().max(256), z.string().max(512)).default({}),
});
export type FunctionIdentity = z.infer<typeof FunctionIdentitySchema>;

export const AccessSchema = z
  .object({
    kind: AccessKindSchema,
    service: z.string().min(1).max(128).optional(),
    action: z.string().min(1).max(256).optional(),
    resource: shortString.optional(),
    host: z.string().min(1).max(1024).optional(),
    address: z.string().max(128).optional(),
    port: z.number().int().min(0).max(65535).optional(),
    method: z.string().max(32).optional(),
  })
  .superRefine((a, ctx) => {
    if (a.kind === 'aws' && (!a.service || !a.action)) {
      ctx.addIssue({ code: 'custom', message: 'an aws access needs "service" and "action"' });
    }
    if (a.kind !== 'aws' && !a.host && !a.address) {
      ctx.addIssue({ code: 'custom', message: `a ${a.kind} access needs "host" or "address"` });
    }
  });
export type Access = z.infer<typeof AccessSchema>;

export const AccessEventSchema = z.object({
  id: z.string().min(1).max(128),
  time: isoTime,
  function: FunctionIdentitySchema,
  access: AccessSchema,
  mode: ModeSchema.default('monitor'),
  agentVerdict: VerdictSchema.optional(),
  blocked: z.boolean().default(false),
  count: z.number().int().min(1).default(1),
  firstSeen: isoTime.optional(),
  lastSeen: isoTime.optional(),
  policyVersion: z.string().max(128).optional(),
  /** agent: true when the access was let through only because the policy could not be loaded (WARDEN_FAIL_OPEN or a non-blocking mode). */
  failOpen: z.boolean().optional(),
});
export type AccessEvent = z.infer<typeof AccessEventSchema>;
export type AccessEventInput = z.input<typeof AccessEventSchema>;
