import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { RoutedTarget } from '../event-pattern';
import type { SimulatedAccount } from '../../../workflows/local/simulated-account';
import type { ExecutionResult, LocalRunner, TaskContext } from '../../../workflows/local/runner';
import type { SimClock } from '../../../workflows/local/sim-clock';
import type { TaskTokenRegistry } from '../../../workflows/local/task-tokens';
import { accountSpecFromScenario, captureState, roleNameOf, sameState, stateFromSnapshot, summarizeState, type FullRoleState } from './account';
import { LocalBus, type BusEvent } from './bus';
import { DEFAULT_SCENARIO_YAML } from './default-scenario';
import { formatDuration } from './duration';
import { SimulateError, SimulationSetupError } from './errors';
import { builtInHandler, describeCall, type CallOutcome, type RunnerEvent } from './function-runtime';
import { TimelinePrinter, type OutStream } from './printer';
import { buildSummary } from './report';
import { loadScenarioFile, parseScenario, type Scenario, type ScenarioStep, type WorkflowName } from './scenario';
import { SimulatedSlack } from './slack-recorder';
import { packageRoot, templateFor } from './synth';
import type { AccessLine, DecisionLine, RoleDiff, SummaryLine, TimelineLine } from './timeline';
import { WorkTracker } from './work';
import { outcomeOf, subjectOf, workflowOf } from './workflow-names';
import * as wiring from './wiring';

/**
 * `warden simulate`: one whole incident, end to end, in this process. The template is synthesized
 * in-process from the current sources; functions run real code with the real agent; the agent
 * sends through the real EventBridge client to the local PutEvents endpoint; the bus routes by the
 * template's rules; the real engine handler decides; the template's state machines run on the
 * local runner against the SIMULATED account; Slack is simulated; time is simulated.
 */
export interface SimulateOptions {
  /** a scenario file; the built-in scenario when omitted */
  scenarioFile?: string;
  /** scenario text instead of a file (tests) */
  scenarioText?: string;
  /** rules directory override */
  rulesDir?: string;
  json: boolean;
  /** approvals asked in the terminal instead of the scenario's clicks */
  interactive?: boolean;
  out: OutStream;
  err: OutStream;
  color?: boolean;
  progress?: boolean;
  /** synthesize even when a cached template matches the current sources and rules */
  noCache?: boolean;
  /** answers a prompt in --interactive mode */
  ask?: (question: string) => Promise<string>;
  /** real (wall) clock, for the run time only */
  wallNow?: () => number;
}

interface Execution {
  workflow: WorkflowName;
  executionArn: string;
  logicalId: string;
  functionName: string | null;
  incidentId: string | null;
  done: boolean;
}

const SIGNING_SECRET = 'simulated-slack-signing-secret';
/** real time without any new event after which a running execution counts as stuck */
const STUCK_MS = 60_000;

export async function runSimulation(o: SimulateOptions): Promise<SummaryLine> {
  const wallNow = o.wallNow ?? (() => performance.now());
  const wallStart = wallNow();
  const root = packageRoot();
  const defaultRules = join(root, 'rules');
  const loaded = o.scenarioFile
    ? await loadScenarioFile(o.scenarioFile, defaultRules)
    : { scenario: parseScenario(o.scenarioText ?? DEFAULT_SCENARIO_YAML, o.scenarioText ? 'scenario' : 'the built-in scenario'), rulesDir: defaultRules, baseDir: process.cwd(), source: 'built-in' };
  const rulesDir = o.rulesDir ? resolve(o.rulesDir) : loaded.rulesDir;
  const sim = new Simulation(loaded.scenario, rulesDir, loaded.baseDir, o, wallNow);
  try {
    await sim.setup();
    sim.ready = true;
    await sim.run();
  } catch (err) {
    sim.problem(err instanceof SimulateError ? err.message : `the simulation stopped: ${(err as Error).stack ?? String(err)}`);
  } finally {
    await sim.teardown();
  }
  const summary = sim.summary(wallNow() - wallStart);
  sim.printer.report(summary);
  return summary;
}

