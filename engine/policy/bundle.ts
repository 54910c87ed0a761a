import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Access, FunctionIdentity, Mode } from '../events/access-event';
import { BundleError } from './errors';
import { functionMode, hashPolicy, hashText, INTERNAL_ERROR_RULE, normalizeRepo, WardenPolicy } from './compile';
import { globMatch, hasWildcard } from './glob';
import type { RulesRepo } from './loader';
import type { NormalizedEntry, NormalizedException, NormalizedGroup, NormalizedPolicy } from './normalize';
import type { CompiledPolicy, ListVerdict } from './types';

/** The format `toBundle` writes. */
export const BUNDLE_FORMAT = 'warden.bundle/2';
/** Every format the readers accept (`/1`: no index; read in full). */
export const BUNDLE_FORMATS = ['warden.bundle/1', BUNDLE_FORMAT] as const;

/** [start, end) byte offsets into the UTF-8 text of `policy` as written (start of that text = 0). */
export type ByteSpan = [number, number];

/**
 * Where each part of the policy text is, so an agent can hash the whole text but parse only its
 * own function's groups. Not covered by `policyVersion`: the reader checks it against the text.
 */
export interface BundleIndex {
  /** span of `policy.groups[i]`; `modes[i]` names its functions and mode */
  groups: ByteSpan[];
  global: ByteSpan;
  exceptions: ByteSpan;
  responses: ByteSpan;
}

/**
 * The compiled policy as one JSON artifact. `policy` is the canonical normalized form (sorted,
 * derived ids filled in, hosts lower-cased, CIDRs canonical, expiry as epoch ms), and it is the
 * last key, so its text in the file is exactly the canonical JSON that `policyVersion` hashes.
 */
export interface PolicyBundle {
  format: typeof BUNDLE_FORMAT;
  policyVersion: string;
  /** per-function-group modes, for a quick look without reading the lists (same order as the groups) */
  modes: { functions: string[]; mode: string | null }[];
  entries: number;
  /** null when the policy object is not in the canonical key order (readers then read it in full) */
  index: BundleIndex | null;
  policy: NormalizedPolicy;
}

const POLICY_KEYS = 'groups,global,exceptions,responses';
// how JSON.stringify writes the canonical policy around its parts (ASCII: length = bytes)
const T_GROUPS = '{"groups":[';
const T_GLOBAL = '],"global":';
const T_EXCEPTIONS = ',"exceptions":';
const T_RESPONSES = ',"responses":';
const utf8Length = (s: string): number => Buffer.byteLength(s, 'utf8');

/** Byte spans of the policy's parts in JSON.stringify(policy), without building that text. */
function spansOf(policy: NormalizedPolicy): BundleIndex | null {
  if (Object.keys(policy).join(',') !== POLICY_KEYS) return null;
  const groups: ByteSpan[] = [];
  let pos = T_GROUPS.length;
  for (let i = 0; i < policy.groups.length; i++) {
    const text = JSON.stringify(policy.groups[i]) as string | undefined;
    if (text === undefined) return null;
    if (i > 0) pos++;
    groups.push([pos, (pos += utf8Length(text))]);
  }
  const spans: ByteSpan[] = [];
  for (const [key, value] of [[T_GLOBAL, policy.global], [T_EXCEPTIONS, policy.exceptions], [T_RESPONSES, policy.responses]] as const) {
    const text = JSON.stringify(value) as string | undefined;
    if (text === undefined) return null;
    pos += key.length;
    spans.push([pos, (pos += utf8Length(text))]);
  }
  return { groups, global: spans[0]!, exceptions: spans[1]!, responses: spans[2]! };
}

