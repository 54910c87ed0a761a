import { runSimulation } from '../../engine/local/simulate/simulate';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/**
 * --interactive, in-process: the approval request is put to `ask`, whose answers click the button.
 * (HTTP capture works inside jest; the agent's SDK capture needs a plain Node process, so the
 * access here is an HTTP call.)
 */
const scenario = `
name: interactive approval (test)
hosts: { api.new-partner.io: {} }
functions:
  payments-worker:
    tags: { "warden:protected": "true" }
    role: { tags: { "warden:protected": "true" } }
timeline:
  - at: 0s
    invoke: payments-worker
    calls:
      - http: POST https://api.new-partner.io/v1/settle
        expect: blocked
  - at: 5m
    click: { user: U0INTRUDER1, function: payments-worker, button: approve }
expect:
  workflows:
    - { workflow: approval, function: payments-worker, outcome: Approved }
`;

function sink() {
  const chunks: string[] = [];
  return { chunks, stream: { write: (c: string) => chunks.push(c), isTTY: false }, text: () => chunks.join('') };
}

describe('warden simulate --interactive', () => {
  it('asks for each approval request and clicks as the person answers; the scenario click is left out', async () => {
    const questions: string[] = [];
    const answers = ['a', 'U0APPROVER2'];
    const out = sink();
    const summary = await runSimulation({
      scenarioText: scenario,
      json: true,
      interactive: true,
      ask: async (q) => { questions.push(q); return answers.shift() ?? ''; },
      out: out.stream,
      err: sink().stream,
    });
    const lines = out.text().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(questions).toHaveLength(2);
    expect(questions[0]).toContain('Approval needed: payments-worker');
    expect(questions[1]).toContain('as which Slack user?');
    expect(lines.filter((l) => l.type === 'slack.message' && l.direction === 'in')).toEqual([
      expect.objectContaining({ user: 'U0APPROVER2', button: 'approve', accepted: true }),
    ]);
    expect(summary).toMatchObject({ ok: true, unaccounted: 0 });
  }, 120_000);
});
