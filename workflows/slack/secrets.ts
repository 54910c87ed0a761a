import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { z } from 'zod';
import { WardenSlackError } from './errors';

/**
 * The Slack credentials: the signing secret (verifies requests from Slack) and the bot token
 * (posts messages). They live in Secrets Manager; an env var holds at most a secret's ARN.
 */
export interface SlackSecrets {
  /** current first; during rotation the previous one too */
  signingSecrets: string[];
  botToken: string;
}

export interface SlackSecretsPort {
  /** cached; `forceRefresh` re-reads (after a signature mismatch, once the cache is a minute old: rotation). */
  get(opts?: { forceRefresh?: boolean }): Promise<SlackSecrets>;
}

export class SlackSecretsError extends WardenSlackError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SlackSecretsError';
  }
}

/** env names that carry the secret ARNs (never the values). */
export const SLACK_SECRET_ENV = {
  /** one JSON secret `{ "signingSecret": "…", "botToken": "xoxb-…", "previousSigningSecret"?: "…" }` */
  combined: 'WARDEN_SLACK_SECRET_ARN',
  /** or two secrets: the signing secret (plain text or JSON with `signingSecret`) … */
  signingSecret: 'WARDEN_SLACK_SIGNING_SECRET_ARN',
  /** … and the bot token (plain text or JSON with `botToken`) */
  botToken: 'WARDEN_SLACK_BOT_TOKEN_ARN',
} as const;

const SecretJsonSchema = z.object({
  signingSecret: z.string().min(1).optional(),
  previousSigningSecret: z.string().min(1).optional(),
  botToken: z.string().min(1).optional(),
});

export interface SecretsManagerSlackSecretsOptions {
  client: Pick<SecretsManagerClient, 'send'>;
  /** ARN of a combined JSON secret, or of each part */
  secretArn?: string;
  signingSecretArn?: string;
  botTokenArn?: string;
  clock: () => number;
  /** cache lifetime (default 5 min) */
  ttlMs?: number;
  /** minimum age before a forced refresh is honoured (default 60 s): a flood of bad signatures must not hammer Secrets Manager */
  minRefreshMs?: number;
}

function parseSecret(text: string, arn: string): z.infer<typeof SecretJsonSchema> | string {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{')) return trimmed;
  let json: unknown;
  try {
    json = JSON.parse(trimmed);
  } catch (err) {
    throw new SlackSecretsError(`secret ${arn} looks like JSON but does not parse`, { cause: err });
  }
  const parsed = SecretJsonSchema.safeParse(json);
  if (!parsed.success) throw new SlackSecretsError(`secret ${arn}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/** SlackSecretsPort over Secrets Manager, cached for `ttlMs`. */
export class SecretsManagerSlackSecrets implements SlackSecretsPort {
  private cached: { value: SlackSecrets; at: number } | undefined;
  private inflight: Promise<SlackSecrets> | undefined;

  constructor(private readonly opts: SecretsManagerSlackSecretsOptions) {
    if (!opts.secretArn && !opts.signingSecretArn && !opts.botTokenArn) {
      throw new SlackSecretsError(`no Slack secret configured: set ${SLACK_SECRET_ENV.combined}, or ${SLACK_SECRET_ENV.signingSecret} and/or ${SLACK_SECRET_ENV.botToken}, to Secrets Manager ARNs`);
    }
  }

  static fromEnv(env: NodeJS.ProcessEnv, client: Pick<SecretsManagerClient, 'send'>, clock: () => number): SecretsManagerSlackSecrets {
    return new SecretsManagerSlackSecrets({
      client,
      clock,
      secretArn: env[SLACK_SECRET_ENV.combined] || undefined,
      signingSecretArn: env[SLACK_SECRET_ENV.signingSecret] || undefined,
      botTokenArn: env[SLACK_SECRET_ENV.botToken] || undefined,
    });
  }

  async get(opts?: { forceRefresh?: boolean }): Promise<SlackSecrets> {
    const now = this.opts.clock();
    const age = this.cached ? now - this.cached.at : Infinity;
    const fresh = age < (this.opts.ttlMs ?? 300_000) && !(opts?.forceRefresh && age >= (this.opts.minRefreshMs ?? 60_000));
    if (this.cached && fresh) return this.cached.value;
    this.inflight ??= this.load().finally(() => { this.inflight = undefined; });
    const value = await this.inflight;
    this.cached = { value, at: now };
    return value;
  }

  private async read(arn: string): Promise<string> {
    try {
      const out = await this.opts.client.send(new GetSecretValueCommand({ SecretId: arn }));
      if (typeof out.SecretString !== 'string') throw new SlackSecretsError(`secret ${arn} has no SecretString (binary secrets are not supported)`);
      return out.SecretString;
    } catch (err) {
      if (err instanceof SlackSecretsError) throw err;
      throw new SlackSecretsError(`cannot read secret ${arn}: ${(err as Error).name}: ${(err as Error).message}`, { cause: err });
    }
  }

  private async load(): Promise<SlackSecrets> {
    let signing: string | undefined;
    let previous: string | undefined;
    let token: string | undefined;
    if (this.opts.secretArn) {
      const s = parseSecret(await this.read(this.opts.secretArn), this.opts.secretArn);
      if (typeof s === 'string') throw new SlackSecretsError(`secret ${this.opts.secretArn} must be JSON {"signingSecret": "...", "botToken": "xoxb-..."}`);
      ({ signingSecret: signing, previousSigningSecret: previous, botToken: token } = s);
    } else {
      const [a, b] = await Promise.all([
        this.opts.signingSecretArn ? this.read(this.opts.signingSecretArn) : Promise.resolve(undefined),
        this.opts.botTokenArn ? this.read(this.opts.botTokenArn) : Promise.resolve(undefined),
      ]);
      if (a !== undefined) {
        const s = parseSecret(a, this.opts.signingSecretArn as string);
        if (typeof s === 'string') signing = s;
        else ({ signingSecret: signing, previousSigningSecret: previous } = s);
        if (!signing) throw new SlackSecretsError('the Slack signing secret is empty: copy it from the Slack app\'s Basic Information page into the secret');
      }
      if (b !== undefined) {
        const t = parseSecret(b, this.opts.botTokenArn as string);
        token = typeof t === 'string' ? t : t.botToken;
        if (!token) throw new SlackSecretsError('the Slack bot token is empty: copy the xoxb- token from the app\'s OAuth & Permissions page into the secret');
      }
    }
    // a part that is not configured stays empty: verifying with no secret fails closed, posting with no token fails loudly
    return { signingSecrets: [signing, previous].filter((x): x is string => Boolean(x)), botToken: token ?? '' };
  }
}

/** Fixed secrets for the local run and tests. */
export class StaticSlackSecrets implements SlackSecretsPort {
  constructor(private readonly value: SlackSecrets) {}
  async get(): Promise<SlackSecrets> {
    return this.value;
  }
}
