import {
  compileEventPattern,
  EventPatternError,
  matchesEventPattern,
  RouteError,
  routeEvent,
  selectPath,
  wildcardToRegExp,
} from '../../engine/local/event-pattern';

// The example event from the EventBridge user guide ("Content filtering in event patterns").
const ec2Event = {
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '111122223333',
  time: '2017-12-22T18:43:48Z',
  region: 'us-west-1',
  resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0'],
  detail: {
    'instance-id': 'i-1234567890abcdef0',
    state: 'terminated',
    'c-count': 5,
    'd-count': 3,
    'x-limit': 301.8,
    'source-ip': '10.0.0.123',
    location: { country: 'us' },
  },
};

describe('event patterns: documented examples', () => {
  it('matches exact values; an array is an OR', () => {
    expect(matchesEventPattern({ source: ['aws.ec2'] }, ec2Event)).toBe(true);
    expect(matchesEventPattern({ source: ['aws.s3', 'aws.ec2'] }, ec2Event)).toBe(true);
    expect(matchesEventPattern({ source: ['aws.s3'] }, ec2Event)).toBe(false);
    expect(matchesEventPattern({ detail: { state: ['running'] } }, ec2Event)).toBe(false);
    expect(matchesEventPattern({ detail: { state: ['terminated'] } }, ec2Event)).toBe(true);
  });

  it('requires every field (AND) and matches nested objects', () => {
    expect(matchesEventPattern({ source: ['aws.ec2'], detail: { location: { country: ['us'] } } }, ec2Event)).toBe(true);
    expect(matchesEventPattern({ source: ['aws.ec2'], detail: { location: { country: ['fr'] } } }, ec2Event)).toBe(false);
  });

  it('is case-sensitive for exact values and compares numbers numerically', () => {
    expect(matchesEventPattern({ detail: { state: ['Terminated'] } }, ec2Event)).toBe(false);
    expect(matchesEventPattern({ detail: { 'c-count': [5.0] } }, ec2Event)).toBe(true);
    expect(matchesEventPattern({ detail: { 'c-count': ['5'] } }, ec2Event)).toBe(false);
  });

  it('matches an event array when any element matches', () => {
    expect(matchesEventPattern({ resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0'] }, ec2Event)).toBe(true);
    expect(matchesEventPattern({ resources: ['arn:other'] }, ec2Event)).toBe(false);
  });

  it('null and booleans', () => {
    const e = { detail: { a: null, b: true, c: '' } };
    expect(matchesEventPattern({ detail: { a: [null] } }, e)).toBe(true);
    expect(matchesEventPattern({ detail: { b: [true] } }, e)).toBe(true);
    expect(matchesEventPattern({ detail: { b: [false] } }, e)).toBe(false);
    expect(matchesEventPattern({ detail: { c: [''] } }, e)).toBe(true);
    expect(matchesEventPattern({ detail: { c: [null] } }, e)).toBe(false);
  });

  it('prefix and suffix, also ignoring case', () => {
    expect(matchesEventPattern({ time: [{ prefix: '2017-12-22' }] }, ec2Event)).toBe(true);
    expect(matchesEventPattern({ time: [{ prefix: '2018' }] }, ec2Event)).toBe(false);
    expect(matchesEventPattern({ detail: { state: [{ prefix: { 'equals-ignore-case': 'TERM' } }] } }, ec2Event)).toBe(true);
    const s3 = { detail: { 'object-name': 'photo.PNG' } };
    expect(matchesEventPattern({ detail: { 'object-name': [{ suffix: '.png' }] } }, s3)).toBe(false);
    expect(matchesEventPattern({ detail: { 'object-name': [{ suffix: { 'equals-ignore-case': '.png' } }] } }, s3)).toBe(true);
  });

  it('equals-ignore-case', () => {
    expect(matchesEventPattern({ 'detail-type': [{ 'equals-ignore-case': 'ec2 instance state-change notification' }] }, ec2Event)).toBe(true);
    expect(matchesEventPattern({ 'detail-type': [{ 'equals-ignore-case': 'ec2 instance' }] }, ec2Event)).toBe(false);
  });

  it('anything-but: value, list, prefix, suffix, wildcard, equals-ignore-case', () => {
    expect(matchesEventPattern({ detail: { state: [{ 'anything-but': 'initializing' }] } }, ec2Event)).toBe(true);
    expect(matchesEventPattern({ detail: { state: [{ 'anything-but': ['stopped', 'terminated'] }] } }, ec2Event)).toBe(false);
    expect(matchesEventPattern({ detail: { 'c-count': [{ 'anything-but': [100, 200, 300] }] } }, ec2Event)).toBe(true);
    expect(matchesEventPattern({ detail: { 'c-count': [{ 'anything-but': 5 }] } }, ec2Event)).toBe(false);
    expect(matchesEventPattern({ detail: { state: [{ 'anything-but': { prefix: 'init' } }] } }, ec2Event)).toBe(true);
    expect(matchesEventPattern({ detail: { state: [{ 'anything-but': { prefix: 'term' } }] } }, ec2Event)).toBe(false);
    expect(matchesEventPattern({ detail: { state: [{ 'anything-but': { suffix: 'ated' } }] } }, ec2Event)).toBe(false);
    expect(matchesEventPattern({ detail: { state: [{ 'anything-but': { wildcard: 't*d' } }] } }, ec2Event)).toBe(false);
    expect(matchesEventPattern({ detail: { state: [{ 'anything-but': { 'equals-ignore-case': ['TERMINATED'] } }] } }, ec2Event)).toBe(false);
  });

  it('anything-but never matches an absent field', () => {
    expect(matchesEventPattern({ detail: { missing: [{ 'anything-but': 'x' }] } }, ec2Event)).toBe(false);
  });

  it('numeric ranges', () => {
    const p = { detail: { 'c-count': [{ numeric: ['>', 0, '<=', 5] }], 'd-count': [{ numeric: ['<', 10] }], 'x-limit': [{ numeric: ['=', 301.8] }] } };
    expect(matchesEventPattern(p, ec2Event)).toBe(true);
    expect(matchesEventPattern({ detail: { 'c-count': [{ numeric: ['>', 5] }] } }, ec2Event)).toBe(false);
    expect(matchesEventPattern({ detail: { state: [{ numeric: ['>', 0] }] } }, ec2Event)).toBe(false);
  });

  it('exists true/false, only on leaves', () => {
    expect(matchesEventPattern({ detail: { state: [{ exists: true }] } }, ec2Event)).toBe(true);
    expect(matchesEventPattern({ detail: { 'no-such': [{ exists: false }] } }, ec2Event)).toBe(true);
    expect(matchesEventPattern({ detail: { state: [{ exists: false }] } }, ec2Event)).toBe(false);
    expect(matchesEventPattern({ detail: { 'no-such': [{ exists: true }] } }, ec2Event)).toBe(false);
    // location is an object, not a leaf
    expect(matchesEventPattern({ detail: { location: [{ exists: true }] } }, ec2Event)).toBe(false);
  });

  it('cidr for IPv4 and IPv6', () => {
    expect(matchesEventPattern({ detail: { 'source-ip': [{ cidr: '10.0.0.0/24' }] } }, ec2Event)).toBe(true);
    expect(matchesEventPattern({ detail: { 'source-ip': [{ cidr: '10.0.1.0/24' }] } }, ec2Event)).toBe(false);
    const v6 = { detail: { ip: '2001:db8::1' } };
    expect(matchesEventPattern({ detail: { ip: [{ cidr: '2001:db8::/32' }] } }, v6)).toBe(true);
    expect(matchesEventPattern({ detail: { ip: [{ cidr: '2001:db9::/32' }] } }, v6)).toBe(false);
    expect(matchesEventPattern({ detail: { ip: [{ cidr: '::ffff:0:0/96' }] } }, { detail: { ip: '::ffff:10.1.2.3' } })).toBe(true);
  });

  it('wildcard, with escapes', () => {
    const e = { detail: { 'event-source': 'arn:aws:s3:::bucket/dir/file.png', star: 'a*b' } };
    expect(matchesEventPattern({ detail: { 'event-source': [{ wildcard: 'arn:aws:s3:::bucket/*.png' }] } }, e)).toBe(true);
    expect(matchesEventPattern({ detail: { 'event-source': [{ wildcard: 'arn:aws:s3:::bucket/*.jpg' }] } }, e)).toBe(false);
    expect(matchesEventPattern({ detail: { star: [{ wildcard: 'a\\*b' }] } }, e)).toBe(true);
    expect(matchesEventPattern({ detail: { star: [{ wildcard: 'a\\*c' }] } }, e)).toBe(false);
    expect(wildcardToRegExp('a.b*').test('axb')).toBe(false);
  });

  it('$or across fields', () => {
    const p = { source: ['aws.ec2'], $or: [{ detail: { 'c-count': [{ numeric: ['>', 100] }] } }, { detail: { 'd-count': [{ numeric: ['<', 10] }] } }] };
    expect(matchesEventPattern(p, ec2Event)).toBe(true);
    const q = { $or: [{ detail: { 'c-count': [{ numeric: ['>', 100] }] } }, { detail: { 'd-count': [{ numeric: ['>', 10] }] } }] };
    expect(matchesEventPattern(q, ec2Event)).toBe(false);
  });

  it('a nested pattern matches any object element of an array in the event', () => {
    const e = { detail: { items: [{ k: 'a', v: 1 }, { k: 'b', v: 2 }] } };
    expect(matchesEventPattern({ detail: { items: { k: ['b'], v: [2] } } }, e)).toBe(true);
    // both fields must hold in the same element
    expect(matchesEventPattern({ detail: { items: { k: ['a'], v: [2] } } }, e)).toBe(false);
  });

  it('accepts JSON text', () => {
    expect(compileEventPattern('{"source":["aws.ec2"]}').matches(ec2Event)).toBe(true);
    expect(compileEventPattern('{"source":["aws.ec2"]}').matches('not an event')).toBe(false);
  });
});

describe('event patterns: invalid patterns are rejected with a reason', () => {
  const bad: [string, unknown, RegExp][] = [
    ['scalar field', { source: 'aws.ec2' }, /write \["aws.ec2"\]/],
    ['empty array', { source: [] }, /empty array/],
    ['unknown operator', { source: [{ regex: 'x' }] }, /unknown operator "regex"/],
    ['two operators', { source: [{ prefix: 'a', suffix: 'b' }] }, /exactly one operator/],
    ['bad numeric', { n: [{ numeric: ['>>', 1] }] }, /unknown numeric operator/],
    ['odd numeric', { n: [{ numeric: ['>'] }] }, /one or two/],
    ['bad exists', { n: [{ exists: 'yes' }] }, /true or false/],
    ['bad cidr', { n: [{ cidr: '10.0.0.0/33' }] }, /IPv4 or IPv6 range/],
    ['double star', { n: [{ wildcard: 'a**' }] }, /consecutive/],
    ['short $or', { $or: [{ a: ['x'] }] }, /at least two/],
    ['empty pattern', {}, /empty pattern/],
    ['not JSON', '{', /not valid JSON/],
    ['not an object', ['a'], /JSON object/],
  ];
  it.each(bad)('%s', (_name, pattern, message) => {
    expect(() => compileEventPattern(pattern)).toThrow(EventPatternError);
    expect(() => compileEventPattern(pattern)).toThrow(message);
  });
});

describe('routeEvent over a synthesized template', () => {
  const template = {
    Resources: {
      Bus: { Type: 'AWS::Events::EventBus', Properties: { Name: 'warden' } },
      Engine: { Type: 'AWS::Lambda::Function', Properties: {} },
      QuarantineSM: { Type: 'AWS::StepFunctions::StateMachine', Properties: {} },
      Dlq: { Type: 'AWS::SQS::Queue', Properties: {} },
      AgentRule: {
        Type: 'AWS::Events::Rule',
        Properties: {
          EventBusName: { Ref: 'Bus' },
          State: 'ENABLED',
          EventPattern: { source: ['warden.agent'], 'detail-type': ['Access Observed'] },
          Targets: [{ Id: 'Target0', Arn: { 'Fn::GetAtt': ['Engine', 'Arn'] }, DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['Dlq', 'Arn'] } }, RetryPolicy: { MaximumRetryAttempts: 4 } }],
        },
      },
      QuarantineRule: {
        Type: 'AWS::Events::Rule',
        Properties: {
          EventBusName: { Ref: 'Bus' },
          State: 'ENABLED',
          EventPattern: { source: ['warden.engine'], detail: { response: ['quarantine'] } },
          Targets: [{ Id: 'Target0', Arn: { Ref: 'QuarantineSM' }, InputPath: '$.detail' }],
        },
      },
      Disabled: {
        Type: 'AWS::Events::Rule',
        Properties: { EventBusName: { Ref: 'Bus' }, State: 'DISABLED', EventPattern: { source: ['warden.agent'] }, Targets: [{ Id: 'x', Arn: { Ref: 'QuarantineSM' } }] },
      },
      OtherBus: {
        Type: 'AWS::Events::Rule',
        Properties: { State: 'ENABLED', EventPattern: { source: ['warden.agent'] }, Targets: [{ Id: 'T', Arn: 'arn:aws:sns:us-east-1:1:t', Input: '{"fixed":true}' }] },
      },
    },
  };
  const agentEvent = { source: 'warden.agent', 'detail-type': 'Access Observed', detail: { id: 'e1' } };

  it('routes agent events to the engine function with its DLQ and retry policy', () => {
    const routes = routeEvent(template, agentEvent, { bus: 'warden' });
    expect(routes).toEqual([
      { ruleLogicalId: 'AgentRule', targetId: 'Target0', targetLogicalId: 'Engine', kind: 'function', input: agentEvent, retryPolicy: { MaximumRetryAttempts: 4 }, deadLetterQueueLogicalId: 'Dlq' },
    ]);
  });

  it('applies InputPath and matches decisions by detail.response', () => {
    const decision = { source: 'warden.engine', 'detail-type': 'Policy Decision', detail: { response: 'quarantine', id: 'x' } };
    const routes = routeEvent(template, decision, { bus: 'Bus' });
    expect(routes.map((r) => [r.targetLogicalId, r.kind, r.input])).toEqual([['QuarantineSM', 'stateMachine', { response: 'quarantine', id: 'x' }]]);
    expect(routeEvent(template, { ...decision, detail: { response: 'none' } }, { bus: 'warden' })).toEqual([]);
  });

  it('without a bus filter includes rules on other buses; constant Input is applied', () => {
    const routes = routeEvent(template, agentEvent);
    expect(routes.map((r) => [r.ruleLogicalId, r.kind, r.input])).toEqual([
      ['AgentRule', 'function', agentEvent],
      ['OtherBus', 'other', { fixed: true }],
    ]);
  });

  it('applies an InputTransformer', () => {
    const t = {
      Resources: {
        R: {
          Type: 'AWS::Events::Rule',
          Properties: {
            EventPattern: { source: ['s'] },
            Targets: [{ Id: 'a', Arn: 'x', InputTransformer: { InputPathsMap: { id: '$.detail.id', n: '$.detail.n' }, InputTemplate: '{"event":"<id>","count":<n>,"text":"id is <id>"}' } }],
          },
        },
      },
    };
    expect(routeEvent(t, { source: 's', detail: { id: 'e1', n: 3 } })[0]!.input).toEqual({ event: 'e1', count: 3, text: 'id is e1' });
  });

  it('rejects a non-template and reports which rule has a bad pattern', () => {
    expect(() => routeEvent({}, agentEvent)).toThrow(RouteError);
    const bad = { Resources: { Broken: { Type: 'AWS::Events::Rule', Properties: { EventPattern: { source: 'x' }, Targets: [] } } } };
    expect(() => routeEvent(bad, agentEvent)).toThrow(/rule Broken: invalid event pattern at source/);
  });

  it('selectPath handles nested keys and indexes', () => {
    expect(selectPath({ a: { b: [1, { c: 2 }] } }, '$.a.b[1].c')).toBe(2);
    expect(selectPath({ a: 1 }, '$.x.y')).toBeUndefined();
    expect(() => selectPath({}, 'a')).toThrow(RouteError);
  });
});
