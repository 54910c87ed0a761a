import { DEFAULT_SCENARIO_YAML } from '../../engine/local/simulate/default-scenario';
import { parseDuration, formatDuration } from '../../engine/local/simulate/duration';
import { ScenarioError } from '../../engine/local/simulate/errors';
import { parseScenario } from '../../engine/local/simulate/scenario';

const minimal = `
name: tiny
hosts: { api.example.com: {} }
functions: { fn-a: {} }
timeline:
  - at: 0s
    invoke: fn-a
    calls: [{ http: "POST https://api.example.com/x" }]
`;

function issuesOf(text: string): string[] {
  try {
    parseScenario(text, 'test.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ScenarioError);
    return (err as ScenarioError).issues;
  }
  throw new Error('expected the scenario to be rejected');
}

describe('scenario durations', () => {
  it.each([
    ['0', 0], ['90s', 90_000], ['5m', 300_000], ['1h30m', 5_400_000], ['2d', 172_800_000], ['250ms', 250], ['1m30s', 90_000],
  ])('parses %s', (text, ms) => expect(parseDuration(text)).toBe(ms));
  it.each(['5x', '', 'm', '5m1h', '1h1h', '-5s', '5 m'])('rejects %s', (text) => expect(parseDuration(text)).toBeNull());
  it('formats for the timeline', () => {
    expect(formatDuration(5_400_000 + 5_000)).toBe('1h 30m 5s');
    expect(formatDuration(250)).toBe('250ms');
  });
});

describe('parseScenario', () => {
  it('parses the built-in scenario with its defaults', () => {
    const s = parseScenario(DEFAULT_SCENARIO_YAML, 'built-in');
    expect(Object.keys(s.functions)).toEqual(['orders-api', 'payments-worker', 'image-resizer']);
    expect(s.account).toEqual({ id: '123456789012', region: 'us-east-1' });
    expect(s.timeline.length).toBeGreaterThan(5);
    const first = s.timeline.find((t) => 'invoke' in t);
    expect(first && 'invoke' in first && first.repeat).toBe(5);
    expect(s.expect.workflows.map((w) => w.workflow).sort()).toEqual(['approval', 'escalate', 'quarantine', 'restore']);
  });

  it('fills defaults of a minimal scenario', () => {
    const s = parseScenario(minimal);
    expect(s.start).toBe('2026-11-23T09:00:00Z');
    expect(s.functions['fn-a']!.role).toEqual({ path: '/', inlinePolicies: {}, managedPolicies: [], tags: {} });
    const step = s.timeline[0]!;
    expect('invoke' in step && step.calls[0]).toEqual({ http: { method: 'POST', url: 'https://api.example.com/x' }, via: 'http', headers: {} });
    expect(s.hosts['api.example.com']).toEqual({ status: 200, body: '', contentType: 'application/json' });
  });

  it('reports invalid YAML with the parser message', () => {
    expect(() => parseScenario('name: [unclosed', 'bad.yaml')).toThrow(/bad.yaml is not valid YAML/);
  });

  it('lists one clear line per mistake, with its path', () => {
    const issues = issuesOf(`
name: x
functions: { a: { rol: {} } }
timeline:
  - at: 5x
    invoke: a
  - at: 1m
    invoke: a
    calls: [{ http: "FOO http://x" }, { aws: "dynamodb:putItem" }]
  - at: 2m
    click: { user: bob, function: a, button: approve }
`);
    expect(issues).toEqual([
      'functions.a: unknown field "rol" (check the spelling; see engine/local/simulate/README.md)',
      'timeline[0].at: "5x" is not a duration; write e.g. "0", "90s", "5m", "1h30m" or "2d"',
      'timeline[1].calls[0].http: unknown HTTP method "FOO"; use one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS',
      'timeline[1].calls[1].aws: write "service:Action", e.g. "dynamodb:PutItem"',
      'timeline[2].click.user: a Slack user id such as U0APPROVER1',
    ]);
  });

  it('rejects unknown functions, hosts without a stand-in and steps out of order', () => {
    const issues = issuesOf(`
name: x
functions: { a: {} }
timeline:
  - at: 5m
    invoke: b
  - at: 1m
    invoke: a
    calls: [{ http: "GET https://nowhere.example.org/" }]
`);
    expect(issues).toContain('timeline[0].invoke: unknown function "b"; declare it under "functions" (known: a)');
    expect(issues).toContain('timeline[1].at: steps must be in time order (this one is earlier than the step before)');
    expect(issues.some((i) => i.startsWith('timeline[1].calls[0].http: host "nowhere.example.org" has no stand-in'))).toBe(true);
  });

  it('rejects AWS services the simulation has no client for', () => {
    const issues = issuesOf(`
name: x
functions: { a: {} }
timeline:
  - at: 0
    invoke: a
    calls: [{ aws: "cloudwatch:PutMetricData" }]
`);
    expect(issues).toEqual(['timeline[0].calls[0].aws: the simulation has no SDK client for "cloudwatch"; use one of dynamodb, s3, sqs, sns, sts, kms, ssm, lambda, kinesis, secretsmanager, events, states (or your own handler module)']);
  });

  it('requires functions and a timeline', () => {
    const issues = issuesOf('name: x\nfunctions: {}\ntimeline: []\n');
    expect(issues).toEqual(['functions: describe at least one function', 'timeline: the timeline needs at least one step']);
  });

  it('validates IAM policy documents and managed policy ARNs', () => {
    const issues = issuesOf(`
name: x
functions:
  a:
    role:
      inlinePolicies: { p: { Version: "2012-10-17" } }
      managedPolicies: [AdministratorAccess]
timeline: [{ at: 0, note: hi }]
`);
    expect(issues).toEqual([
      'functions.a.role.inlinePolicies.p: an IAM policy document needs "Version" and "Statement"',
      'functions.a.role.managedPolicies[0]: must be a managed policy ARN (arn:aws:iam::aws:policy/…)',
    ]);
  });
});

describe('publish and killswitch steps', () => {
  const withSteps = (steps: string) => `${minimal}${steps}`;

  it('parses them with their defaults', () => {
    const s = parseScenario(withSteps(`
  - at: 1m
    publish: { rules: ./rules-v2 }
  - at: 2m
    publish: { rules: ./rules-v1, by: U0MALLORY, signedBy: untrusted }
  - at: 3m
    killswitch: on
  - at: 4m
    killswitch: off
    by: U0SECLEAD1
`));
    expect(s.timeline.slice(1)).toEqual([
      { at: 60_000, publish: { rules: './rules-v2', by: 'simulate', signedBy: 'trusted' } },
      { at: 120_000, publish: { rules: './rules-v1', by: 'U0MALLORY', signedBy: 'untrusted' } },
      { at: 180_000, killswitch: 'on', reason: 'engaged in the simulation', by: 'simulate' },
      { at: 240_000, killswitch: 'off', reason: 'engaged in the simulation', by: 'U0SECLEAD1' },
    ]);
  });

  it('reports a publish without rules, an unknown signer and a bad kill switch value', () => {
    expect(issuesOf(withSteps(`
  - at: 1m
    publish: {}
  - at: 2m
    publish: { rules: ./r, signedBy: someone }
  - at: 3m
    killswitch: maybe
`))).toEqual([
      'timeline[1].publish.rules: Invalid input: expected string, received undefined',
      'timeline[2].publish.signedBy: Invalid option: expected one of "trusted"|"untrusted"',
      expect.stringMatching(/^timeline\[3\]\.killswitch: /),
    ]);
  });
});
