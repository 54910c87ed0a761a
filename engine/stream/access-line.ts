import { AccessEventSchema, AccessSchema, FunctionIdentitySchema, type AccessEvent } from '../events/access-event';

/**
 * Parses one JSONL line into an AccessEvent. The hot path checks the common, well-formed shape by
 * hand (about 10x cheaper than a full zod parse) and accepts only what AccessEventSchema accepts;
 * anything unusual — a missing field, a wrong type, an out-of-range value — falls back to the
 * schema, which either accepts it or produces the error message. So the result never differs
 * from `AccessEventSchema.safeParse`, only the cost does (property-tested in test/learn).
 */
export type LineResult = { ok: true; event: AccessEvent } | { ok: false; error: string };

const KINDS = new Set(['aws', 'http', 'tcp']);
const MODES = new Set(['monitor', 'block', 'learn']);
const VERDICTS = new Set(['allow', 'deny', 'unlisted']);

const isStr = (v: unknown, min: number, max: number): v is string =>
  typeof v === 'string' && v.length >= min && v.length <= max;
const optStr = (v: unknown, max: number): boolean => v === undefined || (typeof v === 'string' && v.length <= max);
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/**
 * Date.parse with two memos: an event's time, firstSeen and lastSeen are usually the same string,
 * and consecutive events usually share the second (`2026-11-23T18:00:00` + `.123Z`), so the
 * canonical form costs a prefix compare and three digits instead of a full parse.
 */
let memoTime = '';
let memoMs = NaN;
let memoSecond = '\u0000'; // 19-char `YYYY-MM-DDTHH:MM:SS` whose `Z` form parsed to memoSecondMs
let memoSecondMs = NaN;
const digit = (c: number): number => (c >= 48 && c <= 57 ? c - 48 : -1);
export function parseTime(s: string): number {
  if (s === memoTime) return memoMs;
  let ms: number;
  if (s.length === 24 && s.charCodeAt(19) === 46 /* . */ && s.charCodeAt(23) === 90 /* Z */) {
    const d1 = digit(s.charCodeAt(20)), d2 = digit(s.charCodeAt(21)), d3 = digit(s.charCodeAt(22));
    if (d1 >= 0 && d2 >= 0 && d3 >= 0) {
      if (!s.startsWith(memoSecond)) {
        memoSecond = s.slice(0, 19);
        memoSecondMs = Date.parse(`${memoSecond}Z`);
      }
      ms = memoSecondMs + d1 * 100 + d2 * 10 + d3;
    } else {
      ms = Date.parse(s);
    }
  } else {
    ms = Date.parse(s);
  }
  memoTime = s;
  memoMs = ms;
  return ms;
}
const isTime = (v: unknown): v is string => typeof v === 'string' && v.length <= 64 && !Number.isNaN(parseTime(v));

// The fast path knows exactly these fields. If the schema grows a field, the fast path switches
// itself off (everything goes through the schema) rather than silently dropping the new field.
const KNOWN = {
  event: 'id,time,function,access,mode,agentVerdict,blocked,count,firstSeen,lastSeen,policyVersion,failOpen',
  fn: 'name,account,region,roleArn,tags',
  access: 'kind,service,action,resource,host,address,port,method',
};
const keysOf = (shape: object): string => Object.keys(shape).join(',');
export const FAST_PATH_ENABLED =
  keysOf(AccessEventSchema.shape) === KNOWN.event && keysOf(FunctionIdentitySchema.shape) === KNOWN.fn && keysOf(AccessSchema.shape) === KNOWN.access;

