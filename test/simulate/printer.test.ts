import { TimelinePrinter } from '../../engine/local/simulate/printer';
import { JSON_TYPES, type SummaryLine, type TimelineLine } from '../../engine/local/simulate/timeline';

function sink(isTTY = false) {
  const chunks: string[] = [];
  return { chunks, stream: { write: (c: string) => chunks.push(c), isTTY }, text: () => chunks.join('') };
}
const t = '2026-11-23T09:02:00.000Z';
const lines: TimelineLine[] = [
  { type: 'note', t, level: 'step', text: 'a poisoned update' },
  { type: 'access', t, eventId: 'e', function: 'orders-api', kind: 'http', target: 'pastebin.com:443', mode: 'block', agentVerdict: 'deny', blocked: true, count: 1, access: {} },
  { type: 'decision', t, eventId: 'e', decisionId: 'd', incidentId: 'i', function: 'orders-api', verdict: 'deny', rule: 'paste-pastebin', severity: 'critical', response: 'quarantine', policyVersion: 'v', reason: 'matches deny rule' },
  { type: 'workflow.start', t, workflow: 'quarantine', executionId: 'x', function: 'orders-api', incidentId: 'i', status: 'RUNNING' },
  { type: 'action', t, service: 'iam', action: 'putRolePolicy', params: { RoleName: 'orders-api' }, ok: true, error: null, workflow: 'quarantine', executionId: 'x', simulated: true },
  { type: 'slack.message', t, direction: 'in', channel: 'C1', user: 'U0INTRUDER1', text: 'not an approver', button: 'approve', accepted: false },
];
const summary: SummaryLine = {
  type: 'summary', t, scenario: 's', simulated: true, account: '123456789012', accesses: 1, blocked: 1,
  decisions: { total: 1, allow: 0, deny: 1, unlisted: 0, byRule: { 'paste-pastebin': 1 } }, workflows: [], actions: 1, actionsByType: { 'iam:putRolePolicy': 1 }, slackMessages: 1, audit: { table: 'AuditTable', total: 3, byType: { decision: 2, 'quarantine.action': 1 } },
  emitted: 1, decided: 1, deadLettered: 0, unaccounted: 0, restoredExactly: true, restored: 0,
  quarantinedRoles: [{ function: 'orders-api', role: 'orders-api', before: { inlinePolicies: ['orders-data'], managedPolicies: ['arn:aws:iam::aws:policy/X'], concurrency: 50 }, quarantined: { inlinePolicies: ['warden-quarantine'], managedPolicies: [], concurrency: 0 }, after: { inlinePolicies: ['orders-data'], managedPolicies: ['arn:aws:iam::aws:policy/X'], concurrency: 50 }, restoredExactly: true }],
  problems: [], ok: true, simulatedDuration: '45m', wallMs: 4200, timings: { synthMs: 900, setupMs: 2100, runMs: 2000 },
};

describe('TimelinePrinter', () => {
  it('prints a plain timeline and report when not on a terminal', () => {
    const out = sink();
    const p = new TimelinePrinter({ json: false, out: out.stream, err: sink().stream, startMs: Date.parse(t) });
    p.header({ scenario: 's', account: '123456789012', region: 'us-east-1', rulesDir: 'rules', policyVersion: 'v', functions: ['orders-api'], stateMachines: ['quarantine'] });
    lines.forEach((l) => p.line(l));
    p.report(summary);
    const text = out.text();
    expect(text.includes('\u001b[')).toBe(false);
    expect(text).toContain('SIMULATED account 123456789012');
    expect(text).toContain('09:02:00  access    orders-api  http pastebin.com:443 (block) BLOCKED by the agent');
    expect(text).toContain('DENY (critical, rule paste-pastebin) → quarantine');
    expect(text).toContain('U0INTRUDER1 clicked approve — refused');
    expect(text).toContain('iam:putRolePolicy RoleName=orders-api [simulated]');
    expect(text).toContain('quarantined  inline warden-quarantine · managed — · concurrency 0');
    expect(text).toContain('✓ equals its snapshot');
    expect(text).toContain('OK — simulated 45m in 4.2 s (set-up 2.1 s incl. synth 0.9 s, timeline 2.0 s)');
    expect(text).toContain('  iam:putRolePolicy\n');
    expect(text).toContain('audit trail       3 entries in AuditTable (dynalite): decision ×2, quarantine.action ×1');
  });

  it('colours on a terminal unless told not to', () => {
    const tty = sink(true);
    new TimelinePrinter({ json: false, out: tty.stream, err: sink().stream, startMs: 0 }).line(lines[2]!);
    expect(tty.text().includes('\u001b[31m')).toBe(true);
    const plain = sink(true);
    new TimelinePrinter({ json: false, out: plain.stream, err: sink().stream, color: false, startMs: 0 }).line(lines[2]!);
    expect(plain.text().includes('\u001b[')).toBe(false);
  });

  it('prints one JSON object per line with the contract types, summary last', () => {
    const out = sink();
    const p = new TimelinePrinter({ json: true, out: out.stream, err: sink().stream, startMs: 0 });
    p.header({ scenario: 's', account: 'a', region: 'r', rulesDir: 'd', policyVersion: 'v', functions: [], stateMachines: [] });
    lines.forEach((l) => p.line(l));
    p.report(summary);
    const parsed = out.text().trim().split('\n').map((l) => JSON.parse(l) as { type: string });
    expect(parsed.map((l) => l.type)).toEqual(['access', 'decision', 'workflow.start', 'action', 'slack.message', 'summary']);
    for (const l of parsed) expect(JSON_TYPES).toContain(l.type);
  });

  it('shows progress only on a terminal and clears it before printing', () => {
    const err = sink(true);
    const out = sink();
    const p = new TimelinePrinter({ json: false, out: out.stream, err: err.stream, startMs: 0 });
    p.progress({ simMs: Date.parse(t), step: 2, steps: 9, running: 1 }, 1000);
    expect(err.text()).toContain('simulated 09:02:00 · step 2/9 · 1 workflow running');
    p.line(lines[0]!);
    expect(err.text().endsWith('\r\u001b[2K')).toBe(true);
    const quiet = sink(false);
    new TimelinePrinter({ json: false, out: sink().stream, err: quiet.stream, startMs: 0 }).progress({ simMs: 0, step: 1, steps: 1, running: 0 }, 1000);
    expect(quiet.chunks).toEqual([]);
  });
});
