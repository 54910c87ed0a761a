import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExceptionGrant } from '../../engine/distribution/documents';
import { publishExceptions } from '../../engine/distribution/exceptions';
import { createLocalDistribution } from '../../engine/distribution/local';
import { createPolicySource, type PolicySourceEvent } from '../../engine/distribution/policy-source';
import { formatPolicySourceEvent } from '../../engine/distribution/runtime';
import { createLocalSigner, generateSigningKeyPair } from '../../engine/distribution/signing';
import { exceptionsKey, POINTER_KEY } from '../../engine/distribution/store';
import { httpAccess, loadTestBundle, makeBundle, manualClock, tempDir } from './helpers';

const FN = 'payments-worker';
const HOUR = 3_600_000;

/** Signed per-function exception documents: what the agent fetches with its policy on every refresh. */
describe('exceptions documents in the policy store', () => {
  async function setup() {
    const clock = manualClock();
    const dir = tempDir();
    const d = createLocalDistribution({ loadBundle: loadTestBundle, clock, dir });
    await d.publish(makeBundle({ deny: ['pastebin.com'], mode: 'block' }).text);
    const events: PolicySourceEvent[] = [];
    const source = d.source({ exceptionsFor: FN, onEvent: (e) => events.push(e) });
    await source.start();
    const grant = (id: string, host: string, ttlMs = HOUR): ExceptionGrant => ({
      exceptionId: id, approvalId: `apr_${id}`, grantedBy: 'U0APPROVER', access: httpAccess(host), expiresAt: new Date(clock.now() + ttlMs).toISOString(),
    });
    const file = join(dir, ...exceptionsKey(FN).split('/'));
    const rejected = () => events.filter((e): e is Extract<PolicySourceEvent, { type: 'rejected' }> => e.type === 'rejected' && e.what === 'exceptions');
    return { clock, dir, d, source, events, grant, file, rejected };
  }

  it('none published: no exceptions, nothing reported', async () => {
    const t = await setup();
    expect(t.source.exceptions()).toMatchObject({ functionName: FN, sequence: null, size: 0 });
    expect(t.source.exceptions().find(httpAccess('api.partner.example'), t.clock.now())).toBeUndefined();
    expect(t.rejected()).toEqual([]);
  });

  it('a published document is verified, loaded on the next refresh, and reported once', async () => {
    const t = await setup();
    const r = await t.d.publishExceptions(FN, [t.grant('exc_1', 'api.partner.example')]);
    expect(r).toMatchObject({ functionName: FN, count: 1, expired: 0, unchanged: false, key: `exceptions/${FN}.json` });
    const outcome = await t.source.refresh();
    expect(outcome).toMatchObject({ changed: false, exceptionsChanged: true, problems: [] });
    expect(t.source.exceptions()).toMatchObject({ sequence: r.sequence, size: 1 });
    expect(t.source.exceptions().find(httpAccess('api.partner.example'), t.clock.now())).toMatchObject({ exceptionId: 'exc_1', approvalId: 'apr_exc_1' });
    expect((await t.source.refresh()).exceptionsChanged).toBe(false);
    const ev = t.events.filter((e) => e.type === 'exceptions');
    expect(ev).toEqual([{ type: 'exceptions', functionName: FN, sequence: r.sequence, count: 1 }]);
    expect(JSON.parse(formatPolicySourceEvent(ev[0]!, 'warden.agent'))).toMatchObject({ level: 'INFO', event: 'policy.exceptions', count: 1 });
  });

  it('publishing drops expired exceptions, keeps the set stable, and grows the sequence only on change', async () => {
    const t = await setup();
    const first = await t.d.publishExceptions(FN, [t.grant('exc_b', 'b.example'), t.grant('exc_a', 'a.example', 1000)]);
    expect(first).toMatchObject({ count: 2, unchanged: false });
    const again = await t.d.publishExceptions(FN, [t.grant('exc_a', 'a.example', 1000), t.grant('exc_b', 'b.example')]);
    expect(again).toMatchObject({ unchanged: true, sequence: first.sequence });
    const a = t.grant('exc_a', 'a.example', 1000);
    t.clock.advance(1000);
    const later = await t.d.publishExceptions(FN, [a, t.grant('exc_b', 'b.example')]);
    expect(later).toMatchObject({ count: 1, expired: 1, unchanged: false });
    expect(later.sequence).toBeGreaterThan(first.sequence);
    await t.source.refresh();
    expect(t.source.exceptions().grants.map((g) => g.exceptionId)).toEqual(['exc_b']);
  });

  it('an expired exception stops applying at expiresAt on the reader\'s clock, without a new document', async () => {
    const t = await setup();
    await t.d.publishExceptions(FN, [t.grant('exc_1', 'api.partner.example', 5000)]);
    await t.source.refresh();
    const set = t.source.exceptions();
    expect(set.find(httpAccess('api.partner.example'), t.clock.now() + 4999)).toBeDefined();
    expect(set.find(httpAccess('api.partner.example'), t.clock.now() + 5000)).toBeUndefined();
  });

  it('a deleted document means no exceptions (fail closed), and an older one replayed later is refused', async () => {
    const t = await setup();
    await t.d.publishExceptions(FN, [t.grant('exc_1', 'api.partner.example')]);
    const old = readFileSync(t.file);
    t.clock.advance(2000);
    await t.d.publishExceptions(FN, [t.grant('exc_1', 'api.partner.example'), t.grant('exc_2', 'other.example')]);
    await t.source.refresh();
    expect(t.source.exceptions().size).toBe(2);
    writeFileSync(t.file, old); // replay the older, validly signed document
    const outcome = await t.source.refresh();
    expect(outcome.problems).toEqual([expect.objectContaining({ what: 'exceptions', reason: 'rollback' })]);
    expect(t.source.exceptions().size).toBe(2);
    const { unlinkSync } = await import('node:fs');
    unlinkSync(t.file);
    expect((await t.source.refresh()).exceptionsChanged).toBe(true);
    expect(t.source.exceptions()).toMatchObject({ sequence: null, size: 0 });
    writeFileSync(t.file, old);
    expect((await t.source.refresh()).problems).toEqual([expect.objectContaining({ reason: 'rollback' })]);
    expect(t.source.exceptions().size).toBe(0);
  });

  it('rejects a document signed by a key agents do not trust for exceptions — the policy key included — and keeps the last good set', async () => {
    const t = await setup();
    await t.d.publishExceptions(FN, [t.grant('exc_1', 'api.partner.example')]);
    await t.source.refresh();
    for (const signer of [createLocalSigner(generateSigningKeyPair().privateKeyPem, 'attacker'), t.d.signer]) {
      t.clock.advance(1000);
      await publishExceptions({
        store: t.d.store, signer, clock: t.clock, functionName: FN, publishedBy: 'attacker',
        readExceptions: () => [t.grant('exc_evil', 'evil.example'), t.grant('exc_1', 'api.partner.example')],
      });
      const outcome = await t.source.refresh();
      expect(outcome.problems).toEqual([expect.objectContaining({ what: 'exceptions', reason: 'bad-signature' })]);
      expect(t.source.exceptions().find(httpAccess('evil.example'), t.clock.now())).toBeUndefined();
      expect(t.source.exceptions().find(httpAccess('api.partner.example'), t.clock.now())?.exceptionId).toBe('exc_1');
    }
    const line = JSON.parse(formatPolicySourceEvent(t.rejected()[0]!, 'warden.agent'));
    expect(line).toMatchObject({ level: 'ERROR', event: 'policy.rejected', what: 'exceptions', reason: 'bad-signature' });
    expect(line.message).toMatch(/exceptions document rejected/);
  });

  it('the exceptions key can never move the policy: a pointer it signs is refused', async () => {
    const t = await setup();
    const before = t.source.version;
    const { encodeSigned } = await import('../../engine/distribution/documents');
    const pointer = JSON.parse(JSON.parse(readFileSync(join(t.dir, POINTER_KEY), 'utf8')).payload);
    const v2 = makeBundle({ deny: [], mode: 'monitor' });
    writeFileSync(join(t.dir, POINTER_KEY), await encodeSigned('pointer', { ...pointer, sequence: pointer.sequence + 1, policyVersion: v2.policyVersion }, t.d.exceptionsSigner));
    const outcome = await t.source.refresh();
    expect(outcome.problems).toEqual([expect.objectContaining({ what: 'pointer', reason: 'bad-signature' })]);
    expect(t.source.version).toBe(before);
  });

  it('type confusion: a pointer or control document at the exceptions key, or a relabelled envelope, is refused', async () => {
    const t = await setup();
    await t.d.publishExceptions(FN, [t.grant('exc_1', 'api.partner.example')]);
    await t.source.refresh();
    const good = readFileSync(t.file, 'utf8');
    // the current pointer copied over the exceptions document
    writeFileSync(t.file, readFileSync(join(t.dir, POINTER_KEY)));
    expect((await t.source.refresh()).problems).toEqual([expect.objectContaining({ what: 'exceptions', reason: 'corrupt' })]);
    // the envelope says "exceptions" but the signature was made for the pointer
    const ptr = JSON.parse(readFileSync(join(t.dir, POINTER_KEY), 'utf8'));
    writeFileSync(t.file, JSON.stringify({ ...ptr, kind: 'exceptions' }));
    expect((await t.source.refresh()).problems).toEqual([expect.objectContaining({ what: 'exceptions', reason: 'bad-signature' })]);
    // the exceptions document copied over the pointer
    writeFileSync(join(t.dir, POINTER_KEY), good);
    expect((await t.source.refresh()).problems).toEqual(expect.arrayContaining([expect.objectContaining({ what: 'pointer', reason: 'corrupt' })]));
    expect(t.source.exceptions().find(httpAccess('api.partner.example'), t.clock.now())?.exceptionId).toBe('exc_1');
  });

  it('a document signed for another function is refused where it was copied (misplaced)', async () => {
    const t = await setup();
    await t.d.publishExceptions('orders-api', [t.grant('exc_o', 'api.partner.example')]);
    writeFileSync(t.file, readFileSync(join(t.dir, ...exceptionsKey('orders-api').split('/'))));
    const outcome = await t.source.refresh();
    expect(outcome.problems).toEqual([expect.objectContaining({ what: 'exceptions', reason: 'misplaced' })]);
    expect(t.source.exceptions().size).toBe(0);
  });

  it('a tampered, truncated or unsigned document is refused; the last good set stays', async () => {
    const t = await setup();
    await t.d.publishExceptions(FN, [t.grant('exc_1', 'api.partner.example')]);
    await t.source.refresh();
    const env = JSON.parse(readFileSync(t.file, 'utf8'));
    const payload = JSON.parse(env.payload);
    payload.exceptions[0].access.host = 'evil.example';
    writeFileSync(t.file, JSON.stringify({ ...env, payload: JSON.stringify(payload) }));
    expect((await t.source.refresh()).problems).toEqual([expect.objectContaining({ reason: 'bad-signature' })]);
    writeFileSync(t.file, JSON.stringify(env).slice(0, 100));
    expect((await t.source.refresh()).problems).toEqual([expect.objectContaining({ reason: 'corrupt' })]);
    const { signature: _omit, ...unsigned } = env;
    void _omit;
    writeFileSync(t.file, JSON.stringify(unsigned));
    expect((await t.source.refresh()).problems).toEqual([expect.objectContaining({ reason: 'unsigned' })]);
    expect(t.source.exceptions().find(httpAccess('api.partner.example'), t.clock.now())?.exceptionId).toBe('exc_1');
    expect(t.source.exceptions().find(httpAccess('evil.example'), t.clock.now())).toBeUndefined();
  });

  it('a source without the exceptions option never reads exception documents', async () => {
    const t = await setup();
    await t.d.publishExceptions(FN, [t.grant('exc_1', 'api.partner.example')]);
    const plain = createPolicySource({ store: t.d.store, publicKey: t.d.publicKeyPem, loadBundle: loadTestBundle, clock: t.clock, refreshMs: 0 });
    await plain.start();
    expect(plain.exceptions().size).toBe(0);
  });

  it('publishing refuses records that do not parse, and function names map to safe keys', async () => {
    const t = await setup();
    await expect(t.d.publishExceptions(FN, [{ ...t.grant('exc_1', 'x.example'), access: { kind: 'http' } }])).rejects.toThrow(/exc_1 of payments-worker cannot be published/);
    expect(exceptionsKey('orders-api')).toBe('exceptions/orders-api.json');
    expect(exceptionsKey('a/../b')).toBe('exceptions/a%2F%2E%2E%2Fb.json');
    expect(exceptionsKey('.hidden')).toBe('exceptions/%2Ehidden.json');
    expect(() => exceptionsKey('')).toThrow(/1–256 characters/);
    // the encoded key is a valid store key
    await t.d.publishExceptions('a/../b', [t.grant('exc_1', 'x.example')]);
    expect((await t.d.store.get('exceptions/a%2F%2E%2E%2Fb.json'))?.body.byteLength).toBeGreaterThan(0);
  });
});
