import { newObservations, observe, normalizeIp } from '../../engine/learn/observations';
import { propose, arnParent, hostParent, actionVerb } from '../../engine/learn/propose';
import { renderRulesFile } from '../../engine/learn/yaml-writer';
import { parse } from 'yaml';
import type { AccessEvent } from '../../engine/events/access-event';

let n = 0;
function ev(fn: string, access: AccessEvent['access'], time = '2026-11-01T00:00:00.000Z', count = 1): AccessEvent {
  return { id: `e${n++}`, time, function: { name: fn, tags: {} }, access, mode: 'monitor', blocked: false, count };
}
const ddb = (action: string, table: string): AccessEvent['access'] =>
  ({ kind: 'aws', service: 'dynamodb', action, resource: `arn:aws:dynamodb:us-east-1:123456789012:table/${table}` });

describe('observe + propose (exact)', () => {
  it('keeps exact ARNs, actions, hosts with ports and IPs, with counts and first/last seen', () => {
    const o = newObservations();
    observe(o, ev('api', ddb('PutItem', 'orders'), '2026-11-02T00:00:00.000Z', 2));
    observe(o, ev('api', ddb('PutItem', 'orders'), '2026-11-01T00:00:00.000Z'));
    observe(o, ev('api', { kind: 'http', host: 'API.Stripe.com.', port: 443 }));
    observe(o, ev('api', { kind: 'tcp', address: '::ffff:10.1.2.3', port: 5432 }));
    observe(o, ev('api', { kind: 'http', host: '[2001:db8::1]', port: 80 }));
    const entries = propose(o.functions.get('api')!, { generalize: null });
    expect(entries.map((e) => ({ ...e, seen: undefined }))).toEqual([
      { kind: 'aws', aws: 'dynamodb:PutItem', resource: 'arn:aws:dynamodb:us-east-1:123456789012:table/orders', seen: undefined },
      { kind: 'host', host: 'api.stripe.com:443', seen: undefined },
      { kind: 'cidr', cidr: '10.1.2.3/32', port: 5432, seen: undefined },
      { kind: 'cidr', cidr: '2001:db8::1/128', port: 80, seen: undefined },
    ]);
    expect(entries[0]!.seen).toEqual({ count: 3, first: Date.parse('2026-11-01T00:00:00.000Z'), last: Date.parse('2026-11-02T00:00:00.000Z') });
    expect(o.accesses).toBe(6);
  });

  it('records an aws access without resource as an entry without resource', () => {
    const o = newObservations();
    observe(o, ev('api', { kind: 'aws', service: 'S3', action: 'ListBuckets' }));
    expect(propose(o.functions.get('api')!, { generalize: null })).toMatchObject([{ aws: 's3:ListBuckets', resource: null }]);
  });

  it('flags an observed value holding glob characters', () => {
    const o = newObservations();
    observe(o, ev('api', { kind: 'aws', service: 's3', action: 'GetObject', resource: 'arn:aws:s3:::b/odd*name' }));
    expect(propose(o.functions.get('api')!, { generalize: null })[0]!.note).toMatch(/matches more than was observed/);
  });
});