function fastEvent(o: unknown): AccessEvent | null {
  if (!FAST_PATH_ENABLED || !isObj(o)) return null;
  const { id, time, function: fn, access: a, mode, agentVerdict, blocked, count, firstSeen, lastSeen, policyVersion, failOpen } = o;
  if (!isStr(id, 1, 128) || !isTime(time) || !isObj(fn) || !isObj(a)) return null;
  if (!isStr(fn.name, 1, 256) || !optStr(fn.account, 32) || !optStr(fn.region, 64) || !optStr(fn.roleArn, 2048)) return null;
  let tags: Record<string, string> = {};
  if (fn.tags !== undefined) {
    // an own `__proto__` key (JSON.parse makes one) is dropped by the schema's record: let it decide
    if (!isObj(fn.tags) || Object.getPrototypeOf(fn.tags) !== Object.prototype || Object.hasOwn(fn.tags, '__proto__')) return null;
    for (const k in fn.tags) {
      if (k.length > 256 || !isStr(fn.tags[k], 0, 512)) return null;
    }
    tags = fn.tags as Record<string, string>;
  }
  const kind = a.kind;
  if (typeof kind !== 'string' || !KINDS.has(kind)) return null;
  if (!optStr(a.resource, 2048) || !optStr(a.address, 128) || !optStr(a.method, 32)) return null;
  if (a.service !== undefined && !isStr(a.service, 1, 128)) return null;
  if (a.action !== undefined && !isStr(a.action, 1, 256)) return null;
  if (a.host !== undefined && !isStr(a.host, 1, 1024)) return null;
  if (a.port !== undefined && !(Number.isInteger(a.port) && (a.port as number) >= 0 && (a.port as number) <= 65535)) return null;
  if (kind === 'aws' ? !a.service || !a.action : !a.host && !a.address) return null;
  if (mode !== undefined && !(typeof mode === 'string' && MODES.has(mode))) return null;
  if (agentVerdict !== undefined && !(typeof agentVerdict === 'string' && VERDICTS.has(agentVerdict))) return null;
  if (blocked !== undefined && typeof blocked !== 'boolean') return null;
  if (count !== undefined && !(Number.isSafeInteger(count) && (count as number) >= 1)) return null;
  if ((firstSeen !== undefined && !isTime(firstSeen)) || (lastSeen !== undefined && !isTime(lastSeen))) return null;
  if (!optStr(policyVersion, 128)) return null;
  if (failOpen !== undefined && typeof failOpen !== 'boolean') return null;

  // Same output shape as the schema: known keys only, defaults applied, optional keys absent when unset.
  const access: AccessEvent['access'] = { kind: kind as AccessEvent['access']['kind'] };
  if (a.service !== undefined) access.service = a.service as string;
  if (a.action !== undefined) access.action = a.action as string;
  if (a.resource !== undefined) access.resource = a.resource as string;
  if (a.host !== undefined) access.host = a.host as string;
  if (a.address !== undefined) access.address = a.address as string;
  if (a.port !== undefined) access.port = a.port as number;
  if (a.method !== undefined) access.method = a.method as string;
  const func: AccessEvent['function'] = { name: fn.name, tags };
  if (fn.account !== undefined) func.account = fn.account as string;
  if (fn.region !== undefined) func.region = fn.region as string;
  if (fn.roleArn !== undefined) func.roleArn = fn.roleArn as string;
  const ev: AccessEvent = {
    id, time, function: func, access,
    mode: (mode as AccessEvent['mode'] | undefined) ?? 'monitor',
    blocked: (blocked as boolean | undefined) ?? false,
    count: (count as number | undefined) ?? 1,
  };
  if (agentVerdict !== undefined) ev.agentVerdict = agentVerdict as AccessEvent['agentVerdict'];
  if (firstSeen !== undefined) ev.firstSeen = firstSeen as string;
  if (lastSeen !== undefined) ev.lastSeen = lastSeen as string;
  if (policyVersion !== undefined) ev.policyVersion = policyVersion as string;
  if (failOpen !== undefined) ev.failOpen = failOpen;
  return ev;
}

/** Parses an already-decoded JSON value (fast path, then the schema). */
export function toAccessEvent(value: unknown): LineResult {
  const fast = fastEvent(value);
  if (fast) return { ok: true, event: fast };
  const r = AccessEventSchema.safeParse(value);
  if (r.success) return { ok: true, event: r.data };
  const issues = r.error.issues.slice(0, 3).map((i) => `${i.path.length ? i.path.join('.') : '(event)'}: ${i.message}`);
  return { ok: false, error: `not a valid access event: ${issues.join('; ')}` };
}

/*
 * The line-level fast path: one anchored regular expression (V8 compiles it to native code) for
 * the line the agent writes — its key order, strings without escapes or control characters, the
 * count spelled as a plain integer — capturing the fields as they are. The `function` and `access`
 * objects are captured as text, decoded by JSON.parse + their own schema the first time that exact
 * text is seen, and memoized: most lines repeat a function and an access seen before.
 *
 * Why it cannot differ from JSON.parse + AccessEventSchema: every string the expression matches is
 * a JSON string whose value is its text (no `"`, `\`, or control character inside), the top-level
 * keys are fixed and distinct, and a captured sub-object is a JSON value by the grammar (and
 * JSON.parse of that text alone is its value in the line). Anything else — whitespace, escapes,
 * another key order, an unknown key, a number in another spelling — returns null and takes the
 * JSON.parse path, which gives the same answer or the error message. Property-tested against
 * JSON.parse + the schema on generated, mutated and edited lines (test/learn/access-line-text).
 *
 * The memoized objects are shared by every event with that exact text, so they are frozen.
 */
