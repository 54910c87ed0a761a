/**
 * EventBridge event-pattern matching, faithful to the documented semantics of the operators
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html):
 * exact values (strings, numbers compared numerically, booleans, null), arrays = OR, `prefix`,
 * `suffix` (both also with `equals-ignore-case`), `equals-ignore-case`, `anything-but` (value,
 * list, prefix, suffix, wildcard, equals-ignore-case), `exists`, `numeric`, `cidr`, `wildcard`
 * and `$or`. Matching is done against the leaf values of the event, as EventBridge (Ruler) does:
 * an array in the event matches when any of its elements does, and a field holding an object is
 * not a leaf (so `exists: true` never matches it and `exists: false` does).
 *
 * Patterns are validated first; an invalid pattern throws `EventPatternError` saying what is wrong.
 */

export class EventPatternError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EventPatternError';
  }
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

/** A compiled leaf matcher: returns true when one leaf value of the event satisfies it. */
type LeafTest = (value: Json) => boolean;
interface LeafMatcher {
  /** matches a present leaf value */
  test: LeafTest;
  /** true when the matcher is `{exists: false}` (the only one that matches an absent field) */
  matchesAbsent: boolean;
}

interface CompiledPattern {
  fields: { key: string; node: CompiledNode }[];
  ors: CompiledPattern[][];
}
type CompiledNode = { kind: 'object'; pattern: CompiledPattern } | { kind: 'leaf'; matchers: LeafMatcher[] };

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

function fail(path: string, message: string): never {
  throw new EventPatternError(`invalid event pattern at ${path || '(root)'}: ${message}`);
}

// ---- compiling -------------------------------------------------------------------------------

function compilePattern(pattern: unknown, path: string): CompiledPattern {
  if (!isObject(pattern)) fail(path, 'a pattern must be a JSON object');
  const out: CompiledPattern = { fields: [], ors: [] };
  for (const [key, value] of Object.entries(pattern)) {
    const here = path ? `${path}.${key}` : key;
    if (key === '$or') {
      if (!Array.isArray(value) || value.length < 2) fail(here, '"$or" takes an array of at least two patterns');
      out.ors.push(value.map((p, i) => compilePattern(p, `${here}[${i}]`)));
    } else if (Array.isArray(value)) {
      if (value.length === 0) fail(here, 'an empty array never matches; list at least one value or operator');
      out.fields.push({ key, node: { kind: 'leaf', matchers: value.map((m, i) => compileMatcher(m, `${here}[${i}]`)) } });
    } else if (isObject(value)) {
      out.fields.push({ key, node: { kind: 'object', pattern: compilePattern(value, here) } });
    } else {
      fail(here, `a field must hold an array of values/operators or a nested pattern object, got ${JSON.stringify(value)}; write [${JSON.stringify(value)}]`);
    }
  }
  return out;
}

const sameNumber = (a: number, b: Json) => typeof b === 'number' && a === b;

function exact(expected: Json, path: string): LeafTest {
  if (expected === null) return (v) => v === null;
  if (typeof expected === 'string') return (v) => v === expected;
  if (typeof expected === 'number') return (v) => sameNumber(expected, v);
  if (typeof expected === 'boolean') return (v) => v === expected;
  return fail(path, `unsupported value ${JSON.stringify(expected)}`);
}

function stringOperand(op: string, v: unknown, path: string): string {
  if (typeof v !== 'string') fail(path, `"${op}" takes a string, got ${JSON.stringify(v)}`);
  return v;
}

/** `prefix`/`suffix` take a string or `{ "equals-ignore-case": string }`. */
function affix(op: 'prefix' | 'suffix', operand: unknown, path: string): LeafTest {
  let text: string;
  let ignoreCase = false;
  if (isObject(operand)) {
    const keys = Object.keys(operand);
    if (keys.length !== 1 || keys[0] !== 'equals-ignore-case') fail(path, `"${op}" takes a string or {"equals-ignore-case": string}`);
    text = stringOperand('equals-ignore-case', operand['equals-ignore-case'], path);
    ignoreCase = true;
  } else {
    text = stringOperand(op, operand, path);
  }
  const needle = ignoreCase ? text.toLowerCase() : text;
  return (v) => {
    if (typeof v !== 'string') return false;
    const hay = ignoreCase ? v.toLowerCase() : v;
    return op === 'prefix' ? hay.startsWith(needle) : hay.endsWith(needle);
  };
}

