import { WebClient, retryPolicies, type KnownBlock } from '@slack/web-api';
import { SlackApiError } from './errors';

/** A message as Warden sends it: fallback text (notifications, screen readers) plus Block Kit blocks. */
export interface SlackMessage {
  text: string;
  blocks: KnownBlock[];
}
export interface MessageRef {
  channel: string;
  ts: string;
}
/** What goes back to the clicking user through the interaction's response_url. */
export interface EphemeralReply {
  text: string;
  response_type: 'ephemeral';
  replace_original: false;
}

/** The Slack side effects Warden needs: a port so tests and the local run never reach slack.com. */
export interface SlackPort {
  postMessage(channel: string, message: SlackMessage): Promise<MessageRef>;
  updateMessage(ref: MessageRef, message: SlackMessage): Promise<void>;
  /** reply to one interaction (ephemeral: only the clicking user sees it). */
  respond(responseUrl: string, reply: EphemeralReply): Promise<void>;
}

export function ephemeral(text: string): EphemeralReply {
  return { text, response_type: 'ephemeral', replace_original: false };
}

export interface WebApiSlackPortOptions {
  /** the bot token (xoxb-…), fetched lazily (Secrets Manager); never from an env value. */
  botToken: () => Promise<string>;
  /** default https://slack.com/api/ ; tests point this at a local HTTP server. */
  slackApiUrl?: string;
  /** response_url must start with this (default https://hooks.slack.com/): the URL comes from a request, so pin it. */
  responseUrlPrefix?: string;
  fetch?: typeof fetch;
  /** per-call timeout in ms (default 5000). */
  timeoutMs?: number;
  /** response_url timeout in ms (default 1500): the endpoint must answer Slack within 3 s */
  respondTimeoutMs?: number;
}

/** SlackPort over @slack/web-api (chat.postMessage, chat.update) and a POST to response_url. */
export class WebApiSlackPort implements SlackPort {
  private client: WebClient | undefined;
  private clientToken: string | undefined;
  private readonly responseUrlPrefix: string;
  private readonly fetchFn: typeof fetch;

  constructor(private readonly opts: WebApiSlackPortOptions) {
    this.responseUrlPrefix = opts.responseUrlPrefix ?? 'https://hooks.slack.com/';
    this.fetchFn = opts.fetch ?? fetch;
  }

  private async web(): Promise<WebClient> {
    const token = await this.opts.botToken();
    if (!token) throw new SlackApiError('no Slack bot token: put the xoxb- token into the bot-token secret (Secrets Manager)');
    if (!this.client || this.clientToken !== token) {
      this.client = new WebClient(token, {
        ...(this.opts.slackApiUrl ? { slackApiUrl: this.opts.slackApiUrl } : {}),
        retryConfig: retryPolicies.fiveRetriesInFiveMinutes,
        timeout: this.opts.timeoutMs ?? 5000,
      });
      this.clientToken = token;
    }
    return this.client;
  }

  async postMessage(channel: string, message: SlackMessage): Promise<MessageRef> {
    try {
      const res = await (await this.web()).chat.postMessage({ channel, text: message.text, blocks: message.blocks, unfurl_links: false, unfurl_media: false });
      if (!res.ok || !res.ts || !res.channel) throw new SlackApiError(`chat.postMessage to ${channel} returned no message (${res.error ?? 'no ts'})`);
      return { channel: res.channel, ts: res.ts };
    } catch (err) {
      if (err instanceof SlackApiError) throw err;
      throw new SlackApiError(`chat.postMessage to ${channel} failed: ${(err as Error).message}. Check the bot token, that the app is in the channel, and the chat:write scope`, { cause: err });
    }
  }

  async updateMessage(ref: MessageRef, message: SlackMessage): Promise<void> {
    try {
      await (await this.web()).chat.update({ channel: ref.channel, ts: ref.ts, text: message.text, blocks: message.blocks });
    } catch (err) {
      throw new SlackApiError(`chat.update of ${ref.channel}/${ref.ts} failed: ${(err as Error).message}`, { cause: err });
    }
  }

  async respond(responseUrl: string, reply: EphemeralReply): Promise<void> {
    if (!responseUrl.startsWith(this.responseUrlPrefix)) {
      throw new SlackApiError(`refusing to POST to response_url ${JSON.stringify(responseUrl.slice(0, 80))}: it does not start with ${this.responseUrlPrefix}`);
    }
    let res: Response;
    try {
      res = await this.fetchFn(responseUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body: JSON.stringify(reply),
        signal: AbortSignal.timeout(this.opts.respondTimeoutMs ?? 1500),
      });
    } catch (err) {
      throw new SlackApiError(`POST to response_url failed: ${(err as Error).message}`, { cause: err });
    }
    if (!res.ok) throw new SlackApiError(`POST to response_url answered HTTP ${res.status}`);
  }
}

export interface RecordedSlackCall {
  kind: 'post' | 'update' | 'respond';
  channel?: string;
  ts?: string;
  responseUrl?: string;
  text: string;
  blocks?: KnownBlock[];
}

/** In-memory Slack for the local run and tests: keeps every message and its latest version. */
export class RecordingSlackPort implements SlackPort {
  readonly calls: RecordedSlackCall[] = [];
  readonly messages = new Map<string, SlackMessage & MessageRef>();
  private seq = 0;

  async postMessage(channel: string, message: SlackMessage): Promise<MessageRef> {
    this.seq += 1;
    const ts = `1700000000.${String(this.seq).padStart(6, '0')}`;
    this.calls.push({ kind: 'post', channel, ts, text: message.text, blocks: message.blocks });
    this.messages.set(`${channel}/${ts}`, { channel, ts, ...message });
    return { channel, ts };
  }

  async updateMessage(ref: MessageRef, message: SlackMessage): Promise<void> {
    const key = `${ref.channel}/${ref.ts}`;
    if (!this.messages.has(key)) throw new SlackApiError(`chat.update: message_not_found (${key})`);
    this.calls.push({ kind: 'update', channel: ref.channel, ts: ref.ts, text: message.text, blocks: message.blocks });
    this.messages.set(key, { ...ref, ...message });
  }

  async respond(responseUrl: string, reply: EphemeralReply): Promise<void> {
    this.calls.push({ kind: 'respond', responseUrl, text: reply.text });
  }

  /** the latest version of a message */
  message(ref: MessageRef): (SlackMessage & MessageRef) | undefined {
    return this.messages.get(`${ref.channel}/${ref.ts}`);
  }
}