const S = String.raw`[^"\\\x00-\x1f]`;
const STR = `"${S}*"`;
const NUM = String.raw`-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?`;
const FLAT = String.raw`\{(?:${STR}:${STR}(?:,${STR}:${STR})*)?\}`;
// function: string members and at most flat objects of strings (tags); access: strings and numbers
const FN_OBJ = String.raw`\{(?:${STR}:(?:${STR}|${FLAT})(?:,${STR}:(?:${STR}|${FLAT}))*)?\}`;
const ACCESS_OBJ = String.raw`\{(?:${STR}:(?:${STR}|${NUM})(?:,${STR}:(?:${STR}|${NUM}))*)?\}`;
const LINE_SOURCE = (
  String.raw`\{"id":"(${S}{1,128})","time":"(${S}{1,64})","function":(\{"name":"(${S}{1,256})"(?:,${STR}:(?:${STR}|${FLAT}))*\}|${FN_OBJ}),"access":(${ACCESS_OBJ})` +
  // one-word values as empty groups (which one matched; no string made), firstSeen/lastSeen equal
  // to time as a back-reference (the usual case: no string made, and no second time parse)
  String.raw`(?:,"mode":"(?:monitor()|block()|learn())")?(?:,"agentVerdict":"(?:allow()|deny()|unlisted())")?(?:,"blocked":(?:true()|false()))?` +
  String.raw`(?:,"count":([1-9][0-9]{0,15}))?(?:,"firstSeen":"(?:\2"()|(${S}{0,64})"))?(?:,"lastSeen":"(?:\2"()|(${S}{0,64})"))?` +
  String.raw`(?:,"policyVersion":"(${S}{0,128})")?(?:,"failOpen":(?:true()|false()))?\}`
);
const LINE = new RegExp(`^${LINE_SOURCE}$`);
// the same, at a position of a decoded chunk; the line ends at a (CR)LF or the end of the text
const LINE_AT = new RegExp(`${LINE_SOURCE}(?=\r?\n|\r?$)`, 'y');

/**
 * A copy of `s` that does not keep alive the string it was sliced from (V8 keeps the whole line
 * behind a substring): for the few strings that outlive their line, like memo keys.
 */
export const detach = (s: string): string => (` ${s}`).slice(1);

/** Memo of decoded sub-objects by their exact text (null: the schema rejects it). Cleared when full. */
class TextMemo<T extends object> {
  private readonly map = new Map<string, T | null>();
  constructor(private readonly max: number, private readonly decode: (v: unknown) => T | null) {}
  get(text: string): T | null {
    const hit = this.map.get(text);
    if (hit !== undefined) return hit;
    let value: T | null;
    try {
      value = this.decode(JSON.parse(text));
    } catch {
      value = null;
    }
    if (this.map.size >= this.max) this.map.clear();
    this.map.set(detach(text), value);
    return value;
  }
}

const FUNCTIONS = new TextMemo<AccessEvent['function']>(4096, (v) => {
  const r = FunctionIdentitySchema.safeParse(v);
  if (!r.success) return null;
  Object.freeze(r.data.tags);
  return Object.freeze(r.data);
});
// A function's text is (nearly) the same on each of its lines: find it by its name (short, cheap
// to hash) among the few texts seen with that name (other tags, say), comparing whole texts,
// instead of hashing the whole text for the memo on every line.
interface FunctionText { text: string; tail: number; fn: AccessEvent['function'] | null }
const FUNCTION_BY_NAME = new Map<string, FunctionText[]>();
const TEXTS_PER_NAME = 8;
/** a few characters of the end of the text (where the tags are) and its length: compared before the text */
function tailOf(text: string): number {
  const n = text.length;
  let h = n;
  for (let i = n > 12 ? n - 12 : 0; i < n; i++) h = (h * 31 + text.charCodeAt(i)) | 0;
  return h;
}
function functionOf(text: string, name: string | undefined): AccessEvent['function'] | null {
  if (name === undefined) return FUNCTIONS.get(text);
  let texts = FUNCTION_BY_NAME.get(name);
  const tail = tailOf(text);
  if (texts !== undefined) {
    for (let i = 0; i < texts.length; i++) {
      const t = texts[i]!;
      if (t.tail === tail && t.text === text) return t.fn;
    }
  } else {
    if (FUNCTION_BY_NAME.size >= 4096) FUNCTION_BY_NAME.clear();
    FUNCTION_BY_NAME.set(detach(name), (texts = []));
  }
  const fn = FUNCTIONS.get(text);
  if (texts.length >= TEXTS_PER_NAME) texts.shift();
  texts.push({ text: detach(text), tail, fn });
  return fn;
}
const ACCESSES = new TextMemo<AccessEvent['access']>(32768, (v) => {
  const r = AccessSchema.safeParse(v);
  return r.success ? Object.freeze(r.data) : null;
});