function equalsIgnoreCase(operand: unknown, path: string): LeafTest {
  const lower = stringOperand('equals-ignore-case', operand, path).toLowerCase();
  return (v) => typeof v === 'string' && v.toLowerCase() === lower;
}

/** `*` matches any run of characters; `\*` is a literal star and `\\` a literal backslash. */
export function wildcardToRegExp(pattern: string, path = 'wildcard'): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') {
      const next = pattern[i + 1];
      if (next !== '*' && next !== '\\') fail(path, `"\\" must escape "*" or "\\" in wildcard ${JSON.stringify(pattern)}`);
      re += next === '*' ? '\\*' : '\\\\';
      i++;
    } else if (c === '*') {
      if (pattern[i + 1] === '*') fail(path, `consecutive "*" are not allowed in wildcard ${JSON.stringify(pattern)}`);
      re += '[\\s\\S]*';
    } else {
      re += c.replace(/[.+?^${}()|[\]\\/-]/g, '\\$&');
    }
  }
  return new RegExp(`^${re}$`);
}

function wildcard(operand: unknown, path: string): LeafTest {
  const re = wildcardToRegExp(stringOperand('wildcard', operand, path), path);
  return (v) => typeof v === 'string' && re.test(v);
}

const NUMERIC_OPS = new Set(['<', '<=', '=', '>', '>=']);
function numeric(operand: unknown, path: string): LeafTest {
  if (!Array.isArray(operand) || operand.length === 0 || operand.length % 2 !== 0 || operand.length > 4) {
    fail(path, '"numeric" takes one or two (operator, number) pairs, e.g. [">", 0, "<=", 5]');
  }
  const checks: ((n: number) => boolean)[] = [];
  for (let i = 0; i < operand.length; i += 2) {
    const op = operand[i];
    const bound = operand[i + 1];
    if (typeof op !== 'string' || !NUMERIC_OPS.has(op)) fail(path, `unknown numeric operator ${JSON.stringify(op)} (use <, <=, =, >, >=)`);
    if (typeof bound !== 'number' || !Number.isFinite(bound)) fail(path, `numeric bound after "${op}" must be a number, got ${JSON.stringify(bound)}`);
    checks.push(
      op === '<' ? (n) => n < bound : op === '<=' ? (n) => n <= bound : op === '=' ? (n) => n === bound : op === '>' ? (n) => n > bound : (n) => n >= bound,
    );
  }
  return (v) => typeof v === 'number' && checks.every((c) => c(v));
}

// ---- CIDR ------------------------------------------------------------------------------------

function parseIPv4(s: string): bigint | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    n = (n << 8n) | BigInt(Number(p));
  }
  return n;
}

function parseIPv6(s: string): bigint | undefined {
  let text = s;
  let tail: bigint[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.') && lastColon >= 0) {
    const v4 = parseIPv4(text.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    tail = [v4 >> 16n, v4 & 0xffffn];
    text = text.slice(0, lastColon + 1) + '0:0';
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parse = (h: string) => (h === '' ? [] : h.split(':'));
  const head = parse(halves[0]!);
  const rest = halves.length === 2 ? parse(halves[1]!) : [];
  const missing = 8 - head.length - rest.length;
  if ((halves.length === 1 && missing !== 0) || missing < 0 || (halves.length === 2 && missing < 1)) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...rest];
  let n = 0n;
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    n = (n << 16n) | BigInt(parseInt(g, 16));
  }
  if (tail.length) n = (n & ~0xffffffffn) | (tail[0]! << 16n) | tail[1]!;
  return n;
}

function cidr(operand: unknown, path: string): LeafTest {
  const text = stringOperand('cidr', operand, path);
  const [addr, lenText] = text.split('/');
  const v4 = parseIPv4(addr ?? '');
  const v6 = v4 === undefined ? parseIPv6(addr ?? '') : undefined;
  const bits = v4 !== undefined ? 32 : 128;
  const len = lenText === undefined ? bits : Number(lenText);
  if ((v4 === undefined && v6 === undefined) || !Number.isInteger(len) || len < 0 || len > bits) {
    fail(path, `"cidr" takes an IPv4 or IPv6 range such as "10.0.0.0/24", got ${JSON.stringify(text)}`);
  }
  const shift = BigInt(bits - len);
  const base = (v4 ?? v6!) >> shift;
  return (v) => {
    if (typeof v !== 'string') return false;
    const n = bits === 32 ? parseIPv4(v) : parseIPv6(v);
    return n !== undefined && n >> shift === base;
  };
}

