import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdirSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { startLocalDynamo, LOCAL_CREDENTIALS, type LocalDynamo } from '../local-dynamo';
import { startStandInHosts, type StandInHandler, type StandInHosts } from '../stand-in-hosts';
import type { LocalRunner, TaskContext, LocalLambdaHandler, LocalIntegrationHandler } from '../../../workflows/local/runner';
import type { SimClock } from '../../../workflows/local/sim-clock';
import type { WorkflowDeps } from '../../../workflows/common/deps';
import type { CfnTemplate } from '../../../workflows/local/asl-from-template';
import type { SimulatedAccount } from '../../../workflows/local/simulated-account';
import type { TaskTokenRegistry } from '../../../workflows/local/task-tokens';
import type { AgentCore } from '../../agent/core';
import type { AgentConfig } from '../../agent/config';
import type { PolicySource } from '../../distribution/policy-source';
import type { WardenPolicy } from '../../policy/compile';
import type { PutEntry, BusEvent } from './bus';
import { SimulationSetupError } from './errors';
import { AWS_SERVICES, awsEndpointHost, type RunnerEvent } from './function-runtime';
import { roleArnOf } from './account';
import type { Scenario } from './scenario';
import type { SimulatedSlack } from './slack-recorder';

/**
 * Builds the pieces a simulation runs on, each the project's own code with local ports:
 * policy (engine/policy), agent (engine/agent), PutEvents endpoint, engine handler
 * (engine/handler/lambda's createHandler), the local runner with the workflows' task handlers,
 * the Slack interactivity core, dynalite for every table. Nothing here re-describes a state
 * machine, a rule or a route: they come from the synthesized template.
 */
export interface EnvironmentOptions {
  scenario: Scenario;
  rulesDir: string;
  baseDir: string;
  template: { Resources?: Record<string, unknown> };
  tmpDir: string;
  clock: SimClock;
  account: SimulatedAccount;
  tokens: TaskTokenRegistry;
  slack: SimulatedSlack;
  slackSigningSecret: string;
  track: (p: Promise<unknown>) => void;
  onAccountCall: (call: { service: string; operation: string; params: Record<string, unknown>; ok: boolean; error: string | null }, ctx: TaskContext | null) => void;
  onTaskState: (ctx: TaskContext) => void;
  startWorkflow: (logicalId: string, input: unknown) => { executionArn: string };
  putOnBus: (entries: PutEntry[]) => string[];
  onBusEvents: (events: { envelope: BusEvent; eventBusName: string }[]) => void;
  problem: (text: string) => void;
}

export interface ClickResult {
  found: boolean;
  accepted: boolean;
  reply: string;
  channel: string | null;
}

/** what a publish or kill-switch step changed */
export interface PolicyChange {
  /** the engine's version before and after */
  from: string;
  to: string;
  /** the version written to the store (publish), whether or not anyone accepted it */
  published: string | null;
  sequence: number | undefined;
  killSwitch: boolean;
  /** function names whose agent switched, and "engine" */
  switched: string[];
  kept: { who: string; reason: string; version: string | null }[];
}

/** the engine's name among the policy sources */
export const ENGINE = 'rules engine';

export interface Environment {
  runner: LocalRunner;
  busName: string;
  /** the first version in the simulation's signed store (the scenario's rules) */
  policyVersion: string;
  /** compiles a rules directory and publishes it through the real publish path; every agent and the engine refresh */
  publish(rulesDir: string, opts: { by: string; trusted: boolean }): Promise<PolicyChange>;
  /** moves the signed kill switch; every agent and the engine refresh */
  killSwitch(engaged: boolean, reason: string, by: string): Promise<PolicyChange>;
  standIns: StandInHosts;
  /** the function's handler wrapped by the real agent, configured as in Lambda; calls are serialized */
  functionInvoker(fn: string, builtIn: (event: RunnerEvent) => Promise<unknown>): Promise<(event: unknown) => Promise<unknown>>;
  /** invokes a Lambda function of the template (the rules engine) with an event delivered by the bus */
  invokeTemplateFunction(logicalId: string, input: unknown): Promise<void>;
  click(user: string, fn: string, button: 'approve' | 'deny' | 'reviewing' | 'acknowledge' | 'looking'): Promise<ClickResult>;
  startRestore(fn: string, incidentId: string, by: string): Promise<void>;
  agentStats(): { emitted: number };
  /** the quarantine snapshot stored for an incident (the snapshots table), or null */
  snapshot(incidentId: string): Promise<import('../../../workflows/common/snapshot').Snapshot | null>;
  /** the audit trail as stored (dynalite, the template's audit table): entries by type */
  auditTrail(): Promise<{ table: string; total: number; byType: Record<string, number> }>;
  /** what each agent still holds (aggregated repeats) is delivered, as on Lambda's shutdown */
  finalFlush(): Promise<void>;
  /** resolves when no function invocation is running (bus deliveries wait for it) */
  idle(): Promise<void>;
  close(): Promise<void>;
}

