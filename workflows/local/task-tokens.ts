import { randomUUID } from 'node:crypto';
import type { SimClock, SimTimer } from './sim-clock';

/**
 * The callback-task lifecycle Step Functions provides and aws-local-stepfunctions lacks: a task
 * registers its token and waits; SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat settle or
 * extend it; `TimeoutSeconds` and `HeartbeatSeconds` run on the simulated clock and fail the task
 * with `States.Timeout` / `States.HeartbeatTimeout`, which a Catch can handle.
 *
 * The send methods take the same shapes as `@aws-sdk/client-sfn` commands (output is a JSON
 * string) and throw errors named like the SFN API's (`InvalidToken`, `TaskDoesNotExist`,
 * `TaskTimedOut`, `InvalidOutput`), so a local port and the SDK port behave alike.
 */
export class TaskTokenError extends Error {
  constructor(name: 'InvalidToken' | 'TaskDoesNotExist' | 'TaskTimedOut' | 'InvalidOutput', message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = name;
  }
}

/** What a waiting task fails with; `name` is the ASL error name a Catch matches. */
export class TaskFailedError extends Error {
  constructor(error: string, cause: string) {
    super(cause);
    this.name = error;
  }
}

export interface TaskWait {
  stateName: string;
  executionArn: string;
  timeoutSeconds?: number;
  heartbeatSeconds?: number;
  /** the payload the task sent out (what a listener, e.g. a simulated Slack click, reads) */
  payload?: unknown;
}

export interface PendingTask extends TaskWait {
  token: string;
  registeredAt: string;
}

export type TaskOutcome =
  | { status: 'succeeded'; output: unknown }
  | { status: 'failed'; error: string; cause: string }
  | { status: 'timed-out'; error: 'States.Timeout' | 'States.HeartbeatTimeout' };

interface Entry extends PendingTask {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timeout?: SimTimer;
  heartbeat?: SimTimer;
}

export type TokenListener = (task: PendingTask) => void | Promise<unknown>;

export class TaskTokenRegistry {
  private readonly issued = new Set<string>();
  private readonly pendingTasks = new Map<string, Entry>();
  private readonly closed = new Map<string, TaskOutcome>();
  private readonly listeners: TokenListener[] = [];

  constructor(private readonly clock: SimClock, private readonly newToken: () => string = () => `sim-token-${randomUUID()}`) {}

  /** A fresh token, as `$$.Task.Token` yields it. It becomes waitable once `register`ed. */
  issue(): string {
    const token = this.newToken();
    this.issued.add(token);
    return token;
  }

  /** Tokens issued but not registered yet (the runner looks for them in a task's payload). */
  isUnclaimed(token: string): boolean { return this.issued.has(token) && !this.pendingTasks.has(token) && !this.closed.has(token); }

  /** Called when a task starts waiting; listeners may act on it (e.g. click a simulated button). */
  onRegistered(listener: TokenListener): () => void {
    this.listeners.push(listener);
    return () => { const i = this.listeners.indexOf(listener); if (i >= 0) this.listeners.splice(i, 1); };
  }

  /**
   * Starts the wait for `token`; the promise settles on success, failure or timeout. Returns the
   * promises the listeners returned too, so the runner can count them as work in flight.
   */
  register(token: string, wait: TaskWait): { outcome: Promise<unknown>; listenerWork: Promise<unknown>[] } {
    if (!this.issued.has(token)) throw new TaskTokenError('InvalidToken', `token ${token} was never issued by this registry`);
    if (this.pendingTasks.has(token) || this.closed.has(token)) throw new TaskTokenError('InvalidToken', `token ${token} is already registered; every waiting task needs its own $$.Task.Token`);
    let resolve!: (v: unknown) => void;
    let reject!: (e: Error) => void;
    const outcome = new Promise<unknown>((res, rej) => { resolve = res; reject = rej; });
    const entry: Entry = { ...wait, token, registeredAt: new Date(this.clock.nowMs()).toISOString(), resolve, reject };
    if (wait.timeoutSeconds !== undefined) {
      entry.timeout = this.clock.setTimer(wait.timeoutSeconds * 1000, () => this.expire(token, 'States.Timeout'), `${wait.stateName} TimeoutSeconds`);
    }
    this.armHeartbeat(entry);
    this.pendingTasks.set(token, entry);
    const view = this.view(entry);
    const listenerWork: Promise<unknown>[] = [];
    for (const l of [...this.listeners]) {
      const r = l(view);
      if (r && typeof (r as Promise<unknown>).then === 'function') listenerWork.push(Promise.resolve(r).catch(() => undefined));
    }
    return { outcome, listenerWork };
  }

  pending(): PendingTask[] { return [...this.pendingTasks.values()].map((e) => this.view(e)); }
  outcome(token: string): TaskOutcome | undefined { return this.closed.get(token); }

  sendTaskSuccess(input: { taskToken: string; output: string }): void {
    const entry = this.open(input.taskToken);
    let output: unknown;
    try { output = JSON.parse(input.output); } catch (err) {
      throw new TaskTokenError('InvalidOutput', `output must be a JSON string; got ${JSON.stringify(input.output).slice(0, 80)}`, { cause: err });
    }
    this.close(entry, { status: 'succeeded', output });
    entry.resolve(output);
  }

  sendTaskFailure(input: { taskToken: string; error?: string; cause?: string }): void {
    const entry = this.open(input.taskToken);
    const error = input.error ?? 'States.TaskFailed';
    const cause = input.cause ?? '';
    this.close(entry, { status: 'failed', error, cause });
    entry.reject(new TaskFailedError(error, cause));
  }

  sendTaskHeartbeat(input: { taskToken: string }): void {
    const entry = this.open(input.taskToken);
    entry.heartbeat?.cancel();
    this.armHeartbeat(entry);
  }

  private armHeartbeat(entry: Entry): void {
    if (entry.heartbeatSeconds === undefined) return;
    entry.heartbeat = this.clock.setTimer(entry.heartbeatSeconds * 1000, () => this.expire(entry.token, 'States.HeartbeatTimeout'), `${entry.stateName} HeartbeatSeconds`);
  }

  private expire(token: string, error: 'States.Timeout' | 'States.HeartbeatTimeout'): void {
    const entry = this.pendingTasks.get(token);
    if (!entry) return;
    this.close(entry, { status: 'timed-out', error });
    const secs = error === 'States.Timeout' ? entry.timeoutSeconds : entry.heartbeatSeconds;
    entry.reject(new TaskFailedError(error, `${entry.stateName}: no callback within ${secs} s (simulated clock)`));
  }

  private open(token: string): Entry {
    const entry = this.pendingTasks.get(token);
    if (entry) return entry;
    const done = this.closed.get(token);
    if (done) throw new TaskTokenError('TaskTimedOut', `task already closed (${done.status}); a token can be answered once and only before its timeout`);
    if (this.issued.has(token)) throw new TaskTokenError('TaskDoesNotExist', 'task token was issued but its task has not started waiting');
    throw new TaskTokenError('InvalidToken', 'unknown task token');
  }

  private close(entry: Entry, outcome: TaskOutcome): void {
    entry.timeout?.cancel();
    entry.heartbeat?.cancel();
    this.pendingTasks.delete(entry.token);
    this.closed.set(entry.token, outcome);
  }

  private view(e: Entry): PendingTask {
    const { token, stateName, executionArn, timeoutSeconds, heartbeatSeconds, payload, registeredAt } = e;
    return { token, stateName, executionArn, timeoutSeconds, heartbeatSeconds, payload, registeredAt };
  }
}