// ---- anything-but ----------------------------------------------------------------------------

function anythingBut(operand: unknown, path: string): LeafTest {
  let excluded: LeafTest;
  if (Array.isArray(operand)) {
    if (operand.length === 0) fail(path, '"anything-but" needs at least one value');
    const tests = operand.map((o, i) => {
      if (typeof o !== 'string' && typeof o !== 'number') fail(`${path}[${i}]`, '"anything-but" lists strings or numbers');
      return exact(o, path);
    });
    excluded = (v) => tests.some((t) => t(v));
  } else if (isObject(operand)) {
    const keys = Object.keys(operand);
    if (keys.length !== 1) fail(path, '"anything-but" takes one of: a value, a list, {prefix}, {suffix}, {wildcard}, {"equals-ignore-case"}');
    const op = keys[0]!;
    const inner = operand[op];
    if (op === 'prefix' || op === 'suffix') {
      excluded = affix(op, stringOperand(op, inner, path), path);
    } else if (op === 'wildcard') {
      const list = Array.isArray(inner) ? inner : [inner];
      const res = list.map((w) => wildcardToRegExp(stringOperand('wildcard', w, path), path));
      excluded = (v) => typeof v === 'string' && res.some((r) => r.test(v));
    } else if (op === 'equals-ignore-case') {
      const list = (Array.isArray(inner) ? inner : [inner]).map((s) => stringOperand(op, s, path).toLowerCase());
      excluded = (v) => typeof v === 'string' && list.includes(v.toLowerCase());
    } else {
      fail(path, `"anything-but" does not support "${op}"`);
    }
    // anything-but over string operators only matches string values
    return (v) => typeof v === 'string' && !excluded(v);
  } else if (typeof operand === 'string' || typeof operand === 'number') {
    excluded = exact(operand, path);
  } else {
    fail(path, `"anything-but" takes a string, number, list or operator object, got ${JSON.stringify(operand)}`);
  }
  return (v) => v !== null && !isObject(v) && !excluded(v);
}

// ---- one leaf matcher --------------------------------------------------------------------------

function compileMatcher(m: unknown, path: string): LeafMatcher {
  if (!isObject(m)) {
    if (Array.isArray(m)) fail(path, 'nested arrays are not allowed in a pattern');
    return { test: exact(m as Json, path), matchesAbsent: false };
  }
  const keys = Object.keys(m);
  if (keys.length !== 1) fail(path, `an operator object holds exactly one operator, got ${JSON.stringify(keys)}`);
  const op = keys[0]!;
  const operand = m[op];
  switch (op) {
    case 'prefix':
    case 'suffix':
      return { test: affix(op, operand, path), matchesAbsent: false };
    case 'equals-ignore-case':
      return { test: equalsIgnoreCase(operand, path), matchesAbsent: false };
    case 'wildcard':
      return { test: wildcard(operand, path), matchesAbsent: false };
    case 'numeric':
      return { test: numeric(operand, path), matchesAbsent: false };
    case 'cidr':
      return { test: cidr(operand, path), matchesAbsent: false };
    case 'anything-but':
      return { test: anythingBut(operand, path), matchesAbsent: false };
    case 'exists':
      if (typeof operand !== 'boolean') fail(path, '"exists" takes true or false');
      return operand ? { test: () => true, matchesAbsent: false } : { test: () => false, matchesAbsent: true };
    default:
      return fail(path, `unknown operator "${op}" (supported: prefix, suffix, equals-ignore-case, wildcard, numeric, cidr, anything-but, exists)`);
  }
}

// ---- matching ---------------------------------------------------------------------------------

/** The leaf values of a field: arrays are flattened, objects are not leaves. */
function leaves(value: Json | undefined): Json[] {
  if (value === undefined) return [];
  if (Array.isArray(value)) return value.flatMap((v) => leaves(v));
  if (isObject(value)) return [];
  return [value];
}

