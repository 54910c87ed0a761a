import { readFileSync } from 'node:fs';
import { BundleError } from './errors';
import { hashPolicy, hashText, normalizeRepo, WardenPolicy } from './compile';
import type { RulesRepo } from './loader';
import type { NormalizedEntry, NormalizedPolicy } from './normalize';

export const BUNDLE_FORMAT = 'warden.bundle/1';

/**
 * The compiled policy as one JSON artifact. `policy` is the canonical normalized form (sorted,
 * derived ids filled in, hosts lower-cased, CIDRs canonical, expiry as epoch ms), so loading is a
 * JSON.parse, a structural check, a hash check and building the in-memory indexes.
 */
export interface PolicyBundle {
  format: typeof BUNDLE_FORMAT;
  policyVersion: string;
  /** per-function-group modes, for a quick look without reading the lists */
  modes: { functions: string[]; mode: string | null }[];
  entries: number;
  policy: NormalizedPolicy;
}

export function toBundle(source: WardenPolicy | RulesRepo): PolicyBundle {
  const policy = source instanceof WardenPolicy ? source.normalized : normalizeRepo(source);
  const version = source instanceof WardenPolicy ? source.policyVersion : hashPolicy(policy);
  let entries = policy.global.allow.length + policy.global.deny.length + policy.exceptions.length;
  for (const g of policy.groups) entries += g.allow.length + g.deny.length;
  return {
    format: BUNDLE_FORMAT,
    policyVersion: version,
    modes: policy.groups.map((g) => ({ functions: g.functions, mode: g.mode })),
    entries,
    policy,
  };
}

// ---- structural validation (hand-written: a 10k-entry bundle must load in a few ms) ----

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
// literal copies of the contract enums: this module must not load zod (agent cold start)
const SEV = new Set<string>(['info', 'low', 'medium', 'high', 'critical']);
const MODE = new Set<string>(['monitor', 'block', 'learn']);
// full parsing happens when a group is indexed (a bad range there decides deny); this catches garbage early
const CIDR_SHAPE = /^[0-9a-f:.]{2,45}\/\d{1,3}$/;
const ENTRY_KEYS = new Set(['id', 'kind', 'service', 'action', 'resource', 'host', 'wildcard', 'cidr', 'port', 'severity', 'expiresAt']);

function fail(where: string, what: string): never {
  // `where` names the list; the index is found only when reporting (keeps the hot loop allocation-free)
  throw new BundleError(`invalid bundle: ${where}: ${what}; rebuild it with "warden rules bundle"`);
}

const isStr = (v: unknown): boolean => typeof v === 'string' && v.length > 0 && v.length <= 2048;

// Hot at load (10k entries): no closures or allocations per entry.
function checkEntry(e: unknown, where: string, deny: boolean): NormalizedEntry {
  if (!isObj(e)) fail(where, 'not an object');
  for (const k in e) if (!ENTRY_KEYS.has(k)) fail(where, `unknown key "${k}"`);
  if (!isStr(e.id)) fail(where, '"id" must be a non-empty string');
  switch (e.kind) {
    case 'aws':
      if (!isStr(e.service) || !isStr(e.action)) fail(where, 'an aws entry needs "service" and "action"');
      if (e.resource !== undefined && !isStr(e.resource)) fail(where, '"resource" must be a non-empty string');
      break;
    case 'host':
      if (!isStr(e.host)) fail(where, 'a host entry needs "host"');
      if (e.wildcard !== undefined && e.wildcard !== true) fail(where, '"wildcard" must be true when present');
      break;
    case 'cidr':
      if (typeof e.cidr !== 'string' || !CIDR_SHAPE.test(e.cidr)) fail(where, `"cidr" ${String(e.cidr)} is not a range`);
      break;
    default:
      fail(where, '"kind" must be aws, host or cidr');
  }
  if (e.port !== undefined && !(Number.isInteger(e.port) && (e.port as number) >= 0 && (e.port as number) <= 65535)) fail(where, '"port" must be 0..65535');
  if (deny ? typeof e.severity !== 'string' || !SEV.has(e.severity) : e.severity !== undefined) fail(where, deny ? 'a deny entry needs a valid "severity"' : 'an allow entry has no "severity"');
  if (e.expiresAt !== undefined && !Number.isSafeInteger(e.expiresAt)) fail(where, '"expiresAt" must be epoch milliseconds');
  return e as unknown as NormalizedEntry;
}