export function toBundle(source: WardenPolicy | RulesRepo): PolicyBundle {
  const policy = source instanceof WardenPolicy ? source.normalized : normalizeRepo(source);
  const version = source instanceof WardenPolicy ? source.policyVersion : hashPolicy(policy);
  let entries = policy.global.allow.length + policy.global.deny.length + policy.exceptions.length;
  for (const g of policy.groups) entries += g.allow.length + g.deny.length;
  // key order matters: `policy` last, so the reader finds the header before it
  return {
    format: BUNDLE_FORMAT,
    policyVersion: version,
    modes: policy.groups.map((g) => ({ functions: g.functions, mode: g.mode })),
    entries,
    index: spansOf(policy),
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

function checkGroup(g: unknown, w: string): NormalizedGroup {
  if (!isObj(g)) fail(w, 'not an object');
  if (!Array.isArray(g.functions) || g.functions.length === 0 || !g.functions.every((f) => typeof f === 'string' && f.length > 0)) fail(`${w}.functions`, 'must be a non-empty list of names');
  if (g.mode !== null && !(typeof g.mode === 'string' && MODE.has(g.mode))) fail(`${w}.mode`, 'must be monitor, block, learn or null');
  if (typeof g.allowList !== 'boolean') fail(`${w}.allowList`, 'must be a boolean');
  checkList(g.allow, `${w}.allow`, false);
  checkList(g.deny, `${w}.deny`, true);
  return g as unknown as NormalizedGroup;
}

function checkGlobal(v: unknown): NormalizedPolicy['global'] {
  if (!isObj(v)) fail('policy.global', 'missing');
  checkList(v.allow, 'policy.global.allow', false);
  checkList(v.deny, 'policy.global.deny', true);
  return v as unknown as NormalizedPolicy['global'];
}

function checkExceptions(v: unknown): NormalizedException[] {
  if (!Array.isArray(v)) fail('policy.exceptions', 'must be a list');
  v.forEach((x: unknown, i: number) => {
    if (!isObj(x) || typeof x.functionName !== 'string' || x.functionName.length === 0) fail(`policy.exceptions[${i}]`, 'needs a functionName');
    checkEntry(x.entry, `policy.exceptions[${i}].entry`, false);
  });
  return v as NormalizedException[];
}

function checkPolicy(p: unknown): NormalizedPolicy {
  if (!isObj(p)) fail('policy', 'missing');
  if (!Array.isArray(p.groups)) fail('policy.groups', 'must be a list');
  p.groups.forEach((g: unknown, i: number) => checkGroup(g, `policy.groups[${i}]`));
  checkGlobal(p.global);
  checkExceptions(p.exceptions);
  // the response rules are validated in full (zod) by createResponseSelector, which the engine
  // calls at load; agents never use them. Here: only their shape.
  if (p.responses !== null && !(isObj(p.responses) && Array.isArray(p.responses.rules))) fail('policy.responses', 'must be null or { rules: [...] }');
  return p as unknown as NormalizedPolicy;
}

const isFormat = (f: unknown): boolean => (BUNDLE_FORMATS as readonly unknown[]).includes(f);
const VERSION_SHAPE = /^sha256:[0-9a-f]{16,64}$/;

/**
 * Parses and verifies a whole bundle (`warden.bundle/1` or `/2`; the index of a /2 bundle is not
 * needed here). Throws BundleError for anything but an intact bundle. The engine's reader.
 */
export function readBundle(text: string): WardenPolicy {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new BundleError(`invalid bundle: not JSON (${(cause as Error).message}); is the file truncated?`, { cause });
  }
  if (!isObj(raw)) fail('bundle', 'not a JSON object');
  if (!isFormat(raw.format)) fail('format', `expected "${BUNDLE_FORMAT}" (or "${BUNDLE_FORMATS[0]}"), got ${JSON.stringify(raw.format)}`);
  if (typeof raw.policyVersion !== 'string' || !VERSION_SHAPE.test(raw.policyVersion)) fail('policyVersion', 'must be "sha256:<hex>"');
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

// ---- the agent's reader: one function's part of the policy ----

const T_POLICY = ',"policy":';
const T_HEAD = `{"format":"${BUNDLE_FORMAT}","policyVersion":"`;
const HEADER_KEYS = 'format,policyVersion,modes,entries,index';
const T_FUNCTIONS = 'functions';
const COMMA = 0x2c, CLOSE = 0x7d, QUOTE = 0x22;
/** What another function gets from a policy read for one function: the internal-error deny. */
const NOT_THIS_FUNCTION: ListVerdict = Object.freeze({ verdict: 'deny', rule: INTERNAL_ERROR_RULE, severity: 'high' });

/**
 * A policy read for ONE function (`readBundleFor`): decides, and answers modes, for that function
 * only. Asked about any other function it answers the internal-error deny and mode `block` — it
 * never silently decides with a partial policy. It offers no `normalized` policy and no response
 * rules (those are the engine's; it reads the full bundle).
 */
export class ScopedPolicy implements CompiledPolicy {
  readonly policyVersion: string;
  private readonly mode: Mode;
  /**
   * `via` — `index`: only this function's groups were parsed (the bundle index checked against
   * the text); `full`: the whole bundle was read and verified (a /1 or re-formatted bundle), and
   * `fallback` says why.
   */
  constructor(readonly functionName: string, private readonly policy: WardenPolicy, groups: readonly NormalizedGroup[], readonly via: 'index' | 'full', readonly fallback?: string) {
    this.policyVersion = policy.policyVersion;
    // computed here, not by policy.modeFor, which indexes the lists: that waits for the first decision
    this.mode = modeOf(groups, functionName);
  }

  modeFor(functionName: string): Mode {
    return functionName === this.functionName ? this.mode : 'block';
  }

  decide(fn: Pick<FunctionIdentity, 'name'>, access: Access, now: number): ListVerdict {
    return fn.name === this.functionName ? this.policy.decide(fn, access, now) : NOT_THIS_FUNCTION;
  }

  /** true when some function file names this function. Throws for another function: this policy cannot know. */
  hasRulesFor(functionName: string): boolean {
    if (functionName !== this.functionName) throw new BundleError(`this policy was read for function "${this.functionName}" only; it cannot answer for "${functionName}" (read the full bundle with readBundle)`);
    return this.policy.hasRulesFor(functionName);
  }

  /** Indexes the function's lists now (otherwise on its first decision). */
  indexAll(): this {
    this.policy.indexAll();
    return this;
  }
}

/** The function's mode, as WardenPolicy.modeFor decides it (functionMode), from the normalized groups. */
function modeOf(groups: readonly NormalizedGroup[], name: string): Mode {
  const applying: { exact: boolean; mode: Mode | null }[] = [];
  for (const g of groups) {
    // a group naming the function exactly and by glob counts twice, as WardenPolicy splits it
    if (g.functions.some((f) => !hasWildcard(f) && f === name)) applying.push({ exact: true, mode: g.mode });
    if (g.functions.some((f) => hasWildcard(f) && globMatch(f, name))) applying.push({ exact: false, mode: g.mode });
  }
  return functionMode(applying);
}

/** Same selection as WardenPolicy's resolve: a group applies by exact name or by glob. */
function groupApplies(functions: readonly string[], name: string): boolean {
  for (const f of functions) if (hasWildcard(f) ? globMatch(f, name) : f === name) return true;
  return false;
}

/** Internal: the fast path does not apply (never escapes readBundleFor: it falls back to the full read). */
class NotIndexed extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotIndexed';
  }
}
function notIndexed(why: string): never {
  throw new NotIndexed(why);
}