function matchNode(node: CompiledNode, value: Json | undefined): boolean {
  if (node.kind === 'leaf') {
    const vals = leaves(value);
    if (vals.length === 0) return node.matchers.some((m) => m.matchesAbsent);
    return node.matchers.some((m) => !m.matchesAbsent && vals.some((v) => m.test(v)));
  }
  // a nested pattern: against an object, or any object element of an array
  const candidates: Json[] = Array.isArray(value) ? value.flat(Infinity as 1) : value === undefined ? [] : [value];
  const objects = candidates.filter(isObject);
  if (objects.length === 0) return matchObject(node.pattern, {});
  return objects.some((o) => matchObject(node.pattern, o));
}

function matchObject(p: CompiledPattern, obj: JsonObject): boolean {
  for (const { key, node } of p.fields) {
    if (!matchNode(node, Object.prototype.hasOwnProperty.call(obj, key) ? obj[key] : undefined)) return false;
  }
  for (const alternatives of p.ors) {
    if (!alternatives.some((alt) => matchObject(alt, obj))) return false;
  }
  return true;
}

export interface EventPattern {
  readonly source: unknown;
  matches(event: unknown): boolean;
}

/** Validates and compiles a pattern (object or JSON text); throws EventPatternError when invalid. */
export function compileEventPattern(pattern: unknown): EventPattern {
  let parsed = pattern;
  if (typeof pattern === 'string') {
    try {
      parsed = JSON.parse(pattern);
    } catch (err) {
      throw new EventPatternError(`event pattern is not valid JSON: ${(err as Error).message}`, { cause: err });
    }
  }
  const compiled = compilePattern(parsed, '');
  if (compiled.fields.length === 0 && compiled.ors.length === 0) fail('', 'an empty pattern is not allowed; name at least one field');
  return { source: parsed, matches: (event) => isObject(event) && matchObject(compiled, event) };
}

/** One-shot convenience: does `event` match `pattern`? */
export function matchesEventPattern(pattern: unknown, event: unknown): boolean {
  return compileEventPattern(pattern).matches(event);
}

// ---- routing over a synthesized template ------------------------------------------------------

export type TargetKind = 'stateMachine' | 'function' | 'queue' | 'topic' | 'bus' | 'other';

export interface RoutedTarget {
  /** logical id of the AWS::Events::Rule */
  ruleLogicalId: string;
  /** the target's Id inside the rule */
  targetId: string;
  /** logical id of the target resource (state machine, function, ...) when it is in the template */
  targetLogicalId: string | null;
  kind: TargetKind;
  /** the payload EventBridge would deliver (Input / InputPath / InputTransformer applied) */
  input: unknown;
  /** the target's retry policy and dead-letter queue logical id, as synthesized */
  retryPolicy?: { MaximumRetryAttempts?: number; MaximumEventAgeInSeconds?: number };
  deadLetterQueueLogicalId?: string | null;
}

export interface RouteOptions {
  /** only rules on this bus (its Name, or the logical id of the AWS::Events::EventBus); default: all buses */
  bus?: string;
}

export class RouteError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RouteError';
  }
}

interface CfnResource { Type: string; Properties?: Record<string, unknown> }
interface Template { Resources?: Record<string, CfnResource> }

/** Logical id referenced by `{Ref: X}`, `{"Fn::GetAtt": [X, attr]}` or `{"Fn::GetAtt": "X.attr"}`. */
export function referencedLogicalId(v: unknown): string | null {
  if (!isObject(v)) return null;
  if (typeof v.Ref === 'string') return v.Ref;
  const ga = v['Fn::GetAtt'];
  if (Array.isArray(ga) && typeof ga[0] === 'string') return ga[0];
  if (typeof ga === 'string') return ga.split('.')[0] ?? null;
  return null;
}

const KIND_BY_TYPE: Record<string, TargetKind> = {
  'AWS::StepFunctions::StateMachine': 'stateMachine',
  'AWS::Lambda::Function': 'function',
  'AWS::SQS::Queue': 'queue',
  'AWS::SNS::Topic': 'topic',
  'AWS::Events::EventBus': 'bus',
};

/** Evaluates the simple JSONPath EventBridge allows in InputPath / InputPathsMap ($, $.a.b, $.a[0]). */
export function selectPath(event: unknown, path: string): unknown {
  if (path === '$') return event;
  if (!path.startsWith('$.')) throw new RouteError(`unsupported input path ${JSON.stringify(path)}: it must start with "$."`);
  let cur: unknown = event;
  for (const part of path.slice(2).match(/[^.[\]]+|\[\d+\]/g) ?? []) {
    if (cur === undefined || cur === null) return undefined;
    if (part.startsWith('[')) cur = Array.isArray(cur) ? cur[Number(part.slice(1, -1))] : undefined;
    else cur = isObject(cur) ? cur[part] : undefined;
  }
  return cur;
}