class Simulation {
  readonly printer: TimelinePrinter;
  readonly lines: TimelineLine[] = [];
  private readonly problems: string[] = [];
  private readonly work = new WorkTracker();
  private readonly startMs: number;
  private readonly cleanups: (() => Promise<void> | void)[] = [];
  private readonly executions = new Map<string, Execution>();
  /** state right before each quarantine ran, and right after, by function */
  private readonly atQuarantine = new Map<string, { before: FullRoleState; after: FullRoleState | null }>();
  /** function → the incident whose snapshot its successful restore used */
  private readonly restoredFns = new Map<string, string | null>();
  /** function → the state its stored snapshot describes (read back after the run), null when none */
  private readonly snapshotStates = new Map<string, FullRoleState | null>();
  /** --interactive and the terminal's input ended: nobody answers any more */
  private inputClosed = false;
  /** approval messages already put to the terminal (--interactive) */
  private readonly asked = new Set<string>();
  private readonly invokers = new Map<string, (event: unknown) => Promise<unknown>>();
  private emitted = 0;
  /** set-up finished: the scenario's expectations are checked only then (else the set-up problem says it all) */
  ready = false;
  private agentEventsOnBus = 0;
  private audit: SummaryLine['audit'] = null;
  /** real time spent: synthesizing (part of set-up), setting up, running the timeline */
  private readonly timings = { synthMs: 0, setupMs: 0, runMs: 0 };
  private templateCached = false;
  private stepIndex = 0;
  private tmp = '';

  clock!: SimClock;
  tokens!: TaskTokenRegistry;
  account!: SimulatedAccount;
  runner!: LocalRunner;
  bus!: LocalBus;
  slack!: SimulatedSlack;
  env!: wiring.Environment;

  constructor(
    readonly scenario: Scenario,
    readonly rulesDir: string,
    readonly baseDir: string,
    readonly o: SimulateOptions,
    private readonly wallNow: () => number,
  ) {
    this.startMs = Date.parse(scenario.start);
    this.printer = new TimelinePrinter({ json: o.json, out: o.out, err: o.err, color: o.color, progress: o.progress, startMs: this.startMs });
  }

  emit(line: TimelineLine): void {
    this.lines.push(line);
    this.printer.line(line);
  }

  note(text: string, level: 'step' | 'info' = 'info'): void {
    this.emit({ type: 'note', t: this.iso(), level, text });
  }

  problem(text: string): void {
    this.problems.push(text);
    this.emit({ type: 'note', t: this.clock ? this.iso() : new Date(this.startMs).toISOString(), level: 'problem', text });
  }

  iso(): string {
    return new Date(this.clock.nowMs()).toISOString();
  }

  // ---- set-up ------------------------------------------------------------------------------------

  async setup(): Promise<void> {
    const s = this.scenario;
    this.tmp = mkdtempSync(join(tmpdir(), 'warden-sim-'));
    this.cleanups.push(() => rmSync(this.tmp, { recursive: true, force: true }));

    this.printer.status(`synthesizing the Warden stack with the rules in ${this.rulesDir}`);
    const setupStart = this.wallNow();
    const root = packageRoot();
    const { template, ms: synthMs, cached } = await templateFor(this.rulesDir, { root, cacheDir: join(root, '.warden', 'simulate'), reuse: !this.o.noCache, nowMs: this.wallNow });
    this.timings.synthMs = Math.round(synthMs);
    this.templateCached = cached;
    this.printer.status('starting dynalite, the PutEvents endpoint, the stand-in hosts, the agents and the engine');
    const [{ SimClock }, { SimulatedAccount }, { TaskTokenRegistry }] = await Promise.all([
      import('../../../workflows/local/sim-clock'),
      import('../../../workflows/local/simulated-account'),
      import('../../../workflows/local/task-tokens'),
    ]);
    this.clock = new SimClock(this.startMs);
    this.account = new SimulatedAccount(accountSpecFromScenario(s));
    const tokens = new TaskTokenRegistry(this.clock);
    this.tokens = tokens;
    this.slack = new SimulatedSlack((l) => this.emit(l), () => this.clock.nowMs());

    this.env = await wiring.createEnvironment({
      scenario: s,
      rulesDir: this.rulesDir,
      baseDir: this.baseDir,
      template,
      tmpDir: this.tmp,
      clock: this.clock,
      account: this.account,
      tokens,
      slack: this.slack,
      slackSigningSecret: SIGNING_SECRET,
      track: (p) => { this.work.track(p); },
      onAccountCall: (call, ctx) => this.onAccountCall(call, ctx),
      onTaskState: (ctx) => this.onTaskState(ctx),
      startWorkflow: (logicalId, input) => this.startWorkflow(logicalId, input),
      putOnBus: (entries) => this.bus.put(entries),
      onBusEvents: (events) => this.onBusEvents(events),
      problem: (t) => this.problem(t),
    });
    this.cleanups.push(() => this.env.close());
    this.runner = this.env.runner;

    this.bus = new LocalBus({
      template,
      busName: this.env.busName,
      account: s.account.id,
      region: s.account.region,
      nowMs: () => this.clock.nowMs(),
      track: (p) => { this.work.track(p); },
      deliver: (t, e) => this.deliver(t, e),
      onEvent: (e) => this.onBusEvent(e),
      onDeadLetter: (t, e, err) => this.problem(`event ${e.id} (${e.source}/${e['detail-type']}) dead-lettered after the retries of target ${t.targetId}: ${(err as Error)?.message ?? String(err)}`),
      onUnrouted: (e) => { if (e.source === 'warden.agent') this.problem(`agent event ${e.id} matched no rule of the template`); },
    });

    for (const fn of Object.keys(s.functions)) this.invokers.set(fn, await this.env.functionInvoker(fn, builtInHandler({ standIns: this.env.standIns, region: s.account.region })));

    this.timings.setupMs = Math.round(this.wallNow() - setupStart);
    this.printer.header({
      scenario: s.name,
      description: s.description,
      account: s.account.id,
      region: s.account.region,
      rulesDir: this.rulesDir,
      policyVersion: this.env.policyVersion,
      functions: Object.keys(s.functions),
      stateMachines: this.runner.stateMachineNames().map((m) => workflowOf(m) ?? m.logicalId),
      template: this.templateCached ? 'synthesized earlier from these very sources and rules (cached; --no-cache to synthesize again)' : 'synthesized now from the current sources',
    });
  }

