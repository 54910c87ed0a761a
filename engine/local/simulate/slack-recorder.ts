import type { KnownBlock } from '@slack/web-api';
import type { EphemeralReply, MessageRef, SlackMessage, SlackPort } from '../../../workflows/slack/slack-port';
import type { SlackLine } from './timeline';

/**
 * The simulation's Slack: a SlackPort that keeps every message Warden posts (and its updates),
 * reports each as a `slack.message` line, and finds the button a scenario click presses.
 * Nothing reaches slack.com.
 */
export interface RecordedMessage extends MessageRef {
  text: string;
  blocks: KnownBlock[];
  postedAtMs: number;
}

export interface FoundButton {
  message: RecordedMessage;
  actionId: string;
  value: string;
}

export class SimulatedSlack implements SlackPort {
  private readonly messages: RecordedMessage[] = [];
  /** ephemeral replies to clicks, by response_url */
  readonly replies = new Map<string, string[]>();
  private seq = 0;

  constructor(
    private readonly emit: (line: SlackLine) => void,
    private readonly nowMs: () => number,
  ) {}

  async postMessage(channel: string, message: SlackMessage): Promise<MessageRef> {
    this.seq += 1;
    const ts = `${Math.floor(this.nowMs() / 1000)}.${String(this.seq).padStart(6, '0')}`;
    this.messages.push({ channel, ts, text: message.text, blocks: message.blocks, postedAtMs: this.nowMs() });
    this.emit({ type: 'slack.message', t: new Date(this.nowMs()).toISOString(), direction: 'out', channel, user: null, text: message.text, ts });
    return { channel, ts };
  }

  async updateMessage(ref: MessageRef, message: SlackMessage): Promise<void> {
    const m = this.messages.find((x) => x.channel === ref.channel && x.ts === ref.ts);
    if (!m) throw new Error(`chat.update: message_not_found (${ref.channel}/${ref.ts}) in the simulated Slack`);
    m.text = message.text;
    m.blocks = message.blocks;
    this.emit({ type: 'slack.message', t: new Date(this.nowMs()).toISOString(), direction: 'out', channel: ref.channel, user: null, text: `(updated) ${message.text}`, ts: ref.ts });
  }

  async respond(responseUrl: string, reply: EphemeralReply): Promise<void> {
    const list = this.replies.get(responseUrl) ?? [];
    list.push(reply.text);
    this.replies.set(responseUrl, list);
  }

  all(): readonly RecordedMessage[] {
    return this.messages;
  }

  /** The newest message about `functionName` that still offers a button with `actionId`. */
  findButton(functionName: string, actionId: string): FoundButton | null {
    const mention = new RegExp(`(^|[^A-Za-z0-9_.-])${functionName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}([^A-Za-z0-9_.-]|$)`);
    for (let i = this.messages.length - 1; i >= 0; i--) {
      const m = this.messages[i]!;
      if (!mention.test(m.text) && !mention.test(JSON.stringify(m.blocks))) continue;
      for (const b of m.blocks) {
        if (b.type !== 'actions') continue;
        for (const el of (b as { elements?: { type?: string; action_id?: string; value?: string }[] }).elements ?? []) {
          if (el.type === 'button' && el.action_id === actionId && el.value) return { message: m, actionId, value: el.value };
        }
      }
    }
    return null;
  }
}
