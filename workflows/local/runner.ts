import { randomUUID } from 'node:crypto';
import { jsonataOrAssignUses, timeoutMatchDivergences } from './asl-guard';
import { functionsFromTemplate, PLACEHOLDER, stateMachinesFromTemplate, type CfnTemplate, type TemplateFunction, type TemplateStateMachine } from './asl-from-template';
import { SimClock } from './sim-clock';
import { SimulatedAccount, SimulatedAwsError } from './simulated-account';
import { TaskTokenRegistry } from './task-tokens';

/**
 * The local Step Functions runner: executes the ASL CDK synthesized with aws-local-stepfunctions,
 * serving every Task from its `Resource`:
 * - `arn:aws:states:::aws-sdk:<service>:<operation>` → the SIMULATED account (or an `integrations` override);
 * - `arn:aws:states:::lambda:invoke` (or a function ARN) → the local handler named by the function's `WARDEN_TASK`;
 * - other optimized integrations (`sns:publish`, `events:putEvents`, …) → an `integrations` handler;
 * - `.waitForTaskToken` → the handler, then the task-token registry (SendTaskSuccess/Failure/Heartbeat, timeouts).
 * Time is a simulated clock: Retry backoff, Wait states and callback timeouts advance it instead of sleeping.
 */
export class LocalRunnerError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LocalRunnerError';
  }
}

export interface TaskContext { stateName: string; executionArn: string; taskToken?: string; clock: SimClock }
/** A local stand-in for a Lambda function: gets the Payload, returns what the function would. */
export type LocalLambdaHandler = (payload: unknown, ctx: TaskContext) => unknown;
/** A local stand-in for a service integration: gets the resolved Parameters, returns the service response. */
export type LocalIntegrationHandler = (params: unknown, ctx: TaskContext) => unknown;

export interface LocalRunnerOptions {
  template: CfnTemplate;
  /** WARDEN_TASK → handler */
  lambdaHandlers?: Record<string, LocalLambdaHandler>;
  /** keyed by the resource after `arn:aws:states:::` without `.waitForTaskToken`, e.g. `sns:publish`, `aws-sdk:iam:getRole` */
  integrations?: Record<string, LocalIntegrationHandler>;
  account?: SimulatedAccount;
  clock?: SimClock;
  tokens?: TaskTokenRegistry;
}

export type TraceKind = 'execution' | 'state' | 'task' | 'retry' | 'catch' | 'wait' | 'callback';
export interface TraceEntry { at: string; kind: TraceKind; state?: string; message: string; data?: unknown }

export type ExecutionStatus = 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
export interface ExecutionResult {
  executionArn: string;
  stateMachine: string;
  status: ExecutionStatus;
  output?: unknown;
  error?: string;
  cause?: string;
  /** states entered, in order (what tests assert paths with) */
  path: string[];
  trace: TraceEntry[];
  /** the account acted upon is simulated, always */
  simulated: true;
}

export interface RunOptions {
  name?: string;
  /** when nothing is running and the execution waits on the simulated clock, jump to the next timer (default true) */
  autoAdvance?: boolean;
}

export interface Execution {
  executionArn: string;
  /** settles with the result; never rejects for a failed execution (status FAILED instead) */
  result: Promise<ExecutionResult>;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type AslState = Record<string, unknown> & { Type: string };
type AslDefinition = { StartAt: string; States: Record<string, AslState>; TimeoutSeconds?: number };

type AlsModule = typeof import('aws-local-stepfunctions');
let alsModule: Promise<AlsModule> | undefined;
/** aws-local-stepfunctions 3 needs Promise.withResolvers (Node 22); polyfilled before its first import. */
export function loadAls(): Promise<AlsModule> {
  const P = Promise as unknown as { withResolvers?: unknown };
  if (typeof P.withResolvers !== 'function') {
    P.withResolvers = function withResolvers<T>() {
      let resolve!: (v: T) => void; let reject!: (e: unknown) => void;
      const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej; });
      return { promise, resolve, reject };
    };
  }
  alsModule ??= import('aws-local-stepfunctions');
  return alsModule;
}