  async teardown(): Promise<void> {
    this.printer.clearProgress();
    for (const c of this.cleanups.reverse()) {
      try {
        await c();
      } catch (err) {
        this.problems.push(`clean-up failed: ${(err as Error).message}`);
      }
    }
  }

  // ---- the bus -----------------------------------------------------------------------------------

  private onBusEvents(events: { envelope: BusEvent; eventBusName: string }[]): void {
    for (const e of events) this.bus.accept([e.envelope], e.eventBusName);
  }

  private onBusEvent(e: BusEvent): void {
    const d = e.detail as Record<string, unknown>;
    if (e.source === 'warden.agent') {
      this.agentEventsOnBus += 1;
      const access = (d.access ?? {}) as Record<string, unknown>;
      const fn = ((d.function ?? {}) as { name?: string }).name ?? '?';
      const line: AccessLine = {
        type: 'access',
        t: typeof d.time === 'string' ? d.time : e.time,
        eventId: String(d.id ?? e.id),
        function: fn,
        kind: (access.kind as AccessLine['kind']) ?? 'http',
        target: accessTarget(access),
        mode: String(d.mode ?? 'monitor'),
        agentVerdict: typeof d.agentVerdict === 'string' ? d.agentVerdict : null,
        blocked: d.blocked === true,
        count: typeof d.count === 'number' ? d.count : 1,
        policyVersion: typeof d.policyVersion === 'string' ? d.policyVersion : null,
        access,
      };
      this.emit(line);
    } else if (e.source === 'warden.engine') {
      const line: DecisionLine = {
        type: 'decision',
        t: typeof d.time === 'string' ? d.time : e.time,
        eventId: String(d.eventId ?? ''),
        decisionId: String(d.decisionId ?? ''),
        incidentId: String(d.incidentId ?? ''),
        function: ((d.function ?? {}) as { name?: string }).name ?? '?',
        verdict: d.verdict as DecisionLine['verdict'],
        rule: typeof d.rule === 'string' ? d.rule : null,
        severity: String(d.severity ?? ''),
        response: String(d.response ?? ''),
        policyVersion: String(d.policyVersion ?? ''),
        reason: String(d.reason ?? ''),
        ...(typeof d.error === 'string' ? { error: d.error } : {}),
      };
      this.emit(line);
    }
  }