function applyInput(target: Record<string, unknown>, event: unknown): unknown {
  if (typeof target.Input === 'string') return JSON.parse(target.Input);
  if (typeof target.InputPath === 'string') return selectPath(event, target.InputPath);
  const tr = target.InputTransformer;
  if (isObject(tr)) {
    const map = isObject(tr.InputPathsMap) ? tr.InputPathsMap : {};
    const values: Record<string, unknown> = {};
    for (const [k, p] of Object.entries(map)) values[k] = selectPath(event, String(p));
    const tpl = String(tr.InputTemplate ?? '');
    // `"<x>"` inside a JSON template takes the value as JSON; a bare <x> inside a string is text.
    const filled = tpl.replace(/"<([A-Za-z0-9_.-]+)>"|<([A-Za-z0-9_.-]+)>/g, (_m, quoted: string | undefined, bare: string | undefined) => {
      const key = (quoted ?? bare)!;
      if (key === 'aws.events.event.json') return JSON.stringify(event);
      if (!(key in values)) return _m;
      const v = values[key];
      if (quoted) return v === undefined ? 'null' : JSON.stringify(v);
      return typeof v === 'string' ? v : JSON.stringify(v ?? null);
    });
    try {
      return JSON.parse(filled);
    } catch {
      return filled;
    }
  }
  return event;
}

const patternCache = new WeakMap<object, EventPattern>();

/**
 * The targets whose rules match `event`, read from a synthesized CloudFormation template (the
 * rules' `EventPattern`, `State`, `EventBusName` and `Targets`). Disabled rules never route.
 */
export function routeEvent(template: unknown, event: unknown, opts: RouteOptions = {}): RoutedTarget[] {
  if (!isObject(template) || !isObject((template as Template).Resources)) {
    throw new RouteError('routeEvent needs a CloudFormation template object with "Resources" (read cdk.out/<stack>.template.json)');
  }
  const resources = (template as unknown as Template).Resources!;
  const busMatches = (busProp: unknown): boolean => {
    if (opts.bus === undefined) return true;
    if (busProp === undefined) return opts.bus === 'default';
    if (typeof busProp === 'string') return busProp === opts.bus;
    const id = referencedLogicalId(busProp);
    if (id === null) return false;
    return id === opts.bus || resources[id]?.Properties?.Name === opts.bus;
  };
  const out: RoutedTarget[] = [];
  for (const [ruleId, res] of Object.entries(resources)) {
    if (res.Type !== 'AWS::Events::Rule') continue;
    const props = res.Properties ?? {};
    if (props.EventPattern === undefined || (props.State !== undefined && props.State !== 'ENABLED')) continue;
    if (!busMatches(props.EventBusName)) continue;
    let compiled = isObject(props.EventPattern) ? patternCache.get(props.EventPattern) : undefined;
    if (!compiled) {
      try {
        compiled = compileEventPattern(props.EventPattern);
      } catch (err) {
        throw new RouteError(`rule ${ruleId}: ${(err as Error).message}`, { cause: err });
      }
      if (isObject(props.EventPattern)) patternCache.set(props.EventPattern, compiled);
    }
    if (!compiled.matches(event)) continue;
    for (const t of (Array.isArray(props.Targets) ? props.Targets : []) as Record<string, unknown>[]) {
      const targetLogicalId = referencedLogicalId(t.Arn);
      const type = targetLogicalId ? resources[targetLogicalId]?.Type : undefined;
      const dlc = t.DeadLetterConfig as { Arn?: unknown } | undefined;
      out.push({
        ruleLogicalId: ruleId,
        targetId: String(t.Id),
        targetLogicalId,
        kind: (type ? KIND_BY_TYPE[type] : undefined) ?? 'other',
        input: applyInput(t, event),
        retryPolicy: t.RetryPolicy as RoutedTarget['retryPolicy'],
        deadLetterQueueLogicalId: dlc ? referencedLogicalId(dlc.Arn) : undefined,
      });
    }
  }
  return out;
}