const STATES_PREFIX = 'arn:aws:states:::';
const WAIT_SUFFIX = '.waitForTaskToken';

/** Every state of a definition, including those inside Parallel branches and Map iterators. */
export function allStates(def: { States: Record<string, AslState> }): [string, AslState][] {
  const out: [string, AslState][] = [];
  for (const [name, s] of Object.entries(def.States)) {
    out.push([name, s]);
    for (const b of (s.Branches as AslDefinition[] | undefined) ?? []) out.push(...allStates(b));
    const it = (s.ItemProcessor ?? s.Iterator) as AslDefinition | undefined;
    if (it) out.push(...allStates(it));
  }
  return out;
}

function findStrings(v: unknown, pred: (s: string) => boolean, out: string[] = []): string[] {
  if (typeof v === 'string') { if (pred(v)) out.push(v); } else if (Array.isArray(v)) v.forEach((x) => findStrings(x, pred, out));
  else if (v && typeof v === 'object') Object.values(v).forEach((x) => findStrings(x, pred, out));
  return out;
}

interface Retrier { ErrorEquals: string[]; IntervalSeconds?: number; MaxAttempts?: number; BackoffRate?: number; MaxDelaySeconds?: number }

/** Delay (s) the ASL retrier would wait before the next attempt, or null when it would not retry. Mirrors the engine. */
function retryDelay(state: AslState, errorName: string, attempts: number[]): number | null {
  const retry = (state.Retry as Retrier[] | undefined) ?? [];
  for (let i = 0; i < retry.length; i++) {
    const r = retry[i]!;
    const matches = r.ErrorEquals.some((e) => e === errorName || e === 'States.ALL' || (e === 'States.TaskFailed' && errorName !== 'States.Timeout'));
    if (!matches) continue;
    const max = r.MaxAttempts ?? 3;
    const n = attempts[i] ?? 0;
    if (n >= max) return null;
    attempts[i] = n + 1;
    const wait = (r.IntervalSeconds ?? 1) * Math.pow(r.BackoffRate ?? 2, n);
    return r.MaxDelaySeconds !== undefined ? Math.min(wait, r.MaxDelaySeconds) : wait;
  }
  return null;
}

/** An error as the ASL engine sees it: `name` is the Error a Retry/Catch matches, `message` the Cause. */
class AslError extends Error {
  constructor(error: string, cause: string) { super(cause); this.name = error; }
}

export class LocalRunner {
  readonly clock: SimClock;
  readonly account: SimulatedAccount;
  readonly tokens: TaskTokenRegistry;
  private readonly machines: TemplateStateMachine[];
  private readonly functions: TemplateFunction[];
  private readonly built = new Map<string, Promise<{ sm: InstanceType<AlsModule['StateMachine']>; def: AslDefinition }>>();
  private inFlight = 0;

  constructor(private readonly opts: LocalRunnerOptions) {
    this.clock = opts.clock ?? new SimClock();
    this.account = opts.account ?? new SimulatedAccount();
    this.tokens = opts.tokens ?? new TaskTokenRegistry(this.clock);
    this.machines = stateMachinesFromTemplate(opts.template);
    this.functions = functionsFromTemplate(opts.template);
  }

  /** Logical ids (and construct paths) of the template's state machines. */
  stateMachineNames(): { logicalId: string; path?: string }[] { return this.machines.map(({ logicalId, path }) => ({ logicalId, path })); }

  /** The concrete ASL of a state machine, found by logical id, logical id prefix, construct-path segment or `<ConstructId>StateMachine` inside the logical id. */
  definition(name: string): AslDefinition { return this.machine(name).definition as unknown as AslDefinition; }