  private async deliver(t: RoutedTarget, e: BusEvent): Promise<void> {
    // EventBridge delivers after PutEvents returns: never while a simulated function is still running
    await this.env.idle();
    if (t.kind === 'stateMachine' && t.targetLogicalId) {
      this.startWorkflow(t.targetLogicalId, t.input);
      return;
    }
    if (t.kind === 'function' && t.targetLogicalId) {
      await this.env.invokeTemplateFunction(t.targetLogicalId, t.input);
      return;
    }
    throw new SimulationSetupError(`rule ${t.ruleLogicalId} routes ${e.source}/${e['detail-type']} to a ${t.kind} target (${t.targetLogicalId ?? t.targetId}) the simulation does not run`);
  }

  // ---- workflows ---------------------------------------------------------------------------------

  startWorkflow(logicalId: string, input: unknown): { executionArn: string } {
    const sm = this.runner.stateMachineNames().find((m) => m.logicalId === logicalId);
    const workflow = sm ? workflowOf(sm) : null;
    if (!sm || !workflow) throw new SimulationSetupError(`state machine ${logicalId} is not one of Warden's workflows in the template`);
    const subject = subjectOf(input);
    const incidentId = subject.incidentId;
    // a restore names only the incident: its function is the one that incident quarantined
    const functionName = subject.functionName ?? [...this.executions.values()].find((e) => e.incidentId === incidentId && e.functionName)?.functionName ?? null;
    if (workflow === 'quarantine' && functionName && this.scenario.functions[functionName] && !this.atQuarantine.has(functionName)) {
      this.atQuarantine.set(functionName, { before: captureState(this.account, this.scenario, functionName), after: null });
    }
    const exec = this.runner.start(logicalId, input, { autoAdvance: false });
    const rec: Execution = { workflow, executionArn: exec.executionArn, logicalId, functionName, incidentId, done: false };
    this.executions.set(exec.executionArn, rec);
    this.emit({ type: 'workflow.start', t: this.iso(), workflow, executionId: exec.executionArn, function: functionName, incidentId, status: 'RUNNING' });
    // an execution may wait for hours of simulated time: it is not "work in flight", the clock drives it
    void exec.result.then((r) => this.onExecutionEnd(rec, r), (err: unknown) => {
      rec.done = true;
      this.problem(`the ${workflow} workflow ${exec.executionArn} crashed in the local runner: ${(err as Error).message}`);
    });
    return { executionArn: exec.executionArn };
  }

  private onExecutionEnd(rec: Execution, r: ExecutionResult): void {
    rec.done = true;
    if (rec.workflow === 'quarantine' && rec.functionName && this.atQuarantine.has(rec.functionName)) {
      this.atQuarantine.get(rec.functionName)!.after = captureState(this.account, this.scenario, rec.functionName);
    }
    if (rec.workflow === 'restore' && rec.functionName && r.status === 'SUCCEEDED') this.restoredFns.set(rec.functionName, rec.incidentId);
    this.emit({
      type: 'workflow.end',
      t: this.iso(),
      workflow: rec.workflow,
      executionId: rec.executionArn,
      function: rec.functionName,
      status: r.status,
      // the workflow's own word for it, else the state it ended in (Approved, Quarantine started, …)
      outcome: outcomeOf(r.output) ?? r.path.at(-1) ?? null,
      error: r.error ? `${r.error}${r.cause ? `: ${r.cause.slice(0, 300)}` : ''}` : null,
    });
  }

  /** every task a workflow runs passes here: one `workflow.state` line per state entered */
  onTaskState(ctx: TaskContext): void {
    const rec = this.executions.get(ctx.executionArn);
    if (!rec) return;
    this.emit({ type: 'workflow.state', t: this.iso(), workflow: rec.workflow, executionId: rec.executionArn, state: ctx.stateName, status: 'RUNNING' });
  }

  private onAccountCall(call: { service: string; operation: string; params: Record<string, unknown>; ok: boolean; error: string | null }, ctx: TaskContext | null): void {
    const rec = ctx ? this.executions.get(ctx.executionArn) : undefined;
    this.emit({
      type: 'action',
      t: this.iso(),
      service: call.service,
      action: call.operation,
      params: call.params,
      ok: call.ok,
      error: call.error,
      workflow: rec?.workflow ?? null,
      executionId: rec?.executionArn ?? null,
      simulated: true,
    });
  }

  private running(): number {
    return [...this.executions.values()].filter((e) => !e.done).length;
  }

  // ---- the timeline ------------------------------------------------------------------------------

  async run(): Promise<void> {
    const runStart = this.wallNow();
    try {
      await this.runTimeline();
    } finally {
      this.timings.runMs = Math.round(this.wallNow() - runStart);
    }
  }

