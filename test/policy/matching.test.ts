import { aws, decide, http, NOW, policyOf, tcp } from './helpers';

const fn = (body: string) => policyOf({ 'functions/f.yaml': `functions: [f]\n${body}` });

describe('host matching', () => {
  const p = fn(`allow:
  - { id: exact, host: api.example.com }
  - { id: wild, host: "*.cdn.example.org" }
  - { id: port, host: "db.example.net:5432" }
`);
  it.each([
    ['api.example.com', 'exact'],
    ['API.Example.COM', 'exact'],
    ['api.example.com.', 'exact'],
    ['a.cdn.example.org', 'wild'],
    ['x.y.cdn.example.org', 'wild'],
  ])('%s matches %s', (host, rule) => {
    expect(decide(p, 'f', http(host))).toEqual({ verdict: 'allow', rule, severity: 'info' });
  });
  it.each([
    ['cdn.example.org', 'a wildcard never matches the apex'],
    ['evilcdn.example.org', 'a look-alike suffix'],
    ['a.cdn.example.org.evil.com', 'a look-alike prefix'],
    ['apixexample.com', 'a dot is a dot'],
    ['api.example.co', 'a shorter name'],
    ['xapi.example.com', 'a longer first label'],
  ])('%s does not match (%s)', (host) => {
    expect(decide(p, 'f', http(host)).verdict).toBe('unlisted');
  });
  it('an entry with a port matches only that port; without one, any port', () => {
    expect(decide(p, 'f', http('db.example.net', 5432)).rule).toBe('port');
    expect(decide(p, 'f', http('db.example.net', 5433)).verdict).toBe('unlisted');
    expect(decide(p, 'f', http('api.example.com', 8443)).rule).toBe('exact');
  });
  it('event values are literal: a "*" in an event host is a character', () => {
    expect(decide(p, 'f', http('*.cdn.example.org')).rule).toBe('wild'); // "*" is just a label under cdn.example.org
    expect(decide(p, 'f', http('*.example.com')).verdict).toBe('unlisted');
  });
});

describe('aws matching', () => {
  const p = fn(`allow:
  - { id: orders, aws: "dynamodb:*", resource: "arn:aws:dynamodb:us-east-1:123456789012:table/orders" }
  - { id: uploads, aws: "s3:Get*", resource: "arn:aws:s3:::uploads/*" }
  - { id: one-char, aws: "sqs:SendMessage", resource: "arn:aws:sqs:us-east-1:123456789012:q?" }
  - { id: any-res, aws: "sts:GetCallerIdentity" }
`);
  it('matches service:Action globs, actions case-insensitively', () => {
    expect(decide(p, 'f', aws('dynamodb', 'PutItem', 'arn:aws:dynamodb:us-east-1:123456789012:table/orders')).rule).toBe('orders');
    expect(decide(p, 'f', aws('DynamoDB', 'putitem', 'arn:aws:dynamodb:us-east-1:123456789012:table/orders')).rule).toBe('orders');
    expect(decide(p, 'f', aws('s3', 'getobject', 'arn:aws:s3:::uploads/a/b.png')).rule).toBe('uploads');
    expect(decide(p, 'f', aws('s3', 'PutObject', 'arn:aws:s3:::uploads/a/b.png')).verdict).toBe('unlisted');
  });
  it('ARNs are compared exactly (case-sensitive), with IAM * and ?', () => {
    expect(decide(p, 'f', aws('dynamodb', 'PutItem', 'arn:aws:dynamodb:us-east-1:123456789012:table/orders-archive')).verdict).toBe('unlisted');
    expect(decide(p, 'f', aws('dynamodb', 'PutItem', 'arn:aws:dynamodb:us-east-1:123456789012:table/Orders')).verdict).toBe('unlisted');
    expect(decide(p, 'f', aws('s3', 'GetObject', 'arn:aws:s3:::uploads-evil/x')).verdict).toBe('unlisted');
    expect(decide(p, 'f', aws('sqs', 'SendMessage', 'arn:aws:sqs:us-east-1:123456789012:q1')).rule).toBe('one-char');
    expect(decide(p, 'f', aws('sqs', 'SendMessage', 'arn:aws:sqs:us-east-1:123456789012:q12')).verdict).toBe('unlisted');
    expect(decide(p, 'f', aws('sqs', 'SendMessage', 'arn:aws:sqs:us-east-1:123456789012:q')).verdict).toBe('unlisted');
  });
  it('a resource entry never matches an event without a resource; an entry without resource matches any', () => {
    expect(decide(p, 'f', aws('s3', 'GetObject')).verdict).toBe('unlisted');
    expect(decide(p, 'f', aws('sts', 'GetCallerIdentity')).rule).toBe('any-res');
    expect(decide(p, 'f', aws('sts', 'GetCallerIdentity', 'arn:x')).rule).toBe('any-res');
  });
  it('a "*" in the event resource is literal', () => {
    expect(decide(p, 'f', aws('dynamodb', 'PutItem', 'arn:aws:dynamodb:us-east-1:123456789012:table/*')).verdict).toBe('unlisted');
  });
  it('host allow entries do not allow an aws call (it needs an aws entry)', () => {
    const q = fn(`allow:\n  - host: dynamodb.us-east-1.amazonaws.com\n`);
    expect(decide(q, 'f', { kind: 'aws', service: 'dynamodb', action: 'DeleteTable', host: 'dynamodb.us-east-1.amazonaws.com' }).verdict).toBe('unlisted');
  });
});

