import { z } from 'zod';
import type { Clock } from '../common/clock';
import type { ExceptionRecord } from '../../engine/handler/exceptions';
import { publishExceptions, type PublishExceptionsResult } from '../../engine/distribution/exceptions';
import type { PolicyStore } from '../../engine/distribution/store';
import type { Signer } from '../../engine/distribution/signing';
import { parseTaskInput } from '../slack/decision-input';

/**
 * The approval workflow's last step: after an approval stored its exception, the function's
 * active exceptions are read from the table and published as one signed document to the policy
 * store, where that function's agents pick them up on their next refresh (so block mode stops
 * blocking the approved access). Runs in a Lambda of its own, which can sign only with the
 * exceptions key and write only under `exceptions/`.
 *
 * The same task re-publishes on demand (`{"task":"publish","functionName":"…"}`): after an
 * exception was deleted from the table (revocation), or to drop expired ones early.
 */
export const PUBLISH_EXCEPTIONS_TASK = 'approval.publish-exceptions';

export const PublishExceptionsInputSchema = z.object({
  task: z.literal('publish'),
  functionName: z.string().min(1).max(256),
});

export interface PublishExceptionsDeps {
  /** the function's exception records (the exceptions table); malformed items are left out (fail closed). */
  readExceptions(functionName: string): Promise<ExceptionRecord[]>;
  store: PolicyStore;
  /** the exceptions signing key (KMS on AWS, a local key in simulations) */
  signer: Signer;
  /** public key(s) the agents trust for exceptions documents (default: the signer's) */
  trustedPublicKeys?: string;
  clock: Clock;
  /** who publishes, in the signed document */
  publishedBy?: string;
}

export async function runPublishExceptions(input: unknown, deps: PublishExceptionsDeps): Promise<PublishExceptionsResult> {
  const i = parseTaskInput(PublishExceptionsInputSchema, input, 'approval.publish');
  return publishExceptions({
    store: deps.store,
    signer: deps.signer,
    clock: { now: () => deps.clock.nowMs() },
    functionName: i.functionName,
    readExceptions: () => deps.readExceptions(i.functionName),
    publishedBy: deps.publishedBy ?? 'warden approval workflow',
    ...(deps.trustedPublicKeys ? { trustedPublicKeys: deps.trustedPublicKeys } : {}),
  });
}