  private async runTimeline(): Promise<void> {
    const steps = this.scenario.timeline;
    for (this.stepIndex = 0; this.stepIndex < steps.length; this.stepIndex++) {
      const step = steps[this.stepIndex]!;
      await this.advanceTo(this.startMs + step.at);
      if (this.clock.nowMs() > this.startMs + step.at) {
        this.note(`(a workflow's Wait moved the simulated clock past this step's time ${new Date(this.startMs + step.at).toISOString().slice(11, 19)}; it runs now)`);
      }
      await this.runStep(step);
      await this.settle();
      await this.askApprovals();
      this.progress();
    }
    // the agents deliver what they still aggregate, as a Lambda environment does when it shuts down
    await this.work.track(this.env.finalFlush());
    await this.settle();
    // let every workflow finish: timers fire in order until none is left or the settle window closes
    const horizon = this.clock.nowMs() + this.scenario.settle;
    for (;;) {
      const next = this.clock.nextTimerAt();
      if (next === undefined || next > horizon) break;
      await this.advanceTo(next);
      await this.askApprovals();
      this.progress();
    }
    if (this.running() > 0) {
      const stuck = [...this.executions.values()].filter((e) => !e.done).map((e) => `${e.workflow}${e.functionName ? ` (${e.functionName})` : ''}`);
      this.note(`after ${formatDuration(this.scenario.settle)} of simulated time, still running: ${stuck.join(', ')}`);
    }
    for (const f of this.work.takeFailures()) this.problem(`work in flight failed: ${(f as Error)?.message ?? String(f)}`);
    for (const [fn, incidentId] of this.restoredFns) {
      try {
        const snap = incidentId ? await this.env.snapshot(incidentId) : null;
        this.snapshotStates.set(fn, snap ? stateFromSnapshot(snap) : null);
      } catch (err) {
        this.snapshotStates.set(fn, null);
        this.problem(`the snapshot of ${fn} (incident ${incidentId}) could not be read back: ${(err as Error).message}`);
      }
    }
    try {
      this.audit = await this.env.auditTrail();
    } catch (err) {
      this.problem(`the audit trail could not be read back: ${(err as Error).message}`);
    }
  }

  private progress(): void {
    this.printer.progress({ simMs: this.clock.nowMs(), step: this.stepIndex + 1, steps: this.scenario.timeline.length, running: this.running() }, this.wallNow());
  }

  /** Moves simulated time timer by timer, letting the work each one starts finish before the next. */
  private async advanceTo(target: number): Promise<void> {
    for (;;) {
      const next = this.clock.nextTimerAt();
      if (next === undefined || next > target) break;
      this.clock.advanceTo(Math.max(next, this.clock.nowMs()));
      await this.settle();
    }
    if (target > this.clock.nowMs()) this.clock.advanceTo(target);
    await this.settle();
  }

  /**
   * Waits until nothing moves without the clock: no tracked work (deliveries, invocations, clicks)
   * and every running execution parked on a task token (its timers are on the simulated clock).
   */
  private async settle(): Promise<void> {
    let lastProgress = this.wallNow();
    let seen = this.lines.length;
    for (;;) {
      await this.work.settle();
      for (const f of this.work.takeFailures()) this.problem(`${(f as Error)?.message ?? String(f)}`);
      const parked = new Set(this.tokens.pending().map((t) => t.executionArn));
      const busy = [...this.executions.values()].filter((e) => !e.done && !parked.has(e.executionArn));
      if (busy.length === 0 && this.work.size === 0) return;
      if (this.lines.length !== seen) {
        seen = this.lines.length;
        lastProgress = this.wallNow();
      } else if (this.wallNow() - lastProgress > STUCK_MS) {
        this.problem(`no progress for ${STUCK_MS / 1000} s of real time in: ${busy.map((e) => `${e.workflow} ${e.executionArn}`).join(', ')}; the simulation moves on`);
        return;
      }
      await new Promise<void>((r) => setTimeout(r, 1));
    }
  }

