import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { WardenSlackError } from './errors';

/** Paging through SNS (email, SMS, PagerDuty/Opsgenie subscriptions): a port, recorded locally. */
export interface SnsPort {
  publish(topicArn: string, subject: string, message: string): Promise<{ messageId: string }>;
}

export class SdkSnsPort implements SnsPort {
  constructor(private readonly client: Pick<SNSClient, 'send'>) {}
  async publish(topicArn: string, subject: string, message: string): Promise<{ messageId: string }> {
    try {
      // SNS subjects: ASCII, no line breaks, at most 100 characters
      const safeSubject = subject.replace(/[^\x20-\x7e]/g, '?').slice(0, 100);
      const out = await this.client.send(new PublishCommand({ TopicArn: topicArn, Subject: safeSubject, Message: message }));
      return { messageId: out.MessageId ?? '' };
    } catch (err) {
      throw new WardenSlackError(`SNS Publish to ${topicArn} failed: ${(err as Error).name}: ${(err as Error).message}`, { cause: err });
    }
  }
}

export class RecordingSnsPort implements SnsPort {
  readonly published: { topicArn: string; subject: string; message: string }[] = [];
  async publish(topicArn: string, subject: string, message: string): Promise<{ messageId: string }> {
    this.published.push({ topicArn, subject, message });
    return { messageId: `simulated-${this.published.length}` };
  }
}
