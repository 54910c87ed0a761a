import type { WorkflowName } from './scenario';

/**
 * What a simulation emits, in order. With `--json` each of these is one line (the `note` kind is
 * for the human timeline only). `t` is the SIMULATED time (ISO-8601).
 */
export type WorkflowStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface AccessLine {
  type: 'access';
  t: string;
  eventId: string;
  function: string;
  kind: 'aws' | 'http' | 'tcp';
  /** "dynamodb:PutItem arn:…" or "POST pastebin.com:443" — one readable target */
  target: string;
  mode: string;
  agentVerdict: string | null;
  blocked: boolean;
  count: number;
  /** the version the agent decided with (a publish step changes it) */
  policyVersion?: string | null;
  access: Record<string, unknown>;
}

export interface DecisionLine {
  type: 'decision';
  t: string;
  eventId: string;
  decisionId: string;
  incidentId: string;
  function: string;
  verdict: 'allow' | 'deny' | 'unlisted';
  rule: string | null;
  severity: string;
  response: string;
  policyVersion: string;
  reason: string;
  error?: string;
}

export interface WorkflowStartLine {
  type: 'workflow.start';
  t: string;
  workflow: WorkflowName;
  executionId: string;
  function: string | null;
  incidentId: string | null;
  status: 'RUNNING';
}

export interface WorkflowStateLine {
  type: 'workflow.state';
  t: string;
  workflow: WorkflowName;
  executionId: string;
  state: string;
  status: 'RUNNING';
}

export interface WorkflowEndLine {
  type: 'workflow.end';
  t: string;
  workflow: WorkflowName;
  executionId: string;
  function: string | null;
  status: Exclude<WorkflowStatus, 'RUNNING'>;
  /** the workflow's own word for how it ended (e.g. "approved", "quarantined"), when it says */
  outcome: string | null;
  error: string | null;
}

export interface ActionLine {
  type: 'action';
  t: string;
  /** every AWS call a workflow made against the simulated account */
  service: string;
  action: string;
  /** the call's input, as sent */
  params: Record<string, unknown>;
  ok: boolean;
  error: string | null;
  workflow: WorkflowName | null;
  executionId: string | null;
  simulated: true;
}

export interface SlackLine {
  type: 'slack.message';
  t: string;
  /** out: Warden posted/updated a message; in: a user clicked one of its buttons */
  direction: 'out' | 'in';
  channel: string | null;
  user: string | null;
  text: string;
  /** for clicks: the button and whether Warden accepted it */
  button?: string;
  accepted?: boolean;
  ts?: string;
}

/** a rules version published (or the kill switch moved) mid-scenario through the signed local store */
export interface PolicyLine {
  type: 'policy';
  t: string;
  action: 'publish' | 'killswitch';
  by: string;
  /** the version in force before and after, per the engine's source (unchanged when nobody switched) */
  from: string;
  to: string;
  /** the version written to the store (publish only), accepted or not */
  published?: string;
  /** the pointer's sequence after the publish (publish only) */
  sequence?: number;
  killSwitch: boolean;
  /** who switched: every function's agent and "engine" */
  switched: string[];
  /** who refused the change and kept its version, with the reason (bad-signature, …) */
  kept: { who: string; reason: string; version: string | null }[];
}

export interface NoteLine {
  type: 'note';
  t: string;
  /** step: a scenario step; info: the simulator explaining; problem: something went wrong */
  level: 'step' | 'info' | 'problem';
  text: string;
}

export interface SummaryLine {
  type: 'summary';
  t: string;
  scenario: string;
  simulated: true;
  account: string;
  accesses: number;
  blocked: number;
  decisions: { total: number; allow: number; deny: number; unlisted: number; byRule: Record<string, number> };
  workflows: { workflow: WorkflowName; executionId: string; function: string | null; status: WorkflowStatus; outcome: string | null }[];
  actions: number;
  /** simulated AWS calls by service:action */
  actionsByType: Record<string, number>;
  slackMessages: number;
  /** the audit trail as stored in the audit table (dynalite): entries by type */
  audit: { table: string; total: number; byType: Record<string, number> } | null;
  /** events the agents emitted minus events decided or dead-lettered: 0 means nothing was lost */
  emitted: number;
  decided: number;
  deadLettered: number;
  unaccounted: number;
  /** true when every restored role equals its snapshot (vacuously true when nothing was restored) */
  restoredExactly: boolean;
  restored: number;
  quarantinedRoles: RoleDiff[];
  problems: string[];
  ok: boolean;
  simulatedDuration: string;
  wallMs: number;
  /** real time spent synthesizing (within set-up), setting up and running the timeline */
  timings: { synthMs: number; setupMs: number; runMs: number };
}

/** before/after of one quarantined role, for the report */
export interface RoleDiff {
  function: string;
  role: string;
  before: RoleState;
  quarantined: RoleState | null;
  after: RoleState;
  restoredExactly: boolean | null;
}

export interface RoleState {
  inlinePolicies: string[];
  managedPolicies: string[];
  concurrency: number | null;
}

export type TimelineLine = AccessLine | DecisionLine | WorkflowStartLine | WorkflowStateLine | WorkflowEndLine | ActionLine | SlackLine | PolicyLine | NoteLine | SummaryLine;

/** The `type`s that appear in `--json` output. */
export const JSON_TYPES = ['access', 'decision', 'workflow.start', 'workflow.state', 'workflow.end', 'action', 'slack.message', 'policy', 'summary'] as const;