function checkList(v: unknown, where: string, deny: boolean): NormalizedEntry[] {
  if (!Array.isArray(v)) fail(where, 'must be a list');
  for (let i = 0; i < v.length; i++) {
    try {
      checkEntry(v[i], where, deny);
    } catch (err) {
      throw new BundleError((err as Error).message.replace(`${where}:`, `${where}[${i}]:`), { cause: err });
    }
  }
  return v as NormalizedEntry[];
}

function checkPolicy(p: unknown): NormalizedPolicy {
  if (!isObj(p)) fail('policy', 'missing');
  if (!Array.isArray(p.groups)) fail('policy.groups', 'must be a list');
  p.groups.forEach((g: unknown, i: number) => {
    const w = `policy.groups[${i}]`;
    if (!isObj(g)) fail(w, 'not an object');
    if (!Array.isArray(g.functions) || g.functions.length === 0 || !g.functions.every((f) => typeof f === 'string' && f.length > 0)) fail(`${w}.functions`, 'must be a non-empty list of names');
    if (g.mode !== null && !(typeof g.mode === 'string' && MODE.has(g.mode))) fail(`${w}.mode`, 'must be monitor, block, learn or null');
    if (typeof g.allowList !== 'boolean') fail(`${w}.allowList`, 'must be a boolean');
    checkList(g.allow, `${w}.allow`, false);
    checkList(g.deny, `${w}.deny`, true);
  });
  if (!isObj(p.global)) fail('policy.global', 'missing');
  checkList(p.global.allow, 'policy.global.allow', false);
  checkList(p.global.deny, 'policy.global.deny', true);
  if (!Array.isArray(p.exceptions)) fail('policy.exceptions', 'must be a list');
  p.exceptions.forEach((x: unknown, i: number) => {
    if (!isObj(x) || typeof x.functionName !== 'string' || x.functionName.length === 0) fail(`policy.exceptions[${i}]`, 'needs a functionName');
    checkEntry(x.entry, `policy.exceptions[${i}].entry`, false);
  });
  // the response rules are validated in full (zod) by createResponseSelector, which the engine
  // calls at load; agents never use them. Here: only their shape.
  if (p.responses !== null && !(isObj(p.responses) && Array.isArray(p.responses.rules))) fail('policy.responses', 'must be null or { rules: [...] }');
  return p as unknown as NormalizedPolicy;
}

/** Parses and verifies a bundle. Throws BundleError for anything but an intact `warden.bundle/1`. */
export function readBundle(text: string): WardenPolicy {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new BundleError(`invalid bundle: not JSON (${(cause as Error).message}); is the file truncated?`, { cause });
  }
  if (!isObj(raw)) fail('bundle', 'not a JSON object');
  if (raw.format !== BUNDLE_FORMAT) fail('format', `expected "${BUNDLE_FORMAT}", got ${JSON.stringify(raw.format)}`);
  if (typeof raw.policyVersion !== 'string' || !/^sha256:[0-9a-f]{16,64}$/.test(raw.policyVersion)) fail('policyVersion', 'must be "sha256:<hex>"');
  const policy = checkPolicy(raw.policy);
  // integrity: the policy must hash to the version it claims. Fast path: hash the policy's own
  // text (what toBundle wrote); otherwise (re-formatted file) hash its canonical re-serialization.
  let actual: string | null = null;
  const at = text.indexOf('"policy":{');
  if (at >= 0) {
    const end = text.trimEnd().length - 1;
    if (text[end] === '}') actual = hashText(text.slice(at + 9, end));
  }
  if (actual !== raw.policyVersion) actual = hashPolicy(policy);
  if (actual !== raw.policyVersion) {
    throw new BundleError(`invalid bundle: its content hashes to ${actual}, not the ${raw.policyVersion} it claims; the file was modified or corrupted — rebuild it with "warden rules bundle"`);
  }
  return new WardenPolicy(policy, actual);
}

export function loadBundleFile(path: string): WardenPolicy {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new BundleError(`cannot read bundle ${path}: ${(cause as Error).message}`, { cause });
  }
  return readBundle(text);
}