const isSpan = (v: unknown): v is ByteSpan =>
  Array.isArray(v) && v.length === 2 && Number.isSafeInteger(v[0]) && Number.isSafeInteger(v[1]) && (v[0] as number) >= 0 && (v[0] as number) < (v[1] as number);

/** true when the UTF-8 bytes of `token` are at `pos` in `buf`. */
function bytesAt(buf: Buffer, pos: number, token: string): boolean {
  if (pos < 0 || pos + token.length > buf.length) return false;
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (c >= 0x80) {
      const bytes = Buffer.from(token, 'utf8');
      return pos + bytes.length <= buf.length && buf.compare(bytes, 0, bytes.length, pos, pos + bytes.length) === 0;
    }
    if (buf[pos + i] !== c) return false;
  }
  return true;
}

const parseSpan = (policy: Buffer, [s, e]: ByteSpan, where: string): unknown => {
  try {
    return JSON.parse(policy.toString('utf8', s, e));
  } catch {
    return notIndexed(`${where} span is not one JSON value`);
  }
};

/**
 * The fast path: header, hash of the policy bytes, the index proved against those bytes, then
 * JSON.parse + checks of only the parts the function needs. Throws NotIndexed (→ full read) for
 * anything it does not expect, BundleError for a bundle whose parts are invalid.
 */
