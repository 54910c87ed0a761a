import { z } from 'zod';
import { TaskInputError, WorkflowError } from './errors';

/** A task handler: pure-ish `(input, deps) => output`; the Lambda entry and the local runner supply deps. */
export type TaskHandler<D> = (input: unknown, deps: D) => Promise<unknown>;

/** Parses a task input with its schema; a mismatch is a wiring bug reported as `Warden.InvalidInput`. */
export function parseTaskInput<S extends z.ZodType>(task: string, schema: S, input: unknown): z.infer<S> {
  const r = schema.safeParse(input);
  if (!r.success) throw new TaskInputError(`${task}: the state machine passed an input this task does not accept:\n${z.prettifyError(r.error)}`);
  return r.data;
}

/** Dispatches on WARDEN_TASK (Lambda entries). */
export async function dispatchTask<D>(tasks: Record<string, TaskHandler<D>>, wardenTask: string | undefined, input: unknown, deps: D): Promise<unknown> {
  const handler = wardenTask ? tasks[wardenTask] : undefined;
  if (!handler) throw new WorkflowError(`WARDEN_TASK=${wardenTask ?? '(unset)'} is not a task of this entry; known: ${Object.keys(tasks).join(', ')}`);
  return handler(input, deps);
}

/** Binds deps, giving the local runner its `lambdaHandlers` map (WARDEN_TASK → payload handler). */
export function bindTasks<D>(tasks: Record<string, TaskHandler<D>>, deps: D): Record<string, (payload: unknown) => Promise<unknown>> {
  return Object.fromEntries(Object.entries(tasks).map(([k, h]) => [k, (payload: unknown) => h(payload, deps)]));
}
