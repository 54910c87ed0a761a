import { createWriteStream } from 'node:fs';

/**
 * Writes a synthetic access log of about `bytes` bytes: 100 functions, a mix of AWS calls over a
 * few thousand resources, HTTP hosts and TCP addresses, with the agent's aggregation fields.
 * Deterministic (seeded), so runs compare.
 */
export async function writeAccessLog(path: string, bytes: number): Promise<{ lines: number; bytes: number }> {
  let seed = 42;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return (seed >>> 8) % n;
  };
  const services: [string, string[], (i: number) => string][] = [
    ['dynamodb', ['GetItem', 'PutItem', 'Query', 'UpdateItem'], (i) => `arn:aws:dynamodb:us-east-1:123456789012:table/table-${i % 300}`],
    ['s3', ['GetObject', 'PutObject'], (i) => `arn:aws:s3:::bucket-${i % 40}/data/object-${i % 2000}.json`],
    ['sqs', ['SendMessage'], (i) => `arn:aws:sqs:us-east-1:123456789012:queue-${i % 100}`],
    ['secretsmanager', ['GetSecretValue'], (i) => `arn:aws:secretsmanager:us-east-1:123456789012:secret:s-${i % 50}`],
  ];
  const out = createWriteStream(path, { highWaterMark: 1 << 20 });
  let written = 0;
  let lines = 0;
  const base = Date.parse('2026-11-01T00:00:00.000Z');
  let buf = '';
  while (written < bytes) {
    const fn = `fn-${rnd(100)}`;
    const t = new Date(base + lines * 10).toISOString();
    const kind = rnd(10);
    let access: Record<string, unknown>;
    if (kind < 7) {
      const [service, actions, res] = services[rnd(services.length)]!;
      access = { kind: 'aws', service, action: actions[rnd(actions.length)], resource: res(rnd(100000)), host: `${service}.us-east-1.amazonaws.com`, port: 443 };
    } else if (kind < 9) {
      access = { kind: 'http', host: `api-${rnd(60)}.partner${rnd(5)}.example.com`, port: 443, method: 'POST' };
    } else {
      access = { kind: 'tcp', host: `db-${rnd(8)}.internal`, address: `10.0.${rnd(4)}.${rnd(250)}`, port: 5432 };
    }
    const line = JSON.stringify({
      id: `01JD${String(lines).padStart(22, '0')}`, time: t,
      function: { name: fn, account: '123456789012', region: 'us-east-1', roleArn: `arn:aws:iam::123456789012:role/${fn}`, tags: { team: `t${rnd(5)}` } },
      access, mode: 'monitor', agentVerdict: 'allow', blocked: false, count: 1 + rnd(3), firstSeen: t, lastSeen: t,
    }) + '\n';
    buf += line;
    written += line.length;
    lines++;
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await new Promise<void>((r) => out.once('drain', () => r()));
      buf = '';
    }
  }
  out.write(buf);
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return { lines, bytes: written };
}