function readIndexed(buf: Buffer, functionName: string): ScopedPolicy {
  if (!bytesAt(buf, 0, T_HEAD)) notIndexed(`not a ${BUNDLE_FORMAT} bundle as "warden rules bundle" writes it`);
  // a raw `,"policy":` cannot occur inside a JSON string (the quote would be escaped): this is the
  // first top-level key after the header, or the header does not parse below
  const at = buf.indexOf(T_POLICY);
  if (at < 0) notIndexed('no "policy" key');
  let head: Record<string, unknown>;
  try {
    head = JSON.parse(`${buf.toString('utf8', 0, at)}}`) as Record<string, unknown>;
  } catch {
    return notIndexed('the header before "policy" is not a JSON object');
  }
  if (!isObj(head) || Object.keys(head).join(',') !== HEADER_KEYS) notIndexed(`header keys are not ${HEADER_KEYS}`);
  const version = head.policyVersion;
  if (typeof version !== 'string' || !VERSION_SHAPE.test(version)) notIndexed('bad policyVersion');
  const modes = head.modes, index = head.index;
  if (!isObj(index) || Object.keys(index).join(',') !== POLICY_KEYS) notIndexed('no index');
  const spans = index.groups;
  if (!Array.isArray(modes) || !Array.isArray(spans) || spans.length !== modes.length || !spans.every(isSpan)) notIndexed('index.groups does not match modes');
  if (!isSpan(index.global) || !isSpan(index.exceptions) || !isSpan(index.responses)) notIndexed('bad index spans');

  // the policy text: after `"policy":` up to the bundle's closing brace
  let end = buf.length;
  while (end > 0 && (buf[end - 1] === 0x20 || buf[end - 1] === 0x0a || buf[end - 1] === 0x0d || buf[end - 1] === 0x09)) end--;
  if (buf[end - 1] !== CLOSE) notIndexed('the bundle does not end with "}"');
  const policy = buf.subarray(at + T_POLICY.length, end - 1);
  // the full reader decodes the file as UTF-8 (bad bytes become U+FFFD) and hashes that text:
  // hash the bytes only when they are what it would hash
  if (!isUtf8(policy)) notIndexed('the policy text is not valid UTF-8');
  const actual = `sha256:${createHash('sha256').update(policy).digest('hex').slice(0, 16)}`;
  if (actual !== version) notIndexed('the policy bytes do not hash to policyVersion'); // the full reader explains

  // The index is not covered by the hash: prove it. The spans must partition the text exactly
  // as JSON.stringify writes the canonical policy, and group i must start with the functions and
  // mode that modes[i] claims. Escapes could spell a key without its letters: none allowed.
  if (policy.indexOf('\\u') >= 0) notIndexed('the policy text contains \\u escapes');
  if (!bytesAt(policy, 0, T_GROUPS)) notIndexed('policy does not start with groups');
  let pos = T_GROUPS.length;
  for (let i = 0; i < spans.length; i++) {
    const m = modes[i] as unknown;
    if (!isObj(m) || !Array.isArray(m.functions) || m.functions.length === 0 || !m.functions.every((f) => typeof f === 'string' && f.length > 0)) notIndexed(`modes[${i}] has no functions`);
    if (m.mode !== null && !(typeof m.mode === 'string' && MODE.has(m.mode))) notIndexed(`modes[${i}] has a bad mode`);
    if (i > 0) { if (policy[pos] !== COMMA) notIndexed(`no "," before group ${i}`); pos++; }
    const [s, e] = spans[i] as ByteSpan;
    const prefix = `{"functions":${JSON.stringify(m.functions)},"mode":${JSON.stringify(m.mode)},"allowList":`;
    if (s !== pos || policy.toString('utf8', s, s + Buffer.byteLength(prefix)) !== prefix || policy[e - 1] !== CLOSE) notIndexed(`group ${i} is not where the index says, or not for the functions it names`);
    pos = e;
  }
  const groupsEnd = pos;
  // One group per span: every group has exactly one `"functions"` key, so its occurrences in the
  // groups part must be exactly one per span, at its start (a span covering two groups would
  // hide one). Searched without the quotes (faster), which are checked on each hit.
  let hits = 0;
  for (let from = 0; ;) {
    const hit = policy.indexOf(T_FUNCTIONS, from);
    if (hit < 0 || hit >= groupsEnd) break;
    from = hit + T_FUNCTIONS.length;
    if (policy[hit - 1] !== QUOTE || policy[from] !== QUOTE) continue;
    if (hits >= spans.length || hit !== (spans[hits] as ByteSpan)[0] + 2) notIndexed('a group is not at an indexed position');
    hits++;
  }
  if (hits !== spans.length) notIndexed('groups without an index entry');
  // the groups end at the first `],"global":` (none can occur inside a group); only the last
  // span could reach past it: the others end where the next group starts
  const last = spans.length > 0 ? (spans[spans.length - 1] as ByteSpan)[0] : 0;
  const end0 = policy.indexOf(T_GLOBAL, last);
  if (end0 !== groupsEnd) notIndexed('the groups do not end where the index says');
  pos += T_GLOBAL.length;
  for (const [span, next, what] of [[index.global, T_EXCEPTIONS, 'global'], [index.exceptions, T_RESPONSES, 'exceptions']] as const) {
    if (span[0] !== pos || !bytesAt(policy, span[1], next)) notIndexed(`${what} is not where the index says`);
    pos = span[1] + next.length;
  }
  if (index.responses[0] !== pos || index.responses[1] !== policy.length - 1 || policy[policy.length - 1] !== CLOSE) notIndexed('responses are not where the index says');

  // parse and check only what this function needs
  const groups: NormalizedGroup[] = [];
  for (let i = 0; i < spans.length; i++) {
    const m = modes[i] as { functions: string[] };
    if (!groupApplies(m.functions, functionName)) continue;
    const g = checkGroup(parseSpan(policy, spans[i] as ByteSpan, `group ${i}`), `policy.groups[${i}]`);
    if (JSON.stringify(g.functions) !== JSON.stringify(m.functions)) notIndexed(`group ${i} is not for the functions the index names`);
    groups.push(g);
  }
  const global = checkGlobal(parseSpan(policy, index.global, 'global'));
  const exceptions = checkExceptions(parseSpan(policy, index.exceptions, 'exceptions')).filter((x) => x.functionName === functionName);
  return new ScopedPolicy(functionName, new WardenPolicy({ groups, global, exceptions, responses: null }, version), groups, 'index');
}