describe('generalization thresholds', () => {
  const tables = (k: number) => {
    const o = newObservations();
    for (let i = 0; i < k; i++) observe(o, ev('api', ddb('GetItem', `t${i}`)));
    return o.functions.get('api')!;
  };

  it('does not generalize below the threshold', () => {
    expect(propose(tables(2), { generalize: { threshold: 3 } })).toHaveLength(2);
  });

  it('introduces one ARN glob at the threshold and says what it covers', () => {
    const e = propose(tables(3), { generalize: { threshold: 3 } });
    expect(e).toHaveLength(1);
    expect(e[0]).toMatchObject({ aws: 'dynamodb:GetItem', resource: 'arn:aws:dynamodb:us-east-1:123456789012:table/*' });
    expect(e[0]!.covers).toEqual(['arn:aws:dynamodb:us-east-1:123456789012:table/t0', 'arn:aws:dynamodb:us-east-1:123456789012:table/t1', 'arn:aws:dynamodb:us-east-1:123456789012:table/t2']);
  });

  it('folds a deeper exact value into a generalized parent that already covers it', () => {
    const o = newObservations();
    for (const t of ['a', 'b', 'c', 'x/deep']) observe(o, ev('api', ddb('GetItem', t)));
    for (const h of ['a.svc.example.com', 'b.svc.example.com', 'c.svc.example.com', 'x.y.svc.example.com']) observe(o, ev('api', { kind: 'http', host: h }));
    const e = propose(o.functions.get('api')!, { generalize: { threshold: 3 } });
    expect(e.map((x) => (x.kind === 'aws' ? x.resource : x.kind === 'host' ? x.host : x.cidr))).toEqual([
      'arn:aws:dynamodb:us-east-1:123456789012:table/*', '*.svc.example.com',
    ]);
    expect(e[0]!.covers).toHaveLength(4);
    expect(e[1]!.covers).toContain('x.y.svc.example.com');
  });

  it('generalizes actions sharing a verb on the same resource', () => {
    const o = newObservations();
    for (const a of ['GetItem', 'GetRecords', 'GetShardIterator', 'PutItem']) observe(o, ev('api', ddb(a, 'orders')));
    const e = propose(o.functions.get('api')!, { generalize: { threshold: 3 } });
    expect(e.map((x) => x.kind === 'aws' && x.aws)).toEqual(['dynamodb:Get*', 'dynamodb:PutItem']);
    expect(e[0]!.covers).toEqual(['dynamodb:GetItem', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator']);
  });

  it('generalizes hosts under a shared parent per port, never to a public suffix', () => {
    const o = newObservations();
    for (const h of ['a.svc.example.com', 'b.svc.example.com', 'c.svc.example.com', 'x.co.uk', 'y.co.uk', 'z.co.uk']) {
      observe(o, ev('api', { kind: 'http', host: h, port: 443 }));
    }
    observe(o, ev('api', { kind: 'http', host: 'd.svc.example.com', port: 8443 }));
    const hosts = propose(o.functions.get('api')!, { generalize: { threshold: 3 } }).map((x) => x.kind === 'host' && x.host);
    expect(hosts).toEqual(['*.svc.example.com:443', 'd.svc.example.com:8443', 'x.co.uk:443', 'y.co.uk:443', 'z.co.uk:443']);
  });

  it('generalizes IPv4 addresses to their /24', () => {
    const o = newObservations();
    for (const a of ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.1.1']) observe(o, ev('api', { kind: 'tcp', address: a }));
    const cidrs = propose(o.functions.get('api')!, { generalize: { threshold: 3 } }).map((x) => x.kind === 'cidr' && x.cidr);
    expect(cidrs).toEqual(['10.0.0.0/24', '10.0.1.1/32']);
  });

  it('helpers cut at the right places', () => {
    expect(arnParent('arn:aws:lambda:us-east-1:1:function:foo')).toBe('arn:aws:lambda:us-east-1:1:function:');
    expect(arnParent('arn:aws:s3:::bucket')).toBeNull();
    expect(arnParent('arn:aws:s3:::bucket/a/b')).toBe('arn:aws:s3:::bucket/a/');
    expect(arnParent('not-an-arn/x')).toBeNull();
    expect(hostParent('example.com')).toBeNull();
    expect(hostParent('a.b.example.com')).toBe('b.example.com');
    expect(actionVerb('BatchWriteItem')).toBe('Batch');
    expect(actionVerb('Invoke')).toBeNull();
    expect(normalizeIp('::FFFF:192.168.0.1')).toBe('192.168.0.1');
    expect(normalizeIp('example.com')).toBeNull();
  });
});

describe('renderRulesFile', () => {
  it('writes valid YAML with the evidence as comments and hostile values kept as data', () => {
    const o = newObservations();
    observe(o, ev('api', { kind: 'aws', service: 's3', action: 'GetObject', resource: 'arn:aws:s3:::b/"quoted"\n- host: evil.com' }, '2026-11-01T00:00:00.000Z', 1234));
    const entries = propose(o.functions.get('api')!, { generalize: null });
    const text = renderRulesFile({ comment: ['learned'], functions: ['api'], mode: 'monitor' }, entries);
    expect(text).toContain('# 1,234 seen, first 2026-11-01T00:00:00.000Z, last 2026-11-01T00:00:00.000Z');
    expect(parse(text)).toEqual({ functions: ['api'], mode: 'monitor', allow: [{ aws: 's3:GetObject', resource: 'arn:aws:s3:::b/"quoted"\n- host: evil.com' }] });
  });
});

describe('subsumption', () => {
  it('writes no entry that a broader observed one already covers', () => {
    const o = newObservations();
    observe(o, ev('api', { kind: 'aws', service: 's3', action: 'GetObject' }, '2026-11-01T00:00:00.000Z', 2));
    observe(o, ev('api', { kind: 'aws', service: 's3', action: 'GetObject', resource: 'arn:aws:s3:::b/k' }, '2026-11-03T00:00:00.000Z', 3));
    observe(o, ev('api', { kind: 'http', host: 'api.example.com' }));
    observe(o, ev('api', { kind: 'http', host: 'api.example.com', port: 443 }));
    observe(o, ev('api', { kind: 'http', host: 'other.example.com', port: 443 }));
    const e = propose(o.functions.get('api')!, { generalize: null });
    expect(e.map((x) => (x.kind === 'aws' ? `${x.aws} ${x.resource}` : x.kind === 'host' ? x.host : x.cidr))).toEqual([
      's3:GetObject null', 'api.example.com', 'other.example.com:443',
    ]);
    expect(e[0]!.seen).toEqual({ count: 5, first: Date.parse('2026-11-01T00:00:00.000Z'), last: Date.parse('2026-11-03T00:00:00.000Z') });
  });
});
