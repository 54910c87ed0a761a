import { createHmac, timingSafeEqual } from 'node:crypto';
import { SignatureError } from './errors';

/** Replay window: a request whose timestamp is further than this from now, either way, is refused. */
export const MAX_SIGNATURE_SKEW_SECONDS = 300;

const TIMESTAMP_RE = /^\d{1,12}$/;
const SIGNATURE_RE = /^v0=[0-9a-f]{64}$/;

export interface SignedRequest {
  /** the raw body bytes exactly as Slack sent them (decode base64 bodies first). */
  rawBody: Buffer;
  /** `X-Slack-Request-Timestamp` */
  timestamp: string | undefined;
  /** `X-Slack-Signature` */
  signature: string | undefined;
}

/** `v0=` + hex HMAC-SHA256 of `v0:<timestamp>:<raw body>`: what Slack sends (exported for tests and tools). */
export function computeSlackSignature(signingSecret: string, timestamp: string, rawBody: Buffer): string {
  const hmac = createHmac('sha256', signingSecret);
  hmac.update(`v0:${timestamp}:`, 'utf8');
  hmac.update(rawBody);
  return `v0=${hmac.digest('hex')}`;
}

/**
 * Verify Slack's v0 request signature (https://api.slack.com/authentication/verifying-requests-from-slack).
 * Throws SignatureError with the reason; returns normally only for a genuine, fresh request.
 * `nowMs` is injected: no clock inside.
 */
export function verifySlackSignature(req: SignedRequest, signingSecrets: readonly string[], nowMs: number): void {
  if (req.timestamp === undefined || req.timestamp === '') throw new SignatureError('missing-header', 'missing X-Slack-Request-Timestamp header');
  if (req.signature === undefined || req.signature === '') throw new SignatureError('missing-header', 'missing X-Slack-Signature header');
  if (!TIMESTAMP_RE.test(req.timestamp)) throw new SignatureError('malformed-header', 'X-Slack-Request-Timestamp is not a Unix time in seconds');
  if (!SIGNATURE_RE.test(req.signature)) throw new SignatureError('malformed-header', 'X-Slack-Signature is not "v0=" followed by 64 hex digits');
  const skew = Number(req.timestamp) - Math.floor(nowMs / 1000);
  if (skew < -MAX_SIGNATURE_SKEW_SECONDS) throw new SignatureError('stale-timestamp', `request timestamp is ${-skew}s old (limit ${MAX_SIGNATURE_SKEW_SECONDS}s): a replay, or a clock out of sync`);
  if (skew > MAX_SIGNATURE_SKEW_SECONDS) throw new SignatureError('future-timestamp', `request timestamp is ${skew}s in the future (limit ${MAX_SIGNATURE_SKEW_SECONDS}s)`);
  if (signingSecrets.length === 0) throw new SignatureError('mismatch', 'no signing secret configured');
  const given = Buffer.from(req.signature, 'utf8');
  let ok = false;
  // every secret is compared (rotation keeps the previous one for a while); no early exit on a match
  for (const secret of signingSecrets) {
    if (!secret) continue;
    const expected = Buffer.from(computeSlackSignature(secret, req.timestamp, req.rawBody), 'utf8');
    if (expected.length === given.length && timingSafeEqual(expected, given)) ok = true;
  }
  if (!ok) throw new SignatureError('mismatch', 'signature does not match the body: wrong signing secret, or the body was altered');
}

/** The raw body bytes of an API Gateway (HTTP API, payload v2) event. */
export function rawBodyOf(event: { body?: string | null; isBase64Encoded?: boolean }): Buffer {
  if (event.body === undefined || event.body === null) return Buffer.alloc(0);
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
}