describe('CIDR matching', () => {
  const p = fn(`allow:
  - { id: vpc, cidr: 10.0.0.0/8 }
  - { id: v6, cidr: "2001:db8::/32" }
  - { id: pg, cidr: 192.168.1.10/32, port: 5432 }
deny:
  - { id: imds, cidr: 169.254.169.254/32, severity: critical }
  - { id: imds6, host: "fd00:ec2::254", severity: critical }
`);
  it.each([
    [tcp('10.1.2.3'), 'vpc'],
    [tcp('2001:db8:1::5'), 'v6'],
    [tcp('2001:DB8::'), 'v6'],
    [tcp('::ffff:10.9.9.9'), 'vpc'],
    [tcp('::ffff:a09:909'), 'vpc'],
    [tcp('192.168.1.10', 5432), 'pg'],
    [http('10.0.0.1'), 'vpc'],
    [http('[2001:db8::1]'), 'v6'],
  ])('%j matches %s', (access, rule) => {
    expect(decide(p, 'f', access).rule).toBe(rule);
  });
  it.each([
    [tcp('11.0.0.1')], [tcp('2001:db9::1')], [tcp('192.168.1.10', 5433)], [tcp('192.168.1.11', 5432)], [tcp('::10.0.0.1')],
  ])('%j does not match', (access) => {
    expect(decide(p, 'f', access).verdict).toBe('unlisted');
  });
  it.each([
    tcp('169.254.169.254'), tcp('::ffff:169.254.169.254'), tcp('::ffff:a9fe:a9fe'), http('2852039166'), http('0xa9.0xfe.0xa9.0xfe'),
    http('169.254.43518'), http('0251.0376.0251.0376'), tcp('fd00:ec2::254'), http('[FD00:EC2:0::254]'), http('169.254.169.254.'),
  ])('every spelling of the metadata endpoint is denied: %j', (access) => {
    const d = decide(p, 'f', access);
    expect(d.verdict).toBe('deny');
    expect(d.severity).toBe('critical');
  });
});