  private machine(name: string): TemplateStateMachine {
    const exact = this.machines.find((m) => m.logicalId === name);
    if (exact) return exact;
    let hits = this.machines.filter((m) => m.logicalId.startsWith(name) || (m.path && m.path.split('/').includes(name)));
    // CDK logical ids concatenate the construct path: `WardenQuarantineStateMachineBEAF9741` for `Warden/Quarantine/StateMachine`
    if (hits.length === 0) hits = this.machines.filter((m) => m.logicalId.includes(`${name}StateMachine`));
    if (hits.length === 1) return hits[0]!;
    const known = this.machines.map((m) => m.path ?? m.logicalId).join(', ') || 'none';
    throw new LocalRunnerError(hits.length === 0 ? `no state machine "${name}" in the template (known: ${known})` : `"${name}" is ambiguous: ${hits.map((m) => m.logicalId).join(', ')}; use a logical id`);
  }

  private functionFor(ref: string): TemplateFunction | undefined {
    const name = ref.includes(':function:') ? ref.split(':function:')[1]!.split(':')[0]! : ref;
    return this.functions.find((f) => f.name === name || f.logicalId === name || f.arn === ref);
  }

  /** Checks that every Task of the machine can be served locally; throws a LocalRunnerError listing those that cannot. */
  private validate(m: TemplateStateMachine, def: AslDefinition): void {
    const problems: string[] = [];
    for (const [name, s] of allStates(def)) {
      if (s.Type !== 'Task') continue;
      const res = String(s.Resource);
      try { this.route(name, s, null); } catch (err) { problems.push(`${name} (${res}): ${(err as Error).message}`); }
    }
    if (problems.length) throw new LocalRunnerError(`state machine ${m.logicalId} has tasks the local runner cannot serve:\n  ${problems.join('\n  ')}`);
  }

  /**
   * Picks the handler for a Task. With `params === null` only checks that one exists (validation);
   * for `lambda:invoke` the function comes from the resolved Parameters.FunctionName.
   */
  private route(stateName: string, s: AslState, params: unknown): { kind: 'lambda' | 'integration'; label: string; call: (input: unknown, ctx: TaskContext) => unknown } {
    const res = String(s.Resource);
    const base = res.endsWith(WAIT_SUFFIX) ? res.slice(0, -WAIT_SUFFIX.length) : res;
    const lambdaFor = (fnRef: string) => {
      const fn = this.functionFor(fnRef);
      if (!fn) throw new LocalRunnerError(`function ${fnRef} is not a Lambda function of the template`);
      if (!fn.wardenTask) throw new LocalRunnerError(`function ${fn.logicalId} has no WARDEN_TASK in its environment, so no local handler can be chosen`);
      const h = this.opts.lambdaHandlers?.[fn.wardenTask];
      if (!h) throw new LocalRunnerError(`no local handler for WARDEN_TASK=${fn.wardenTask}; pass it in lambdaHandlers (known: ${Object.keys(this.opts.lambdaHandlers ?? {}).join(', ') || 'none'})`);
      return { label: `lambda ${fn.wardenTask}`, h };
    };
    if (base.startsWith('arn:aws:lambda:')) {
      const { label, h } = lambdaFor(base);
      return { kind: 'lambda', label, call: (input, ctx) => h(input, ctx) };
    }
    if (!base.startsWith(STATES_PREFIX)) throw new LocalRunnerError(`unsupported Resource ${res}`);
    const key = base.slice(STATES_PREFIX.length);
    const override = this.opts.integrations?.[key];
    if (override) return { kind: 'integration', label: key, call: override };
    if (key === 'lambda:invoke') {
      if (params === null) {
        const fnParam = (s.Parameters as Record<string, unknown> | undefined)?.FunctionName;
        if (typeof fnParam === 'string') lambdaFor(fnParam);
        return { kind: 'lambda', label: 'lambda:invoke', call: () => null };
      }
      const p = (params ?? {}) as { FunctionName?: unknown; Payload?: unknown };
      if (typeof p.FunctionName !== 'string') throw new LocalRunnerError(`${stateName}: lambda:invoke without a FunctionName`);
      const { label, h } = lambdaFor(p.FunctionName);
      return {
        kind: 'lambda', label,
        call: async (_input, ctx) => ({ ExecutedVersion: '$LATEST', Payload: (await h(p.Payload ?? null, ctx)) ?? null, StatusCode: 200, SdkResponseMetadata: { simulated: true } }),
      };
    }
    if (key.startsWith('aws-sdk:')) {
      const [, service, operation] = key.split(':') as [string, string, string];
      if (!this.account.supports(service, operation)) throw new LocalRunnerError(`the simulated account does not implement ${service}:${operation}; pass integrations['${key}']`);
      return {
        kind: 'integration', label: `SIMULATED ${service}:${operation}`,
        call: async (input) => {
          try { return await this.account.call(service, operation, input); } catch (err) {
            if (err instanceof SimulatedAwsError) throw new AslError(err.stepFunctionsError, err.message);
            throw err;
          }
        },
      };
    }
    throw new LocalRunnerError(`no local handler for integration ${key}; pass integrations['${key}']`);
  }

