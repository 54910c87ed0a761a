import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { mapAwsError } from './errors';

/** Where workflows say what they did: SNS on AWS, memory locally (the escalation side may add Slack). */
export interface Notification {
  subject: string;
  /** plain text for people on call */
  text: string;
  /** the same content as data, for subscribers that parse it */
  detail: Record<string, unknown>;
  severity: 'info' | 'warning' | 'critical';
}

export interface NotifierPort {
  notify(n: Notification): Promise<void>;
}

export class SnsNotifier implements NotifierPort {
  constructor(private readonly client: Pick<SNSClient, 'send'>, private readonly topicArn: string) {}

  async notify(n: Notification): Promise<void> {
    try {
      await this.client.send(new PublishCommand({
        TopicArn: this.topicArn,
        Subject: n.subject.slice(0, 100),
        Message: JSON.stringify({ default: n.text, email: n.text, lambda: JSON.stringify(n.detail), sqs: JSON.stringify(n.detail), https: JSON.stringify(n.detail) }),
        MessageStructure: 'json',
        MessageAttributes: { severity: { DataType: 'String', StringValue: n.severity } },
      }));
    } catch (err) {
      throw mapAwsError(err, `SNS publish to ${this.topicArn}`);
    }
  }
}

/** Keeps notifications in memory (local runs and tests); every one is marked SIMULATED. */
export class MemoryNotifier implements NotifierPort {
  readonly sent: (Notification & { simulated: true })[] = [];
  async notify(n: Notification): Promise<void> {
    this.sent.push({ ...structuredClone(n), simulated: true });
  }
}
