import { AccessEventSchema } from '../engine/events/access-event';

describe('access event schema', () => {
  it('accepts the DESIGN.md example', () => {
    const r = AccessEventSchema.safeParse({
      id: '01JD', time: '2026-11-23T18:00:00.000Z',
      function: { name: 'orders-api', account: '123456789012', region: 'us-east-1', roleArn: 'arn:aws:iam::123456789012:role/orders-api', tags: {} },
      access: { kind: 'aws', service: 'dynamodb', action: 'PutItem', resource: 'arn:aws:dynamodb:us-east-1:123456789012:table/orders', host: 'dynamodb.us-east-1.amazonaws.com', address: '52.94.0.10', port: 443 },
      mode: 'block', agentVerdict: 'deny', blocked: true, count: 1, firstSeen: '2026-11-23T18:00:00.000Z', lastSeen: '2026-11-23T18:00:00.000Z',
    });
    expect(r.success).toBe(true);
  });
  it('rejects an aws access without an action', () => {
    const r = AccessEventSchema.safeParse({ id: 'x', time: '2026-11-23T18:00:00.000Z', function: { name: 'f' }, access: { kind: 'aws', service: 's3' } });
    expect(r.success).toBe(false);
  });
});