  private async build(name: string): Promise<{ sm: InstanceType<AlsModule['StateMachine']>; def: AslDefinition; logicalId: string }> {
    const m = this.machine(name);
    let p = this.built.get(m.logicalId);
    if (!p) {
      p = (async () => {
        const def = m.definition as unknown as AslDefinition;
        const jsonata = jsonataOrAssignUses(def);
        if (jsonata.length) throw new LocalRunnerError(`state machine ${m.logicalId} uses JSONata or Assign, which aws-local-stepfunctions ignores (it would run differently here than on AWS); keep definitions on JSONPath:\n  ${jsonata.join('\n  ')}`);
        const timeouts = timeoutMatchDivergences(def);
        if (timeouts.length) throw new LocalRunnerError(`state machine ${m.logicalId} would handle a task timeout differently here than on AWS (on AWS, States.TaskFailed never matches States.Timeout; aws-local-stepfunctions cannot tell the local timeouts apart); put a matcher naming States.Timeout first:\n  ${timeouts.join('\n  ')}`);
        this.validate(m, def);
        const { StateMachine } = await loadAls();
        // ARNs are placeholders and every Task is served locally, so ARN checks add nothing.
        return { sm: new StateMachine(def as never, { validationOptions: { checkArn: false } }), def };
      })();
      this.built.set(m.logicalId, p);
    }
    return { ...(await p), logicalId: m.logicalId };
  }

  /** Starts an execution; `result` settles when it ends. */
  start(stateMachine: string, input: unknown, options: RunOptions = {}): Execution {
    const name = options.name ?? randomUUID();
    const executionArn = `arn:aws:states:${PLACEHOLDER.region}:${PLACEHOLDER.accountId}:execution:${stateMachine}:${name}`;
    return { executionArn, result: this.execute(stateMachine, input, executionArn, name, options) };
  }

  /** Runs an execution to its end. */
  async run(stateMachine: string, input: unknown, options: RunOptions = {}): Promise<ExecutionResult> {
    return this.start(stateMachine, input, options).result;
  }