interface TemplateFn { logicalId: string; name: string; environment: Record<string, string>; wardenTask?: string }

const AGENT_STATE = Symbol.for('warden.agent.state');
const AGENT_EXEMPT = Symbol.for('warden.agent.exempt');

export async function createEnvironment(o: EnvironmentOptions): Promise<Environment> {
  const closers: (() => Promise<void> | void)[] = [];
  const close = async () => {
    for (const c of closers.reverse()) await c();
  };
  try {
    return await build(o, closers, close);
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
}

async function build(o: EnvironmentOptions, closers: (() => Promise<void> | void)[], close: () => Promise<void>): Promise<Environment> {
  const s = o.scenario;
  const region = s.account.region;

  // ---- policy: the rules repo compiled once; the engine reads the same bundle from a file --------------
  const policyMod = await import('../../policy');
  const repo = await policyMod.loadRulesDir(o.rulesDir).catch((err: unknown) => {
    throw new SimulationSetupError(`the rules in ${o.rulesDir} do not load: ${(err as Error).message}`, { cause: err });
  });
  const compiled = policyMod.compilePolicy(repo);
  const bundlePath = join(o.tmpDir, 'policy.json');
  const initialBundle = JSON.stringify(policyMod.toBundle(compiled));
  writeFileSync(bundlePath, initialBundle);

  // ---- distribution: a local signed store (temp dir, fresh key pair), the initial rules its first version;
  //      the agents and the engine enforce what they verified from it, as on AWS ---------------------------
  const { createLocalDistribution } = await import('../../distribution/local');
  const { generateSigningKeyPair } = await import('../../distribution/signing');
  const { readBundle } = await import('../../policy/bundle');
  const storeDir = join(o.tmpDir, 'policy-store');
  mkdirSync(storeDir, { recursive: true });
  const distClock = { now: () => o.clock.nowMs() };
  const dist = createLocalDistribution<WardenPolicy>({ loadBundle: (text) => readBundle(text), clock: distClock, dir: storeDir });
  const first = await dist.publish(initialBundle, 'simulate (the scenario\'s rules)');
  /** a verifying source over the store; an agent's (`exceptionsFor`) also fetches its function's signed exceptions */
  const startSource = async (who: string, exceptionsFor?: string): Promise<PolicySource<WardenPolicy>> => {
    const source = dist.source(exceptionsFor ? { exceptionsFor } : {});
    try {
      await source.start();
    } catch (err) {
      throw new SimulationSetupError(`the ${who} could not load the first version from the simulation's policy store: ${(err as Error).message}`, { cause: err });
    }
    return source;
  };
  const sources = new Map<string, PolicySource<WardenPolicy>>();
  closers.push(() => { for (const src of sources.values()) src.stop(); });

  // ---- template pieces --------------------------------------------------------------------------
  const { functionsFromTemplate } = await import('../../../workflows/local/asl-from-template');
  const templateFns: TemplateFn[] = functionsFromTemplate(o.template as CfnTemplate);
  const busName = busNameOf(o.template);

  // ---- DynamoDB: Warden's tables (from the template) and the functions' own tables ----------------
  const dynamo = await startLocalDynamo({ template: o.template, region });
  closers.push(() => dynamo.close());
  const appDynamo = await startLocalDynamo({ region });
  closers.push(() => appDynamo.close());
  for (const t of appTables(s)) await appDynamo.createTable(t, 'pk');
  const doc = DynamoDBDocumentClient.from(dynamo.client, { marshallOptions: { removeUndefinedValues: true } });

  // ---- stand-ins for every external host and AWS endpoint the functions call -----------------------
  const awsHandlers: Record<string, StandInHandler> = {};
  for (const svc of Object.keys(AWS_SERVICES)) {
    if (svc === 'dynamodb') continue;
    awsHandlers[awsEndpointHost(svc, region)] = (_req, _body, res) => {
      // a generic success: enough for a call to complete; the access itself is what the simulation is about
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': 'simulated' });
      res.end('{}');
    };
  }
  const standIns = await startStandInHosts({
    hosts: s.hosts,
    handlers: awsHandlers,
    forward: { [awsEndpointHost('dynamodb', region)]: appDynamo.port },
  });
  closers.push(() => standIns.close());
  closers.push(standIns.installLookup());
  closers.push(standIns.installGlobalAgents());
  closers.push(setEnv(userCodeEnv(s, standIns.port, appDynamo.port)));
  closers.push(await standIns.installFetchDispatcher());

  // ---- the local PutEvents endpoint (agents and engine publish through the real client) ---------------
  const { startPutEventsServer } = await import('../putevents-server');
  const putEvents = await startPutEventsServer({
    account: s.account.id,
    region,
    onEvents: (events) => o.onBusEvents(events.map((e) => ({ envelope: e.envelope as BusEvent, eventBusName: e.eventBusName }))),
  });
  closers.push(() => putEvents.close());
  const eventBridge = (): EventBridgeClient => new EventBridgeClient({ endpoint: putEvents.url, region, credentials: LOCAL_CREDENTIALS, maxAttempts: 2 });

  // ---- the agents: one per simulated function; the hooks are process-wide and installed once -------------
  const agentRuntime = await import('../../agent/runtime');
  const { configFromEnv } = await import('../../agent/config');
  const { PutEventsSink } = await import('../../agent/emitter');
  const agentState = () => (globalThis as unknown as Record<symbol, { agent: AgentCore | undefined; exempt: Set<string> }>)[AGENT_STATE];
  const cores = new Map<string, AgentCore>();
  /** simulated time of each agent's last refresh from the store (Lambda: a timer, or refresh on use) */
  const lastRefresh = new Map<string, number>();
  const { DEFAULT_REFRESH_MS } = await import('../../distribution/policy-source');
  /** the agent takes what its source verified, as startAgentPolicyRefresh hands it over on AWS */
  const handOver = (who: string, source: PolicySource<WardenPolicy>) => cores.get(who)?.setPolicy(source.current(), source.killSwitch.engaged ? 'monitor' : undefined);
  /** before an invocation: the agent's source refreshes when its interval has passed on the simulated clock */
  const refreshIfDue = async (fn: string): Promise<void> => {
    const source = sources.get(fn);
    const now = o.clock.nowMs();
    if (!source || now - (lastRefresh.get(fn) ?? now) < DEFAULT_REFRESH_MS) return;
    lastRefresh.set(fn, now);
    const before = { version: source.version, engaged: source.killSwitch.engaged };
    const outcome = await source.refresh();
    // policy rejections were reported at the publish step that caused them; exceptions have no such step
    for (const p of outcome.problems) if (p.what === 'exceptions') o.problem(`agent of ${fn}: exceptions document rejected (${p.reason}): ${p.message}`);
    if (outcome.exceptionsChanged || source.version !== before.version || source.killSwitch.engaged !== before.engaged) handOver(fn, source);
  };
  const agentLog = (fn: string) => (line: string) => {
    try {
      const l = JSON.parse(line) as { level?: string; message?: string; reason?: string };
      if (l.level === 'ERROR') o.problem(`agent of ${fn}: ${l.message ?? line}${l.reason ? ` (${l.reason})` : ''}`);
    } catch {
      o.problem(`agent of ${fn}: ${line}`);
    }
  };
  const exempt = [...standIns.localEndpoints(), `127.0.0.1:${putEvents.port}`, `127.0.0.1:${dynamo.port}`];
  for (const fn of Object.keys(s.functions)) {
    const spec = s.functions[fn]!;
    const config: AgentConfig = {
      ...configFromEnv({
        WARDEN_FUNCTION_NAME: fn,
        AWS_REGION: region,
        WARDEN_ACCOUNT_ID: s.account.id,
        WARDEN_ROLE_ARN: roleArnOf(s, fn),
        WARDEN_FUNCTION_TAGS: JSON.stringify(spec.tags),
        WARDEN_EVENT_BUS: busName,
      }),
    };
    config.exemptEndpoints = [...config.exemptEndpoints, ...exempt];
    const st = agentState();
    if (st) st.agent = undefined;
    const ebClient = eventBridge();
    (ebClient as unknown as Record<symbol, boolean>)[AGENT_EXEMPT] = true;
    const source = await startSource(`agent of ${fn}`, fn);
    sources.set(fn, source);
    lastRefresh.set(fn, o.clock.nowMs());
    const core = agentRuntime.install({
      config,
      policy: source.current(),
      // approved exceptions, signed into the store by the approval workflow, as the agent verified them
      exceptions: () => source.exceptions(),
      clock: () => o.clock.nowMs(),
      log: agentLog(fn),
      // the flush budget and retry back-off run on simulated time: a loaded machine must not turn into lost events
      sink: new PutEventsSink({ eventBus: busName, client: () => ebClient, log: agentLog(fn), sleep: async () => undefined, now: () => o.clock.nowMs() }),
    });
    cores.set(fn, core);
  }
  agentState().agent = undefined;
  closers.push(() => agentRuntime.uninstall());

  // only one simulated function runs at a time; the bus waits for it, so Warden's own calls are never taken for the function's
  let running: Promise<unknown> = Promise.resolve();
  let active = 0;
  const idle = async () => {
    while (active > 0) await running.catch(() => undefined);
  };

  const functionInvoker: Environment['functionInvoker'] = async (fn, builtIn) => {
    const spec = s.functions[fn]!;
    const code = spec.handler ? await loadHandler(o.baseDir, spec.handler) : (e: unknown) => builtIn(e as RunnerEvent);
    const wrapped = agentRuntime.withWarden(code as (e: unknown, c: unknown) => Promise<unknown>);
    let seq = 0;
    return (event) => {
      const run = async () => {
        active++;
        const st = agentState();
        try {
          await refreshIfDue(fn);
          st.agent = cores.get(fn);
          seq += 1;
          return await wrapped(event, lambdaContext(fn, s.account.id, region, `${fn}-${seq}`));
        } finally {
          st.agent = undefined;
          active--;
        }
      };
      const p = running.then(run, run);
      running = p.catch(() => undefined);
      return p;
    };
  };

  // ---- the rules engine: its Lambda handler, configured from its environment in the template ---------------
  const engineFn = templateFns.find((f) => 'WARDEN_RULES_BUNDLE' in f.environment);
  if (!engineFn) throw new SimulationSetupError('the synthesized template has no rules-engine function (no WARDEN_RULES_BUNDLE in any function environment)');
  const { createHandler } = await import('../../handler/lambda');
  const { Logger } = await import('@aws-lambda-powertools/logger');
  type Metrics = import('@aws-lambda-powertools/metrics').Metrics;
  const engineEb = eventBridge();
  const engineSource = await startSource('rules engine');
  sources.set(ENGINE, engineSource);
  const { evaluatorFor } = await import('../../handler/evaluator');
  const { evaluatorFromSource } = await import('../../distribution/engine-source');
  const engine = createHandler(
    { ...engineFn.environment, WARDEN_RULES_BUNDLE: bundlePath },
    {
      dynamo: dynamo.client,
      eventBridge: engineEb,
      now: () => o.clock.nowMs(),
      logger: new Logger({ serviceName: 'warden-engine', logLevel: 'SILENT' }),
      // the verified version in force in the signed store (refreshed at the scenario's publish steps)
      evaluate: evaluatorFromSource(engineSource, (p) => evaluatorFor(p)),
      // metrics would print CloudWatch EMF lines into the timeline; the counts are in the report anyway
      metrics: { addMetric: () => undefined, publishStoredMetrics: () => undefined } as unknown as Metrics,
    },
  );
  let engineSeq = 0;
  const invokeTemplateFunction: Environment['invokeTemplateFunction'] = async (logicalId, input) => {
    await idle();
    if (logicalId !== engineFn.logicalId) throw new SimulationSetupError(`the bus routes to function ${logicalId}, which the simulation does not run (only the rules engine is a bus target)`);
    engineSeq += 1;
    await engine(input, lambdaContext(engineFn.name, s.account.id, region, `engine-${engineSeq}`) as unknown as Parameters<typeof engine>[1]);
  };

  // ---- Slack side: approvals config, callback store, interactivity core ----------------------------------
  const slackMod = {
    approvers: await import('../../../workflows/slack/approvers'),
    store: await import('../../../workflows/slack/callback-store'),
    interactivity: await import('../../../workflows/slack/interactivity-core'),
    messages: await import('../../../workflows/slack/messages'),
    secrets: await import('../../../workflows/slack/secrets'),
    signature: await import('../../../workflows/slack/signature'),
    callback: await import('../../../workflows/slack/task-callback'),
    sns: await import('../../../workflows/slack/sns-port'),
  };
  const { AuditLog } = await import('../../audit/audit-log');
  const { TABLES } = await import('../../audit/tables');
  const tableOf = (envName: string): string => {
    for (const f of templateFns) if (f.environment[envName]) return f.environment[envName]!;
    // no function reads it yet: the table resource itself (AuditTable, ApprovalsTable, …), as dynalite created it
    const key = Object.entries(TABLES).find(([, t]) => t.env === envName)?.[0];
    const hit = key ? Object.entries(dynamo.tables).find(([logicalId]) => logicalId.toLowerCase().includes(`${key.toLowerCase()}table`)) : undefined;
    if (hit) return hit[1];
    throw new SimulationSetupError(`the template has no table for ${envName}; is the Warden construct complete?`);
  };
  const audit = new AuditLog({ doc, tableName: tableOf(TABLES.audit.env), clock: o.clock });
  const approvers = await slackMod.approvers.loadApproversConfig(o.rulesDir);
  const callbackStore = new slackMod.store.CallbackStore(doc, tableOf(TABLES.approvals.env));
  const taskCallback = new slackMod.callback.RegistryTaskCallback(o.tokens);
  const secrets = new slackMod.secrets.StaticSlackSecrets({ signingSecrets: [o.slackSigningSecret], botToken: 'xoxb-simulated' });

  // ---- the workflows' task handlers, each with local ports ---------------------------------------------
  const taskCtx = new AsyncLocalStorage<TaskContext>();
  const { CallerAccountPort } = await import('../../../workflows/common/account-port');
  const accountCaller = async (service: 'iam' | 'lambda', operation: string, params: Record<string, unknown>): Promise<Record<string, unknown>> => {
    const ctx = taskCtx.getStore() ?? null;
    try {
      const out = (await o.account.call(service, operation, params)) as Record<string, unknown>;
      if (!/^(get|list)/.test(operation)) o.onAccountCall({ service, operation, params, ok: true, error: null }, ctx);
      return out;
    } catch (err) {
      o.onAccountCall({ service, operation, params, ok: false, error: (err as Error).name }, ctx);
      throw err;
    }
  };
  const { SnapshotStore } = await import('../../../workflows/common/snapshot');
  const { GUARDRAIL_DEFAULTS } = await import('../../../workflows/common/deps');
  const workflowDeps: WorkflowDeps = {
    account: new CallerAccountPort(accountCaller),
    audit,
    snapshots: new SnapshotStore(doc, tableOf(TABLES.snapshots.env)),
    notifier: {
      notify: async (n: { subject: string }) => {
        const ctx = taskCtx.getStore() ?? null;
        o.onAccountCall({ service: 'sns', operation: 'publish', params: { Subject: n.subject }, ok: true, error: null }, ctx);
      },
    },
    clock: o.clock,
    guardrails: GUARDRAIL_DEFAULTS,
    simulated: true,
  };
  const sns = {
    publish: async (topicArn: string, subject: string) => {
      o.onAccountCall({ service: 'sns', operation: 'publish', params: { TopicArn: topicArn, Subject: subject }, ok: true, error: null }, taskCtx.getStore() ?? null);
      return { messageId: `simulated-${Date.now().toString(36)}` };
    },
  };
  const { DynamoExceptionStore } = await import('../../../workflows/approval/exception-store');
  const { approvalTaskHandlers, publishExceptionsTaskHandlers } = await import('../../../workflows/approval/tasks');
  const { dynamoExceptionSource } = await import('../../handler/exceptions');
  const exceptionsTable = dynamoExceptionSource(doc, tableOf(TABLES.exceptions.env), (_item, error) => o.problem(`malformed exception record left out of the published document: ${error}`));
  const { escalateTaskHandlers } = await import('../../../workflows/escalate/tasks');
  const { bindTasks } = await import('../../../workflows/common/task-runtime');
  const { QUARANTINE_TASKS } = await import('../../../workflows/quarantine/tasks');
  const { RESTORE_TASKS } = await import('../../../workflows/restore/tasks');
  const handlers: Record<string, LocalLambdaHandler> = {
    ...approvalTaskHandlers({ store: callbackStore, slack: o.slack, exceptions: new DynamoExceptionStore(doc, tableOf(TABLES.exceptions.env)), approvers, audit, clock: o.clock }),
    ...escalateTaskHandlers({ store: callbackStore, slack: o.slack, sns, audit, clock: o.clock }),
    // after an approval: the function's active exceptions, signed with the exceptions key, into the local store
    ...publishExceptionsTaskHandlers({ readExceptions: (fn) => exceptionsTable.forFunction(fn), store: dist.store, signer: dist.exceptionsSigner, clock: o.clock, publishedBy: 'simulate (approval workflow)' }),
    ...bindTasks(QUARANTINE_TASKS, workflowDeps),
    ...bindTasks(RESTORE_TASKS, workflowDeps),
  };
  const lambdaHandlers: Record<string, LocalLambdaHandler> = {};
  for (const [k, h] of Object.entries(handlers)) {
    lambdaHandlers[k] = (payload, ctx) => {
      o.onTaskState(ctx);
      return taskCtx.run(ctx, () => trackPromise(o, h(payload, ctx)));
    };
  }

  // service integrations: the simulated account for aws-sdk:iam/lambda, dynalite, the bus, nested workflows
  const { LocalRunner } = await import('../../../workflows/local/runner');
  const { SimulatedAwsError } = await import('../../../workflows/local/simulated-account');
  const integrations: Record<string, LocalIntegrationHandler> = {};
  for (const op of o.account.supportedOperations()) {
    const [service, operation] = op.split(':') as [string, string];
    integrations[`aws-sdk:${op}`] = async (params, ctx) => {
      o.onTaskState(ctx);
      const p = (params ?? {}) as Record<string, unknown>;
      try {
        const out = await o.account.call(service, operation, p);
        if (!/^(get|list)/.test(operation)) o.onAccountCall({ service, operation, params: p, ok: true, error: null }, ctx);
        return out;
      } catch (err) {
        o.onAccountCall({ service, operation, params: p, ok: false, error: (err as Error).name }, ctx);
        if (err instanceof SimulatedAwsError) throw Object.assign(new Error(err.message), { name: err.stepFunctionsError });
        throw err;
      }
    };
  }
  const startExecution: LocalIntegrationHandler = (params, ctx) => {
    o.onTaskState(ctx);
    const p = (params ?? {}) as { StateMachineArn?: string; Input?: unknown };
    const logicalId = String(p.StateMachineArn ?? '').split(':').pop() ?? '';
    const input = typeof p.Input === 'string' ? JSON.parse(p.Input) : p.Input;
    const { executionArn } = o.startWorkflow(logicalId, input);
    return { ExecutionArn: executionArn, StartDate: new Date(o.clock.nowMs()).toISOString() };
  };
  integrations['states:startExecution'] = startExecution;
  integrations['aws-sdk:sfn:startExecution'] = startExecution;
  integrations['events:putEvents'] = (params, ctx) => {
    o.onTaskState(ctx);
    const entries = ((params as { Entries?: PutEntry[] })?.Entries ?? []) as PutEntry[];
    const ids = o.putOnBus(entries);
    return { FailedEntryCount: 0, Entries: ids.map((EventId) => ({ EventId })) };
  };
  integrations['sns:publish'] = (params, ctx) => {
    o.onTaskState(ctx);
    o.onAccountCall({ service: 'sns', operation: 'publish', params: (params ?? {}) as Record<string, unknown>, ok: true, error: null }, ctx);
    return { MessageId: `simulated-${ctx.stateName}` };
  };
  for (const [op, cmd] of [['putItem', 'PutItemCommand'], ['getItem', 'GetItemCommand'], ['updateItem', 'UpdateItemCommand'], ['deleteItem', 'DeleteItemCommand']] as const) {
    integrations[`dynamodb:${op}`] = async (params, ctx) => {
      o.onTaskState(ctx);
      const ddb = await import('@aws-sdk/client-dynamodb');
      const Command = ddb[cmd] as unknown as new (i: unknown) => never;
      return dynamo.client.send(new Command(params));
    };
  }
  const runner = new LocalRunner({ template: o.template as CfnTemplate, lambdaHandlers, integrations, account: o.account, clock: o.clock, tokens: o.tokens });

  // ---- clicks: signed Slack requests into the interactivity core ---------------------------------------
  const buttonIds: Record<string, string> = {
    approve: slackMod.messages.ACTIONS.approve,
    deny: slackMod.messages.ACTIONS.deny,
    reviewing: slackMod.messages.ACTIONS.review,
    acknowledge: slackMod.messages.ACTIONS.ack,
    looking: slackMod.messages.ACTIONS.looking,
  };
  let clickSeq = 0;
  const click: Environment['click'] = async (user, fn, button) => {
    const found = o.slack.findButton(fn, buttonIds[button]!);
    if (!found) return { found: false, accepted: false, reply: 'no message with that button', channel: null };
    clickSeq += 1;
    const responseUrl = `https://hooks.slack.com/actions/SIMULATED/${clickSeq}`;
    const payload = {
      type: 'block_actions',
      user: { id: user },
      team: { id: 'T0SIMULATED' },
      response_url: responseUrl,
      container: { channel_id: found.message.channel, message_ts: found.message.ts },
      actions: [{ action_id: found.actionId, value: found.value }],
    };
    const raw = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
    const ts = String(Math.floor(o.clock.nowMs() / 1000));
    const signature = slackMod.signature.computeSlackSignature(o.slackSigningSecret, ts, Buffer.from(raw));
    const { outcome } = await slackMod.interactivity.handleInteraction(
      { headers: { 'x-slack-request-timestamp': ts, 'x-slack-signature': signature, 'content-type': 'application/x-www-form-urlencoded' }, body: raw, isBase64Encoded: false, requestContext: { http: { method: 'POST' } } },
      { secrets, store: callbackStore, callbacks: taskCallback, slack: o.slack, approvers, audit, clock: o.clock },
    );
    const accepted = outcome.kind === 'decided' || outcome.kind === 'heartbeat';
    const reply = (o.slack.replies.get(responseUrl) ?? []).join(' ') || outcome.kind;
    return { found: true, accepted, reply, channel: found.message.channel };
  };

  // ---- restore: a responder starts the template's restore state machine for the incident -----------------
  const startRestore: Environment['startRestore'] = async (fn, incidentId, by) => {
    const sm = runner.stateMachineNames().find((m) => `${m.path ?? ''}/${m.logicalId}`.toLowerCase().includes('restore'));
    if (!sm) throw new SimulationSetupError(`the template has no restore state machine, so ${fn} cannot be restored`);
    o.startWorkflow(sm.logicalId, { incidentId, requestedBy: by, reason: `restore requested by ${by} in the simulation` });
  };

  // ---- a publish (or kill switch) mid-scenario: written to the store, then every source refreshes --------
  /** every agent and the engine refresh from the store (between invocations, as a timer would) */
  const refreshAll = async (): Promise<{ switched: string[]; kept: PolicyChange['kept'] }> => {
    await idle();
    const switched: string[] = [];
    const kept: PolicyChange['kept'] = [];
    for (const [who, source] of sources) {
      const before = { version: source.version, engaged: source.killSwitch.engaged };
      const outcome = await source.refresh();
      if (lastRefresh.has(who)) lastRefresh.set(who, o.clock.nowMs());
      for (const p of outcome.problems) kept.push({ who, reason: p.reason, version: p.keptVersion ?? null });
      if (source.version === before.version && source.killSwitch.engaged === before.engaged) {
        if (outcome.exceptionsChanged) handOver(who, source);
        continue;
      }
      switched.push(who);
      handOver(who, source);
    }
    return { switched, kept };
  };
  const publish: Environment['publish'] = async (rulesDir, opts) => {
    const from = engineSource.version ?? '(none)';
    const rules = await policyMod.loadRulesDir(rulesDir).catch((err: unknown) => {
      throw new SimulationSetupError(`the rules to publish in ${rulesDir} do not load: ${(err as Error).message}`, { cause: err });
    });
    const bundle = JSON.stringify(policyMod.toBundle(policyMod.compilePolicy(rules)));
    // untrusted: a publisher whose key the agents and the engine were not configured with
    const publisher = opts.trusted ? dist : createLocalDistribution<WardenPolicy>({ loadBundle: (text) => readBundle(text), clock: distClock, dir: storeDir, keyPair: generateSigningKeyPair() });
    const result = await publisher.publish(bundle, opts.by);
    const { switched, kept } = await refreshAll();
    return { from, to: engineSource.version ?? '(none)', published: result.policyVersion, sequence: result.sequence, killSwitch: engineSource.killSwitch.engaged, switched, kept };
  };
  const killSwitch: Environment['killSwitch'] = async (engaged, reason, by) => {
    const from = engineSource.version ?? '(none)';
    await dist.killSwitch(engaged, reason, by);
    const { switched, kept } = await refreshAll();
    return { from, to: engineSource.version ?? '(none)', published: null, sequence: undefined, killSwitch: engineSource.killSwitch.engaged, switched, kept };
  };

  return {
    runner,
    busName,
    policyVersion: first.policyVersion,
    publish,
    killSwitch,
    standIns,
    functionInvoker,
    invokeTemplateFunction,
    click,
    startRestore,
    snapshot: (incidentId) => workflowDeps.snapshots.get(incidentId),
    auditTrail: async () => {
      const { ScanCommand } = await import('@aws-sdk/lib-dynamodb');
      const table = tableOf(TABLES.audit.env);
      const byType: Record<string, number> = {};
      let total = 0;
      let start: Record<string, unknown> | undefined;
      do {
        const page = await doc.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
        for (const item of page.Items ?? []) {
          total += 1;
          const type = typeof item.type === 'string' ? item.type : '(untyped)';
          byType[type] = (byType[type] ?? 0) + 1;
        }
        start = page.LastEvaluatedKey;
      } while (start);
      return { table, total, byType };
    },
    finalFlush: async () => {
      for (const [, core] of cores) {
        const run = async () => {
          active++;
          agentState().agent = core;
          try {
            await agentRuntime.flush({ final: true });
          } finally {
            agentState().agent = undefined;
            active--;
          }
        };
        const p = running.then(run, run);
        running = p.catch(() => undefined);
        await p;
      }
    },
    agentStats: () => ({ emitted: [...cores.values()].reduce((n, c) => n + c.stats.eventsSent + c.stats.eventsLogged, 0) }),
    idle,
    close,
  };
}

/**
 * What a user's handler module gets, as Lambda would give it: a region, (fake) credentials, and
 * AWS SDK endpoints on the stand-ins (`AWS_ENDPOINT_URL_<SERVICE>`, which the SDK reads).
 */
function userCodeEnv(s: Scenario, standInPort: number, dynamoPort: number): Record<string, string> {
  const env: Record<string, string> = {
    AWS_REGION: s.account.region,
    AWS_DEFAULT_REGION: s.account.region,
    AWS_ACCESS_KEY_ID: 'ASIASIMULATED0000000',
    AWS_SECRET_ACCESS_KEY: 'simulated-secret-not-real',
    AWS_SESSION_TOKEN: 'simulated',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  const sdkIds: Record<string, string> = { dynamodb: 'DYNAMODB', s3: 'S3', sqs: 'SQS', sns: 'SNS', sts: 'STS', kms: 'KMS', ssm: 'SSM', lambda: 'LAMBDA', kinesis: 'KINESIS', secretsmanager: 'SECRETS_MANAGER', events: 'EVENTBRIDGE', states: 'SFN' };
  for (const [svc, id] of Object.entries(sdkIds)) {
    env[`AWS_ENDPOINT_URL_${id}`] = `http://${awsEndpointHost(svc, s.account.region)}:${svc === 'dynamodb' ? dynamoPort : standInPort}`;
  }
  return env;
}

/** Sets environment variables until the returned function restores them. */
function setEnv(vars: Record<string, string>): () => void {
  const previous = new Map(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  return () => {
    for (const [k, v] of previous) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

function trackPromise<T>(o: EnvironmentOptions, v: T | Promise<T>): T | Promise<T> {
  if (v && typeof (v as Promise<T>).then === 'function') o.track(v as Promise<T>);
  return v;
}

/** A Lambda context as the runtime passes it (what withWarden and Powertools read). */
function lambdaContext(fn: string, account: string, region: string, requestId: string): Record<string, unknown> {
  return {
    functionName: fn,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:${account}:function:${fn}`,
    memoryLimitInMB: '512',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${fn}`,
    logStreamName: 'simulated',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => 30_000,
  };
}

/** Tables the scenario's DynamoDB calls name: created in the functions' dynalite with key `pk` (string). */
function appTables(s: Scenario): string[] {
  const out = new Set<string>();
  for (const st of s.timeline) {
    if (!('invoke' in st)) continue;
    for (const c of st.calls) if ('aws' in c && c.aws.startsWith('dynamodb:') && typeof c.params.TableName === 'string') out.add(c.params.TableName);
  }
  return [...out];
}

function busNameOf(template: { Resources?: Record<string, unknown> }): string {
  for (const r of Object.values(template.Resources ?? {})) {
    const res = r as { Type?: string; Properties?: { Name?: unknown } };
    if (res.Type === 'AWS::Events::EventBus' && typeof res.Properties?.Name === 'string') return res.Properties.Name;
  }
  throw new SimulationSetupError('the synthesized template has no named event bus');
}

/** Loads a user's handler module: "file.ts" (export `handler`) or "file.ts#exportName", relative to the scenario. */
async function loadHandler(baseDir: string, spec: string): Promise<(event: unknown, context: unknown) => Promise<unknown>> {
  const [file, name = 'handler'] = spec.split('#') as [string, string?];
  const path = isAbsolute(file) ? file : resolve(baseDir, file);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(path)) as Record<string, unknown>;
  } catch (err) {
    throw new SimulationSetupError(`cannot load handler ${spec} (${path}): ${(err as Error).message}`, { cause: err });
  }
  const fn = mod[name] ?? (mod.default as Record<string, unknown> | undefined)?.[name];
  if (typeof fn !== 'function') throw new SimulationSetupError(`handler ${spec}: ${path} exports no function "${name}"`);
  return fn as (event: unknown, context: unknown) => Promise<unknown>;
}

export type { LocalDynamo };
