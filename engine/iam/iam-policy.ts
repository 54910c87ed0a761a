import { iamActions, iamPrefix, supportsNoResource } from './service-map';

/**
 * Builds the least-privilege IAM policy implied by a function's AWS allow list: one allow list
 * drives both runtime enforcement and IAM. Pure: entries in, policy document and warnings out.
 */
export interface IamRuleEntry {
  id: string;
  /** `service:Action` glob as written in the rules */
  aws: string;
  resource?: string | null;
  /** where the entry comes from, for messages (`functions/orders-api.yaml`, `global.yaml`) */
  source: string;
  /** YYYY-MM-DD; an entry past it is ignored like the engine ignores it */
  expires?: string | null;
}

export interface IamStatement {
  Sid: string;
  Effect: 'Allow' | 'Deny';
  Action: string[];
  Resource: string[];
}
export interface IamPolicyDocument {
  Version: '2012-10-17';
  Statement: IamStatement[];
}

export interface IamPolicyResult {
  policy: IamPolicyDocument;
  warnings: string[];
  /** allow entries left out of the policy (see warnings) */
  skipped: string[];
}

export interface IamPolicyOptions {
  /** epoch ms, for `expires` */
  now: number;
  /** grant Resource "*" to allow entries without a resource even when the action supports resource-level permissions */
  allowWildcardResource?: boolean;
}

/** IAM's managed-policy size limit (characters, whitespace excluded). */
export const MANAGED_POLICY_LIMIT = 6144;

const isGlob = (s: string): boolean => s.includes('*') || s.includes('?');

function expired(e: IamRuleEntry, now: number): boolean {
  if (!e.expires) return false;
  const end = Date.parse(`${e.expires}T23:59:59.999Z`);
  return Number.isFinite(end) && now > end;
}

function sidPart(id: string): string {
  const words = id.split(/[^A-Za-z0-9]+/).filter(Boolean);
  return words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('').slice(0, 60) || 'Entry';
}

/** Maps a rules `service:Action` glob to IAM actions; null with a reason when it cannot be mapped. */
export function mapAwsPattern(pattern: string): { actions: string[] } | { error: string } {
  const i = pattern.indexOf(':');
  if (i <= 0 || i === pattern.length - 1) return { error: `"${pattern}" is not service:Action` };
  const service = pattern.slice(0, i);
  const action = pattern.slice(i + 1);
  if (isGlob(service)) return { error: `"${pattern}" has a wildcard service, which spans every IAM prefix; list the services explicitly` };
  const prefix = iamPrefix(service);
  // Globs map textually: IAM action names are the SDK operation names, and IAM matches them case-insensitively too.
  if (isGlob(action)) return { actions: [`${prefix}:${action}`] };
  return { actions: iamActions(prefix, action) };
}

export function buildIamPolicy(allow: IamRuleEntry[], deny: IamRuleEntry[], opts: IamPolicyOptions): IamPolicyResult {
  const warnings: string[] = [];
  const skipped: string[] = [];
  const statements: IamStatement[] = [];
  const usedSids = new Set<string>();
  const sid = (base: string): string => {
    let s = base;
    for (let n = 2; usedSids.has(s); n++) s = `${base}${n}`;
    usedSids.add(s);
    return s;
  };

  const build = (effect: 'Allow' | 'Deny', entries: IamRuleEntry[]): void => {
    // one statement per distinct resource, holding every action granted on it
    const byResource = new Map<string, { actions: Set<string>; ids: string[] }>();
    for (const e of entries) {
      if (expired(e, opts.now)) {
        warnings.push(`${e.source}: ${effect.toLowerCase()} entry "${e.id}" expired on ${e.expires}; left out`);
        continue;
      }
      const mapped = mapAwsPattern(e.aws);
      if ('error' in mapped) {
        warnings.push(`${e.source}: entry "${e.id}": ${mapped.error}; left out`);
        if (effect === 'Allow') skipped.push(e.id);
        continue;
      }
      if (mapped.actions.length === 0) {
        warnings.push(`${e.source}: entry "${e.id}" (${e.aws}) needs no IAM permission; nothing to grant`);
        continue;
      }
      let resource = e.resource ?? null;
      if (resource === null && effect === 'Allow') {
        const unscoped = mapped.actions.filter((a) => !supportsNoResource(a));
        if (unscoped.length > 0 && !opts.allowWildcardResource) {
          warnings.push(`${e.source}: allow entry "${e.id}" (${e.aws}) has no resource, and ${unscoped.join(', ')} ` +
            'supports resource-level permissions: add a "resource" ARN glob to the entry (or pass --allow-wildcard-resource to grant it on "*"); left out');
          skipped.push(e.id);
          continue;
        }
        if (unscoped.length > 0) warnings.push(`${e.source}: allow entry "${e.id}" (${e.aws}) granted on Resource "*" (--allow-wildcard-resource)`);
        resource = '*';
      }
      const key = resource ?? '*';
      let g = byResource.get(key);
      if (!g) byResource.set(key, (g = { actions: new Set(), ids: [] }));
      for (const a of mapped.actions) g.actions.add(a);
      // a derived id (`aws:dynamodb:putitem@arn:…`) makes a poor Sid: name the action instead
      g.ids.push(/^(aws|host|cidr):/.test(e.id) ? mapped.actions[0]!.replace('*', 'All') : e.id);
    }
    for (const [resource, g] of [...byResource].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      statements.push({
        Sid: sid(`${effect}${sidPart(g.ids[0]!)}`),
        Effect: effect,
        Action: [...g.actions].sort(),
        Resource: [resource],
      });
    }
  };

  build('Deny', deny);
  build('Allow', allow);
  // Deny statements first for readability; IAM evaluates explicit Deny first regardless of order.
  const policy: IamPolicyDocument = { Version: '2012-10-17', Statement: statements };
  if (!statements.some((s) => s.Effect === 'Allow')) warnings.push('the policy grants nothing: the function has no usable AWS allow entries');
  const size = JSON.stringify(policy).length;
  if (size > MANAGED_POLICY_LIMIT) {
    warnings.push(`the policy is ${size} characters, over IAM's ${MANAGED_POLICY_LIMIT}-character managed-policy limit: ` +
      'use resource globs (warden learn --generalize) or split it across policies');
  }
  return { policy, warnings, skipped };
}