const timeOk = (s: string | undefined): boolean => s === undefined || !Number.isNaN(parseTime(s));

/**
 * The access event of an agent-written line, or null when the line is not in the agent's exact
 * form (then parseAccessLine's JSON.parse path decides). Never returns an event the schema would
 * reject, and the event equals the schema's. `function` and `access` are shared and frozen.
 */
export function parseAgentLine(text: string): AccessEvent | null {
  if (!FAST_PATH_ENABLED) return null;
  const m = LINE.exec(text);
  return m === null ? null : eventOf(m);
}

/** parseAgentLine of `text.slice(start, end)`, without making that string. */
export function parseAgentLineAt(text: string, start: number, end: number): AccessEvent | null {
  if (!FAST_PATH_ENABLED) return null;
  LINE_AT.lastIndex = start;
  const m = LINE_AT.exec(text);
  return m === null || LINE_AT.lastIndex !== end ? null : eventOf(m);
}

// capture groups of LINE_SOURCE
const G = {
  id: 1, time: 2, fnText: 3, fnName: 4, access: 5, monitor: 6, block: 7, learn: 8, allow: 9, deny: 10, unlisted: 11,
  blocked: 12, notBlocked: 13, count: 14, firstIsTime: 15, first: 16, lastIsTime: 17, last: 18, policyVersion: 19, failOpen: 20, notFailOpen: 21,
} as const;

function eventOf(m: RegExpExecArray): AccessEvent | null {
  const time = m[G.time]!;
  const first = m[G.first], last = m[G.last];
  if (!timeOk(time) || !timeOk(first) || !timeOk(last)) return null;
  const count = m[G.count] === undefined ? 1 : Number(m[G.count]);
  if (!Number.isSafeInteger(count)) return null;
  const fn = functionOf(m[G.fnText]!, m[G.fnName]);
  if (fn === null) return null;
  const access = ACCESSES.get(m[G.access]!);
  if (access === null) return null;
  const ev: AccessEvent = {
    id: m[G.id]!, time, function: fn, access,
    mode: m[G.block] !== undefined ? 'block' : m[G.learn] !== undefined ? 'learn' : 'monitor',
    blocked: m[G.blocked] !== undefined,
    count,
  };
  if (m[G.allow] !== undefined) ev.agentVerdict = 'allow';
  else if (m[G.deny] !== undefined) ev.agentVerdict = 'deny';
  else if (m[G.unlisted] !== undefined) ev.agentVerdict = 'unlisted';
  if (m[G.firstIsTime] !== undefined) ev.firstSeen = time;
  else if (first !== undefined) ev.firstSeen = first;
  if (m[G.lastIsTime] !== undefined) ev.lastSeen = time;
  else if (last !== undefined) ev.lastSeen = last;
  if (m[G.policyVersion] !== undefined) ev.policyVersion = m[G.policyVersion];
  if (m[G.failOpen] !== undefined) ev.failOpen = true;
  else if (m[G.notFailOpen] !== undefined) ev.failOpen = false;
  return ev;
}

export function parseAccessLine(text: string): LineResult {
  const fast = parseAgentLine(text);
  if (fast !== null) return { ok: true, event: fast };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `not valid JSON: ${(err as Error).message}` };
  }
  return toAccessEvent(value);
}

/** A blank (or whitespace-only) line is not an event and not an error. */
export function isBlank(text: string): boolean {
  return text.length === 0 || text.trim().length === 0;
}
