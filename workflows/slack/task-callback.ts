import { SendTaskHeartbeatCommand, SendTaskSuccessCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { WardenSlackError } from './errors';

/**
 * Answers a waiting Step Functions task (SendTaskSuccess / SendTaskHeartbeat). A port: the SFN API
 * on AWS, the local runner's token registry locally (same error names).
 */
export interface TaskCallbackPort {
  sendTaskSuccess(taskToken: string, output: unknown): Promise<void>;
  sendTaskHeartbeat(taskToken: string): Promise<void>;
}

/** The task no longer waits (timed out, already answered, execution stopped): the click came too late. */
export class TaskGoneError extends WardenSlackError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TaskGoneError';
  }
}

/** SFN error names that mean "this token will never be accepted again". */
const GONE = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);

function mapError(err: unknown, what: string): Error {
  const name = (err as { name?: string })?.name ?? '';
  if (GONE.has(name)) return new TaskGoneError(`${what}: the waiting task is gone (${name})`, { cause: err });
  return new WardenSlackError(`${what} failed: ${name || 'Error'}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}

export class SfnTaskCallback implements TaskCallbackPort {
  constructor(private readonly client: Pick<SFNClient, 'send'>) {}

  async sendTaskSuccess(taskToken: string, output: unknown): Promise<void> {
    try {
      await this.client.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) }));
    } catch (err) {
      throw mapError(err, 'SendTaskSuccess');
    }
  }

  async sendTaskHeartbeat(taskToken: string): Promise<void> {
    try {
      await this.client.send(new SendTaskHeartbeatCommand({ taskToken }));
    } catch (err) {
      throw mapError(err, 'SendTaskHeartbeat');
    }
  }
}

/** Anything shaped like the local runner's TaskTokenRegistry (sync methods that throw SFN-named errors). */
export interface TokenRegistryLike {
  sendTaskSuccess(input: { taskToken: string; output: string }): void;
  sendTaskHeartbeat(input: { taskToken: string }): void;
}

export class RegistryTaskCallback implements TaskCallbackPort {
  constructor(private readonly registry: TokenRegistryLike) {}

  async sendTaskSuccess(taskToken: string, output: unknown): Promise<void> {
    try {
      this.registry.sendTaskSuccess({ taskToken, output: JSON.stringify(output) });
    } catch (err) {
      throw mapError(err, 'SendTaskSuccess');
    }
  }

  async sendTaskHeartbeat(taskToken: string): Promise<void> {
    try {
      this.registry.sendTaskHeartbeat({ taskToken });
    } catch (err) {
      throw mapError(err, 'SendTaskHeartbeat');
    }
  }
}