/**
 * Reads a bundle for ONE function (the agent's reader): verifies the integrity of the whole policy
 * (its bytes hash to `policyVersion`) but parses and checks only the function's groups, the global
 * lists and its exceptions, using the bundle's byte index — after proving the index against the
 * text. Anything unexpected (a /1 bundle, a re-formatted file, an index that does not match) falls
 * back to the full `readBundle`; it never fails open. Throws BundleError for an invalid bundle.
 * Groups of other functions are hashed and delimited, not parsed.
 */
export function readBundleFor(bytes: Uint8Array | string, functionName: string): ScopedPolicy {
  if (typeof functionName !== 'string' || functionName.length === 0) throw new BundleError('readBundleFor needs the function name the policy is read for');
  const buf = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let why: string;
  try {
    return readIndexed(buf, functionName);
  } catch (err) {
    // an invalid part (BundleError) is invalid for the full reader too; anything else: read in full
    if (err instanceof BundleError) throw err;
    why = err instanceof NotIndexed ? err.message : `unexpected ${(err as Error)?.name ?? 'error'}: ${(err as Error)?.message ?? String(err)}`;
  }
  const full = readBundle(typeof bytes === 'string' ? bytes : buf.toString('utf8'));
  return new ScopedPolicy(functionName, full, full.normalized.groups.filter((g) => groupApplies(g.functions, functionName)), 'full', why);
}

/** `readBundleFor` of a file. */
export function loadBundleFileFor(path: string, functionName: string): ScopedPolicy {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (cause) {
    throw new BundleError(`cannot read bundle ${path}: ${(cause as Error).message}`, { cause });
  }
  return readBundleFor(bytes, functionName);
}