describe('precedence', () => {
  const p = policyOf({
    'global.yaml': `deny:\n  - { id: paste, host: "*.pastebin.com", severity: critical }\nallow:\n  - { id: sts, aws: "sts:GetCallerIdentity" }\n`,
    'functions/a.yaml': `functions: [a]\nallow:\n  - { id: paste-ok, host: www.pastebin.com }\n  - { id: s3, aws: "s3:*" }\ndeny:\n  - { id: no-delete, aws: "s3:Delete*", severity: high }\n`,
    'functions/b.yaml': `functions: ["b-*"]\ndeny:\n  - { id: no-stripe, host: api.stripe.com, severity: low, expires: 2026-11-22 }\n`,
  });
  it('deny overrides allow, across files', () => {
    expect(decide(p, 'a', http('www.pastebin.com'))).toEqual({ verdict: 'deny', rule: 'paste', severity: 'critical' });
    expect(decide(p, 'a', aws('s3', 'DeleteObject', 'arn:aws:s3:::x/y'))).toEqual({ verdict: 'deny', rule: 'no-delete', severity: 'high' });
    expect(decide(p, 'a', aws('s3', 'GetObject', 'arn:aws:s3:::x/y')).rule).toBe('s3');
  });
  it('global allows apply to every function', () => {
    expect(decide(p, 'a', aws('sts', 'GetCallerIdentity')).rule).toBe('sts');
  });
  it('unlisted only for a function with an allow list; deny-list-only policies allow by default', () => {
    expect(decide(p, 'a', http('example.com')).verdict).toBe('unlisted');
    expect(decide(p, 'b-1', http('example.com'))).toEqual({ verdict: 'allow', rule: null, severity: 'info' });
    expect(decide(p, 'nobody', http('example.com'))).toEqual({ verdict: 'allow', rule: null, severity: 'info' });
  });
  it('entries expire at the end of their day (UTC), by the time passed to decide', () => {
    expect(decide(p, 'b-1', http('api.stripe.com'), Date.parse('2026-11-22T23:59:59.999Z')).verdict).toBe('deny');
    expect(decide(p, 'b-1', http('api.stripe.com'), Date.parse('2026-11-23T00:00:00Z')).verdict).toBe('allow');
    expect(decide(p, 'b-1', http('api.stripe.com'), NOW).verdict).toBe('allow');
  });
  it('function globs match names, not look-alikes', () => {
    expect(decide(p, 'b-x', http('api.stripe.com'), 0).verdict).toBe('deny');
    expect(decide(p, 'ab-x', http('api.stripe.com'), 0).verdict).toBe('allow');
    expect(decide(p, 'b', http('api.stripe.com'), 0).verdict).toBe('allow');
  });
  it('the highest-severity deny decides, whatever the order', () => {
    const q = policyOf({ 'global.yaml': `deny:\n  - { id: z-low, host: x.com, severity: low }\n  - { id: a-high, host: x.com, severity: high }\n  - { id: b-high, host: x.com, severity: high }\n` });
    expect(decide(q, 'f', http('x.com'))).toEqual({ verdict: 'deny', rule: 'a-high', severity: 'high' });
  });
});

describe('modes', () => {
  const p = policyOf({
    'functions/a.yaml': 'functions: ["pay-*"]\nmode: monitor\ndeny: []\n',
    'functions/b.yaml': 'functions: [pay-worker]\nmode: block\ndeny: []\n',
    'functions/c.yaml': 'functions: ["pay-*", "img-*"]\nmode: learn\ndeny: []\n',
  });
  it('exact names beat globs; among globs the strictest mode wins; default monitor', () => {
    expect(p.modeFor('pay-worker')).toBe('block');
    expect(p.modeFor('pay-api')).toBe('monitor');
    expect(p.modeFor('img-x')).toBe('learn');
    expect(p.modeFor('other')).toBe('monitor');
  });
});

describe('fail closed', () => {
  it('decide never throws: a broken access decides deny with warden:internal-error', () => {
    const p = fn('allow:\n  - host: a.com\n');
    const hostile = { kind: 'http', get host(): string { throw new Error('boom'); } } as unknown as Parameters<typeof p.decide>[1];
    expect(p.decide({ name: 'f' }, hostile, NOW)).toEqual({ verdict: 'deny', rule: 'warden:internal-error', severity: 'high' });
  });
});