  private async runStep(step: ScenarioStep): Promise<void> {
    if ('note' in step) {
      this.note(step.note, 'step');
    } else if ('invoke' in step) {
      await this.invoke(step.invoke, { payload: step.payload, calls: step.calls }, step.repeat);
    } else if ('click' in step) {
      if (this.o.interactive && ['approve', 'deny', 'reviewing'].includes(step.click.button)) {
        this.note(`(interactive: the scenario's click of ${step.click.user} on "${step.click.button}" for ${step.click.function} is left to you)`);
        return;
      }
      await this.click(step.click.user, step.click.function, step.click.button);
    } else if ('ack' in step) {
      await this.click(step.ack.user, step.ack.function, 'acknowledge');
    } else if ('publish' in step) {
      const dir = isAbsolute(step.publish.rules) ? step.publish.rules : resolve(this.baseDir, step.publish.rules);
      this.note(`${step.publish.by} publishes the rules in ${step.publish.rules}${step.publish.signedBy === 'untrusted' ? ' signed with a key nobody trusts' : ''}`, 'step');
      const change = await this.work.track(this.env.publish(dir, { by: step.publish.by, trusted: step.publish.signedBy === 'trusted' }));
      this.policyLine('publish', step.publish.by, change);
    } else if ('killswitch' in step) {
      const on = step.killswitch === 'on';
      this.note(`${step.by} ${on ? `engages the kill switch (${step.reason})` : 'releases the kill switch'}`, 'step');
      const change = await this.work.track(this.env.killSwitch(on, on ? step.reason : '', step.by));
      this.policyLine('killswitch', step.by, change);
    } else if ('restore' in step) {
      const fn = step.restore.function;
      const q = [...this.executions.values()].filter((e) => e.workflow === 'quarantine' && e.functionName === fn && e.incidentId).at(-1);
      if (!q) {
        this.problem(`${step.restore.by} was to restore ${fn}, but no quarantine of ${fn} ran (nothing to restore)`);
        return;
      }
      this.note(`${step.restore.by} starts the restore workflow for ${fn} (incident ${q.incidentId})`, 'step');
      await this.work.track(this.env.startRestore(fn, q.incidentId!, step.restore.by));
    }
  }

  private policyLine(action: 'publish' | 'killswitch', by: string, c: wiring.PolicyChange): void {
    this.emit({ type: 'policy', t: this.iso(), action, by, from: c.from, to: c.to, ...(c.published !== null ? { published: c.published } : {}), ...(c.sequence !== undefined ? { sequence: c.sequence } : {}), killSwitch: c.killSwitch, switched: c.switched, kept: c.kept });
    if (action === 'publish' && c.published !== null && c.to !== c.published) {
      this.note(`${c.published} was written to the store but not accepted: ${c.kept.map((k) => `${k.who} kept ${k.version ?? 'no version'} (${k.reason})`).join(', ') || 'nobody switched'}`);
    }
  }

  private async invoke(fn: string, event: RunnerEvent, repeat: number): Promise<void> {
    const invoker = this.invokers.get(fn)!;
    const concurrency = this.account.describeFunction(fn).reservedConcurrency;
    const handler = this.scenario.functions[fn]?.handler;
    this.note(`invoke ${fn}${repeat > 1 ? ` ×${repeat}` : ''}: ${handler ? `its handler ${handler}` : event.calls.map(describeCall).join(', ') || 'no calls'}`, 'step');
    if (concurrency === 0) {
      // reserved concurrency 0: Lambda throttles every invocation; the code never runs
      this.note(`${fn} is throttled (reserved concurrency 0: quarantined); the invocation is rejected by Lambda`);
      return;
    }
    const outcomes: CallOutcome[][] = [];
    for (let i = 0; i < repeat; i++) {
      const result = (await this.work.track(invoker(event))) as { calls?: CallOutcome[] } | undefined;
      const calls = handler ? [] : (result?.calls ?? []);
      outcomes.push(calls);
      if (handler && i === 0) this.note(`${fn} returned ${clip(JSON.stringify(result) ?? 'undefined', 200)}`);
      // what the function's code saw (first invocation), before EventBridge delivers what its agent reported
      if (i === 0) {
        for (const c of calls) {
          const said = c.outcome === 'ok' ? `ok (HTTP ${c.status})` : c.outcome === 'blocked' ? 'BLOCKED by the agent' : `failed: ${c.error}`;
          this.note(`${fn}: ${c.call} → ${said}`);
        }
      }
      await this.settle();
    }
    outcomes.forEach((calls) => calls.forEach((c) => {
      if (c.expect && c.expect !== c.outcome) this.problem(`${fn}: ${c.call} was expected to be ${c.expect === 'ok' ? 'let through' : 'blocked'}, but was ${c.outcome}${c.error ? ` (${c.error})` : ''}`);
    }));
  }

