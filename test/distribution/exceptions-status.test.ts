import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runExceptionsStatus, type CliIo } from '../../engine/distribution/cli-actions';
import type { ExceptionGrant } from '../../engine/distribution/documents';
import { createLocalDistribution } from '../../engine/distribution/local';
import { exceptionsKey } from '../../engine/distribution/store';
import { httpAccess, loadTestBundle, manualClock, tempDir } from './helpers';

const FN = 'payments-worker';
const HOUR = 3_600_000;

/** `warden exceptions status`: what a function's agent would take from the store, verified the same way. */
describe('warden exceptions status (action)', () => {
  async function setup() {
    const clock = manualClock();
    const dir = tempDir();
    const d = createLocalDistribution({ loadBundle: loadTestBundle, clock, dir });
    const keyFile = join(tempDir(), 'exceptions.pub');
    writeFileSync(keyFile, d.exceptionsPublicKeyPem);
    const grant = (id: string, host: string, ttlMs: number): ExceptionGrant => ({
      exceptionId: id, approvalId: `apr_${id}`, grantedBy: 'U0APPROVER', access: httpAccess(host), expiresAt: new Date(clock.now() + ttlMs).toISOString(),
    });
    const run = async (opts: Record<string, unknown>, env: Record<string, string | undefined> = {}) => {
      const out: string[] = [];
      const err: string[] = [];
      const io: CliIo = { out: (s) => out.push(s), err: (s) => err.push(s), env, clock };
      const code = await runExceptionsStatus({ store: dir, function: FN, ...opts }, io);
      return { code, out: out.join(''), err: err.join('') };
    };
    return { clock, dir, d, keyFile, grant, run };
  }

  it('no document: says none, exit 0', async () => {
    const t = await setup();
    const r = await t.run({ publicKey: t.keyFile });
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out).toMatch(/document: +NONE/);
  });

  it('lists what is in force and what has expired, verified with the pinned exceptions key (flag or environment)', async () => {
    const t = await setup();
    await t.d.publishExceptions(FN, [t.grant('exc_long', 'api.partner.example', 2 * HOUR), t.grant('exc_short', 'b.example', HOUR)]);
    t.clock.advance(HOUR + 1);
    const r = await t.run({}, { WARDEN_EXCEPTIONS_PUBLIC_KEY_FILE: t.keyFile });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/in force: +http api\.partner\.example:443 +until .* granted by U0APPROVER +\(exc_long\)/);
    expect(r.out).toMatch(/expired: +http b\.example:443 .*\(exc_short\)/);
    const j = await t.run({ publicKey: t.keyFile, json: true });
    const status = JSON.parse(j.out) as { sequence: number; exceptions: { exceptionId: string; active: boolean }[] };
    expect(status.sequence).toBeGreaterThanOrEqual(1);
    expect(status.exceptions.map((g) => [g.exceptionId, g.active]).sort()).toEqual([['exc_long', true], ['exc_short', false]]);
  });

  it('refuses a document signed with another key, a tampered one, or one copied from another function (exit 1)', async () => {
    const t = await setup();
    await t.d.publishExceptions(FN, [t.grant('exc_1', 'api.partner.example', HOUR)]);
    const other = createLocalDistribution({ loadBundle: loadTestBundle, clock: t.clock, dir: tempDir() });
    const otherKey = join(tempDir(), 'other.pub');
    writeFileSync(otherKey, other.exceptionsPublicKeyPem);
    const wrongKey = await t.run({ publicKey: otherKey });
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.err).toMatch(/^warden exceptions status: /);

    const file = join(t.dir, ...exceptionsKey(FN).split('/'));
    const original = readFileSync(file, 'utf8');
    writeFileSync(file, original.replace('api.partner.example', 'evil.example'));
    expect((await t.run({ publicKey: t.keyFile })).code).toBe(1);
    writeFileSync(file, original);

    // a genuine document of another function placed at this function's key
    await t.d.publishExceptions('orders-api', [t.grant('exc_2', 'x.example', HOUR)]);
    cpSync(join(t.dir, ...exceptionsKey('orders-api').split('/')), file);
    const copied = await t.run({ publicKey: t.keyFile });
    expect(copied.code).toBe(1);
    expect(copied.err).toMatch(/holds the exceptions of "orders-api", not of "payments-worker"/);
  });

  it('without an exceptions public key it says how to give one (exit 1)', async () => {
    const t = await setup();
    const r = await t.run({});
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/no exceptions public key: pass --public-key FILE or set WARDEN_EXCEPTIONS_PUBLIC_KEY/);
  });
});