  private async execute(smName: string, input: unknown, executionArn: string, name: string, options: RunOptions): Promise<ExecutionResult> {
    const { sm, def, logicalId } = await this.build(smName);
    const trace: TraceEntry[] = [];
    const path: string[] = [];
    const at = () => this.clock.iso();
    const entry = (kind: TraceKind, message: string, state?: string, data?: unknown): TraceEntry => ({ at: at(), kind, message, ...(state ? { state } : {}), ...(data === undefined ? {} : { data }) });
    const note = (kind: TraceKind, message: string, state?: string, data?: unknown) => { trace.push(entry(kind, message, state, data)); };
    // Handlers run ahead of the engine's (async) event log: their notes wait for the state's exit or failure, so the trace reads in order.
    const held = new Map<string, TraceEntry[]>();
    const hold = (kind: TraceKind, message: string, state: string, data?: unknown) => { held.set(state, [...(held.get(state) ?? []), entry(kind, message, state, data)]); };
    const flush = (state: string) => { trace.push(...(held.get(state) ?? [])); held.delete(state); };
    const states = new Map(allStates(def));
    const attempts = new Map<string, number[]>();
    const handlers: Record<string, (input: Json) => Promise<Json>> = {};
    const retryOverrides: Record<string, number[]> = {};
    const waitOverrides: Record<string, number> = {};

    for (const [stateName, s] of states) {
      if (s.Retry) retryOverrides[stateName] = (s.Retry as unknown[]).map(() => 0);
      // 1 ms, not 0: the engine skips a 0 ms sleep, and the trace consumer must advance the clock first.
      if (s.Type === 'Wait') waitOverrides[stateName] = 1;
      if (s.Type !== 'Task') continue;
      const waits = String(s.Resource).endsWith(WAIT_SUFFIX);
      handlers[stateName] = async (taskInput: Json) => {
        this.inFlight++;
        const ctx: TaskContext = { stateName, executionArn, clock: this.clock };
        try {
          const { label, call } = this.route(stateName, s, taskInput);
          if (!waits) {
            const out = await call(taskInput, ctx);
            hold('task', `${label} ok`, stateName);
            attempts.delete(stateName);
            return (out ?? null) as Json;
          }
          const tokens = findStrings(taskInput, (x) => this.tokens.isUnclaimed(x));
          if (tokens.length !== 1) throw new AslError('States.Runtime', `${stateName}: a .waitForTaskToken task must pass exactly one $$.Task.Token in its Parameters, found ${tokens.length}`);
          const taskToken = tokens[0]!;
          const payload = String(s.Resource).includes(':states:::lambda:invoke') ? (taskInput as { Payload?: unknown } | null)?.Payload : taskInput;
          const { outcome, listenerWork } = this.tokens.register(taskToken, {
            stateName, executionArn, payload,
            ...(typeof s.TimeoutSeconds === 'number' ? { timeoutSeconds: s.TimeoutSeconds } : {}),
            ...(typeof s.HeartbeatSeconds === 'number' ? { heartbeatSeconds: s.HeartbeatSeconds } : {}),
          });
          outcome.catch(() => undefined);
          for (const w of listenerWork) { this.inFlight++; void w.finally(() => { this.inFlight--; }); }
          await call(taskInput, { ...ctx, taskToken });
          hold('callback', `${label} sent; waiting for its task token${s.TimeoutSeconds ? ` (TimeoutSeconds ${String(s.TimeoutSeconds)})` : ''}`, stateName);
          this.inFlight--;
          try {
            const out = await outcome;
            hold('callback', 'task token answered: success', stateName, out);
            attempts.delete(stateName);
            return out as Json;
          } finally { this.inFlight++; }
        } catch (err) {
          const e = err as Error;
          const errorName = e instanceof LocalRunnerError ? 'States.Runtime' : e.name;
          const delay = retryDelay(s, errorName, attempts.get(stateName) ?? (attempts.set(stateName, []), attempts.get(stateName)!));
          if (delay !== null) {
            hold('retry', `${errorName}: retrying after ${delay} s (simulated backoff)`, stateName);
            this.clock.advance(delay * 1000);
          } else attempts.delete(stateName);
          if (e instanceof AslError) throw e;
          if (errorName !== e.name) throw new AslError(errorName, e.message);
          // A Lambda function error: Step Functions reports errorType as Error and the JSON body as Cause.
          throw new AslError(e.name, JSON.stringify({ errorType: e.name, errorMessage: e.message }));
        } finally { this.inFlight--; }
      };
    }

    const tokens = this.tokens;
    const context = {
      Execution: { Id: executionArn, Name: name, RoleArn: `arn:aws:iam::${PLACEHOLDER.accountId}:role/local-runner` },
      StateMachine: { Id: `arn:aws:states:${PLACEHOLDER.region}:${PLACEHOLDER.accountId}:stateMachine:${logicalId}`, Name: logicalId },
      Task: { get Token() { return tokens.issue(); } },
    };
    note('execution', `started ${logicalId} (account and AWS calls are SIMULATED)`, undefined, input);
    const { result, eventLogs } = sm.run(input as Json, {
      overrides: { taskResourceLocalHandlers: handlers, retryIntervalOverrides: retryOverrides, waitTimeOverrides: waitOverrides },
      context: context as never,
    });
    const end: { status: ExecutionStatus; output?: unknown; error?: string; cause?: string } = { status: 'FAILED' };
    const consume = (async () => {
      for await (const ev of eventLogs) {
        switch (ev.type) {
          case 'StateEntered': {
            path.push(ev.state.name);
            note('state', `entered ${ev.state.type} ${ev.state.name}`, ev.state.name);
            const s = states.get(ev.state.name);
            // Runs before the Wait's zero-length sleep ends (microtask before macrotask), so time has moved when the next state starts.
            if (s?.Type === 'Wait') this.advanceForWait(s, ev.state.input, (msg) => note('wait', msg, ev.state.name));
            break;
          }
          case 'StateFailed': {
            const e = entry('state', `failed: ${ev.Error}`, ev.state.name, { Error: ev.Error, Cause: ev.Cause });
            // it failed when the handler did, before the retry backoff moved the clock
            const first = held.get(ev.state.name)?.[0];
            if (first) e.at = first.at;
            trace.push(e);
            flush(ev.state.name);
            break;
          }
          case 'StateExited': flush(ev.state.name); break;
          case 'StateCaught': note('catch', `caught by Catch → ${ev.catch.catcher.Next}`, ev.state.name); break;
          case 'ExecutionFailed': end.error = ev.Error; end.cause = typeof ev.Cause === 'string' ? ev.Cause : JSON.stringify(ev.Cause); break;
          case 'ExecutionTimeout': end.status = 'TIMED_OUT'; break;
          case 'ExecutionAborted': end.status = 'ABORTED'; break;
          default: break;
        }
      }
    })();
    const settled = result.then((o) => { end.status = 'SUCCEEDED'; end.output = o; }, () => undefined);
    let done = false;
    void settled.then(() => { done = true; });
    if (options.autoAdvance !== false) {
      let idle = 0;
      while (!done) {
        await new Promise((r) => setImmediate(r));
        if (done) break;
        if (this.inFlight > 0) { idle = 0; continue; }
        if (++idle < 3) continue;
        idle = 0;
        if (this.clock.nextTimerAt() !== undefined) {
          note('wait', `nothing running: simulated clock jumps to ${new Date(this.clock.nextTimerAt()!).toISOString()}`);
          this.clock.advanceToNextTimer();
        }
      }
    }
    await settled;
    await consume;
    for (const state of [...held.keys()]) flush(state);
    const { status, output, error, cause } = end;
    note('execution', status === 'SUCCEEDED' ? 'succeeded' : `${status.toLowerCase()}${error ? `: ${error}` : ''}`);
    return { executionArn, stateMachine: logicalId, status, ...(status === 'SUCCEEDED' ? { output } : {}), ...(error ? { error } : {}), ...(cause !== undefined ? { cause } : {}), path, trace, simulated: true };
  }

  private advanceForWait(s: AslState, input: unknown, log: (m: string) => void): void {
    let ms = 0;
    const get = (p: string): unknown => p.replace(/^\$\.?/, '').split('.').filter(Boolean).reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), input);
    if (typeof s.Seconds === 'number') ms = s.Seconds * 1000;
    else if (typeof s.SecondsPath === 'string') ms = Number(get(s.SecondsPath)) * 1000;
    else if (typeof s.Timestamp === 'string') ms = Date.parse(s.Timestamp) - this.clock.nowMs();
    else if (typeof s.TimestampPath === 'string') ms = Date.parse(String(get(s.TimestampPath))) - this.clock.nowMs();
    if (!Number.isFinite(ms) || ms <= 0) return;
    log(`Wait ${ms / 1000} s on the simulated clock`);
    this.clock.advance(ms);
  }
}

/** A trace as text, headed by a line that says the account is simulated. */
export function formatTrace(r: ExecutionResult): string {
  const lines = [`# ${r.stateMachine} ${r.status} — SIMULATED account, simulated clock`];
  for (const t of r.trace) lines.push(`${t.at}  ${t.kind.padEnd(9)} ${t.state ? `[${t.state}] ` : ''}${t.message}`);
  return lines.join('\n');
}
