/** What an extractor knows besides the command input. */
/** Treated as immutable: a changed region or account is a new context object. */
export interface ExtractContext {
  region: string;
  /** account of the function (from the function ARN or WARDEN_ACCOUNT_ID); "*" would be a pattern, so unknown stays "" */
  account: string;
  partition: string;
}

/**
 * Where an extractor's answer for a call depends on one input string only (with the operation and
 * the context): that string, else undefined. Two calls with the same operation, key and context
 * name the same resources (property-tested per service).
 */
export type ResourceKey = (action: string, input: Record<string, unknown>) => string | undefined;

/** A pure function: command name (without "Command") + input → the resource ARNs it acts on ([] when none or unknown). */
export type Extractor = (action: string, input: Record<string, unknown>, ctx: ExtractContext) => string[];

export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  if (region.startsWith('us-iso-')) return 'aws-iso';
  if (region.startsWith('us-isob-')) return 'aws-iso-b';
  return 'aws';
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

export function isArn(v: string): boolean {
  return v.startsWith('arn:');
}

/** `arn:partition:service:region:account:` per context object and service (a context is reused per client). */
const prefixes = new WeakMap<ExtractContext, Map<string, string>>();

export function arn(ctx: ExtractContext, service: string, resource: string, opts?: { region?: string; account?: string }): string {
  if (opts !== undefined) return `arn:${ctx.partition}:${service}:${opts.region ?? ctx.region}:${opts.account ?? ctx.account}:${resource}`;
  let byService = prefixes.get(ctx);
  if (byService === undefined) { byService = new Map(); prefixes.set(ctx, byService); }
  let prefix = byService.get(service);
  if (prefix === undefined) { prefix = `arn:${ctx.partition}:${service}:${ctx.region}:${ctx.account}:`; byService.set(service, prefix); }
  return prefix + resource;
}

/** Per context: memo slot → name → the ARN built from it (see `memo`). */
const memos = new WeakMap<ExtractContext, Map<string, Map<string, string | undefined>>>();

/**
 * `make(ctx, name)`, memoized per context, slot and name: a call naming the same table, queue or
 * secret as the last ones gets the same ARN string back without building or parsing it again (the
 * agent's SDK capture keys its cache by that string). Bounded: a slot is emptied past 1,000 names.
 * `slot` names the extractor and what it builds (one string literal per call site).
 */
export function memo(ctx: ExtractContext, slot: string, name: string, make: (ctx: ExtractContext, name: string) => string | undefined): string | undefined {
  let slots = memos.get(ctx);
  if (slots === undefined) { slots = new Map(); memos.set(ctx, slots); }
  let names = slots.get(slot);
  if (names === undefined) { names = new Map(); slots.set(slot, names); }
  let v = names.get(name);
  if (v === undefined && !names.has(name)) {
    v = make(ctx, name);
    if (names.size >= 1_000) names.clear();
    names.set(name, v);
  }
  return v;
}

/** Distinct non-empty strings, in order. */
export function uniq(xs: Array<string | undefined>): string[] {
  return [...new Set(xs.filter((x): x is string => !!x))];
}