  /** --interactive: every new approval request is put to the person at the terminal. */
  private async askApprovals(): Promise<void> {
    if (!this.o.interactive || !this.o.ask || this.inputClosed) return;
    for (const m of this.slack.all()) {
      if (this.asked.has(`${m.channel}/${m.ts}`)) continue;
      this.asked.add(`${m.channel}/${m.ts}`);
      const fn = Object.keys(this.scenario.functions).find((f) => this.slack.findButton(f, 'warden_approve')?.message === m);
      if (!fn) continue;
      this.printer.clearProgress();
      let answer: string;
      let user: string | undefined;
      try {
        answer = (await this.o.ask(`\n${m.text}\n  [a] approve  [d] deny  [r] still reviewing  [Enter] no answer (let it time out) > `)).trim().toLowerCase();
        if (/^[adr]/.test(answer)) {
          const suggested = /approvers: [^)]*?([UW][A-Z0-9]{2,})/.exec(m.text)?.[1] ?? 'U0APPROVER1';
          user = (await this.o.ask(`  as which Slack user? [${suggested}] > `)).trim() || suggested;
        }
      } catch {
        // the terminal closed its input (Ctrl+D): nobody answers from now on
        this.note('(interactive: input closed; the remaining approval requests go unanswered)');
        this.inputClosed = true;
        return;
      }
      const button = answer.startsWith('a') ? 'approve' : answer.startsWith('d') ? 'deny' : answer.startsWith('r') ? 'reviewing' : null;
      if (!button) {
        this.note(`(interactive: no answer to the approval request for ${fn})`);
        continue;
      }
      await this.click(user ?? 'U0APPROVER1', fn, button);
      await this.settle();
    }
  }

  private async click(user: string, fn: string, button: 'approve' | 'deny' | 'reviewing' | 'acknowledge' | 'looking'): Promise<void> {
    const result = await this.work.track(this.env.click(user, fn, button));
    this.emit({ type: 'slack.message', t: this.iso(), direction: 'in', channel: result.channel, user, text: result.reply, button, accepted: result.accepted });
    if (!result.found) this.problem(`${user} was to click "${button}" for ${fn}, but no Slack message about ${fn} offers that button`);
  }

  // ---- the report --------------------------------------------------------------------------------

  summary(wallMs: number): SummaryLine {
    const roles: RoleDiff[] = [];
    if (this.account) {
      for (const [fn, q] of this.atQuarantine) {
        const now = captureState(this.account, this.scenario, fn);
        const restored = this.restoredFns.has(fn);
        const snap = this.snapshotStates.get(fn);
        // exact: the role and function now equal both the stored snapshot and the state seen before quarantine
        const exact = restored ? snap !== undefined && snap !== null && sameState(snap, now) && sameState(q.before, now) : null;
        roles.push({
          function: fn,
          role: roleNameOf(this.scenario, fn),
          before: summarizeState(q.before),
          quarantined: q.after ? summarizeState(q.after) : null,
          after: summarizeState(now),
          restoredExactly: exact,
        });
      }
    }
    this.emitted = this.env?.agentStats().emitted ?? 0;
    const problems = [...this.problems];
    if (this.env && this.emitted !== this.agentEventsOnBus) {
      problems.push(`the agents emitted ${this.emitted} event(s) but the bus received ${this.agentEventsOnBus}`);
    }
    return buildSummary({
      scenario: this.ready ? this.scenario : { ...this.scenario, expect: { decisions: [], workflows: [] } },
      lines: this.lines,
      emitted: this.emitted,
      deadLettered: this.bus?.deadLetters.filter((d) => d.event.source === 'warden.agent').length ?? 0,
      roles,
      audit: this.audit,
      timings: this.timings,
      problems,
      simStartMs: this.startMs,
      simEndMs: this.clock?.nowMs() ?? this.startMs,
      wallMs,
    });
  }
}

function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

function accessTarget(a: Record<string, unknown>): string {
  if (a.kind === 'aws') return `${String(a.service)}:${String(a.action)}${a.resource ? ` ${String(a.resource)}` : ''}`;
  const host = String(a.host ?? a.address ?? '?');
  return `${a.method ? `${String(a.method)} ` : ''}${host}${a.port !== undefined ? `:${String(a.port)}` : ''}`;
}

