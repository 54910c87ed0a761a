import { SimulatedSlack } from '../../engine/local/simulate/slack-recorder';
import type { SlackLine } from '../../engine/local/simulate/timeline';

const actions = (id: string, value: string) => ({ type: 'actions', elements: [{ type: 'button', action_id: id, value, text: { type: 'plain_text', text: 'x' } }] });

describe('SimulatedSlack', () => {
  it('reports posts and updates as slack.message lines and finds the newest button about a function', async () => {
    const lines: SlackLine[] = [];
    let now = Date.parse('2026-11-23T09:03:00Z');
    const slack = new SimulatedSlack((l) => lines.push(l), () => now);
    await slack.postMessage('C1', { text: 'Approval needed: payments-worker-eu → s3', blocks: [actions('warden_approve', 'apr_old')] as never });
    const ref = await slack.postMessage('C1', { text: 'Approval needed: `payments-worker` → dynamodb:Scan', blocks: [actions('warden_approve', 'apr_new')] as never });
    now += 60_000;
    await slack.updateMessage(ref, { text: 'Approved: payments-worker', blocks: [] });
    expect(lines.map((l) => [l.direction, l.channel, l.text])).toEqual([
      ['out', 'C1', 'Approval needed: payments-worker-eu → s3'],
      ['out', 'C1', 'Approval needed: `payments-worker` → dynamodb:Scan'],
      ['out', 'C1', '(updated) Approved: payments-worker'],
    ]);
    // the updated message no longer offers the button; a longer name is a different function
    expect(slack.findButton('payments-worker', 'warden_approve')).toBeNull();
    expect(slack.findButton('payments-worker-eu', 'warden_approve')?.value).toBe('apr_old');
  });

  it('rejects updates of unknown messages and keeps ephemeral replies', async () => {
    const slack = new SimulatedSlack(() => undefined, () => 0);
    await expect(slack.updateMessage({ channel: 'C1', ts: '1.000001' }, { text: 'x', blocks: [] })).rejects.toThrow('message_not_found');
    await slack.respond('https://hooks.slack.com/x', { text: 'not an approver', response_type: 'ephemeral', replace_original: false });
    expect(slack.replies.get('https://hooks.slack.com/x')).toEqual(['not an approver']);
  });
});
