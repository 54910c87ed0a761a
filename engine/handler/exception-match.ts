import type { Access } from '../events/access-event';

/**
 * Exact matching of time-bound exceptions, shared by the rules engine (engine/handler/core.ts,
 * records from the exceptions table) and the agent (signed per-function documents from the policy
 * store, engine/distribution). Zod-free on purpose: the agent loads it on its decision path.
 *
 * An exception allows EXACTLY the approved access: same kind; for AWS the same service and action
 * (case-insensitive) and the same resource (or none on both sides); otherwise the same host (case-
 * insensitive, trailing dot ignored) — or, for an access approved by address only, the same
 * address — and the same port (or none on both sides). Values are literal: a `*` is a character.
 * It applies only to an `unlisted` verdict, never over a deny, and only while `expiresAt > now`.
 */

/** What any exception carries (the table record and the signed document both have these). */
export interface ExceptionLike {
  exceptionId: string;
  access: Access;
  /** ISO-8601 time from which the exception no longer applies */
  expiresAt: string;
}

/** The rule a decision made by an exception names (as the engine stamps it). */
export const EXCEPTION_RULE_PREFIX = 'exception:';
export const exceptionRule = (exceptionId: string): string => `${EXCEPTION_RULE_PREFIX}${exceptionId}`;

const normHost = (h: string | undefined): string | undefined => (h === undefined ? undefined : h.toLowerCase().replace(/\.$/, ''));
const lower = (s: string | undefined): string | undefined => s?.toLowerCase();
const same = (a: string | number | undefined, b: string | number | undefined): boolean => (a ?? null) === (b ?? null);

/** Does the exception cover this access? Exact match (see the module comment); an incomplete exception covers nothing. */
export function exceptionCovers(ex: Pick<ExceptionLike, 'access'>, access: Access): boolean {
  const e = ex.access;
  if (e.kind !== access.kind) return false;
  if (e.kind === 'aws') {
    // an AWS exception without service and action would cover every such call: it covers none
    if (!e.service || !e.action) return false;
    return lower(e.service) === lower(access.service) && lower(e.action) === lower(access.action) && same(e.resource, access.resource);
  }
  if (!same(e.port, access.port)) return false;
  if (e.host !== undefined) return normHost(e.host) === normHost(access.host);
  // approved by address only (no name was used): the same address, and still no name
  if (e.address !== undefined) return access.host === undefined && e.address === access.address;
  return false;
}

/** Epoch ms of `expiresAt`; NaN (never active) when it is not a time. */
export const expiryMs = (ex: Pick<ExceptionLike, 'expiresAt'>): number => Date.parse(ex.expiresAt);

/** The active exception covering `access` at `now`, if any (the one that lasts longest). */
export function findException<T extends ExceptionLike>(records: readonly T[], access: Access, now: number): T | undefined {
  let best: T | undefined;
  let bestUntil = Number.NEGATIVE_INFINITY;
  for (const r of records) {
    const until = expiryMs(r);
    if (until > now && until > bestUntil && exceptionCovers(r, access)) {
      best = r;
      bestUntil = until;
    }
  }
  return best;
}

/** An exception in force for an access: what a decision needs to name it and to stop caching it. */
export interface ActiveException {
  readonly exceptionId: string;
  readonly approvalId?: string;
  /** epoch ms from which it no longer applies */
  readonly expiresAtMs: number;
}

/** A function's exceptions, ready for lookups on the agent's decision path. */
export interface ExceptionLookup {
  /** how many exceptions it holds (expired ones included until the next document drops them) */
  readonly size: number;
  /** the exception covering `access` at `now` (longest-lasting first); undefined when none. Never throws. */
  find(access: Access, now: number): ActiveException | undefined;
}

export const NO_EXCEPTIONS: ExceptionLookup = Object.freeze({ size: 0, find: () => undefined });

/** Builds a lookup over a set of exceptions; expiry times are parsed once, here. */
export function exceptionLookup(records: ReadonlyArray<ExceptionLike & { approvalId?: string }>): ExceptionLookup {
  if (records.length === 0) return NO_EXCEPTIONS;
  const entries = records
    .map((r) => ({ record: r, active: Object.freeze({ exceptionId: r.exceptionId, expiresAtMs: expiryMs(r), ...(r.approvalId ? { approvalId: r.approvalId } : {}) }) }))
    .filter((e) => !Number.isNaN(e.active.expiresAtMs))
    .sort((a, b) => b.active.expiresAtMs - a.active.expiresAtMs);
  return Object.freeze({
    size: entries.length,
    find(access: Access, now: number): ActiveException | undefined {
      for (const e of entries) {
        if (e.active.expiresAtMs <= now) return undefined; // sorted: every later one has expired too
        if (exceptionCovers(e.record, access)) return e.active;
      }
      return undefined;
    },
  });
}
