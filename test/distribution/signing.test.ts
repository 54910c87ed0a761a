import { generateKeyPairSync } from 'node:crypto';
import {
  createLocalSigner, createVerifier, generateSigningKeyPair, keyFingerprint, parsePublicKeys, sha256Hex,
} from '../../engine/distribution/signing';
import { KeyError, SignatureError } from '../../engine/distribution/errors';

describe('signing', () => {
  const content = Buffer.from('{"policyVersion":"sha256:abc"}');

  it.each(['ed25519', 'ecdsa-p256'] as const)('signs and verifies with a generated %s key pair', async (type) => {
    const pair = generateSigningKeyPair(type);
    const signer = createLocalSigner(pair.privateKeyPem);
    const sig = await signer.sign('bundle', sha256Hex(content));
    expect(sig.keyId).toBe(pair.keyId);
    expect(sig.algorithm).toBe(pair.algorithm);
    expect(() => createVerifier(pair.publicKeyPem).verify('bundle', content, sig)).not.toThrow();
  });

  it('signs and verifies with RSA-PSS and P-384 keys', async () => {
    for (const { privateKey, publicKey } of [
      generateKeyPairSync('rsa', { modulusLength: 2048 }),
      generateKeyPairSync('ec', { namedCurve: 'secp384r1' }),
    ]) {
      const sig = await createLocalSigner(privateKey).sign('pointer', sha256Hex(content));
      expect(() => createVerifier(publicKey).verify('pointer', content, sig)).not.toThrow();
    }
  });

  it('rejects tampered content', async () => {
    const pair = generateSigningKeyPair();
    const sig = await createLocalSigner(pair.privateKeyPem).sign('bundle', sha256Hex(content));
    const tampered = Buffer.from(content.toString().replace('abc', 'abd'));
    expect(() => createVerifier(pair.publicKeyPem).verify('bundle', tampered, sig)).toThrow(/does not match its content/);
  });

  it('rejects a signature moved to another kind of document', async () => {
    const pair = generateSigningKeyPair();
    const sig = await createLocalSigner(pair.privateKeyPem).sign('control', sha256Hex(content));
    expect(() => createVerifier(pair.publicKeyPem).verify('bundle', content, sig)).toThrow(SignatureError);
  });

  it('rejects a signature from a key that is not trusted, naming both keys', async () => {
    const trusted = generateSigningKeyPair();
    const other = generateSigningKeyPair();
    const sig = await createLocalSigner(other.privateKeyPem).sign('bundle', sha256Hex(content));
    expect(() => createVerifier(trusted.publicKeyPem).verify('bundle', content, sig)).toThrow(new RegExp(`${other.keyId}.*not trusted.*${trusted.keyId}`));
  });

  it('accepts any of several trusted keys (rotation)', async () => {
    const a = generateSigningKeyPair();
    const b = generateSigningKeyPair('ecdsa-p256');
    const verifier = createVerifier(a.publicKeyPem + b.publicKeyPem);
    expect(verifier.keyIds).toEqual([a.keyId, b.keyId]);
    const sig = await createLocalSigner(b.privateKeyPem).sign('bundle', sha256Hex(content));
    expect(() => verifier.verify('bundle', content, sig)).not.toThrow();
  });

  it('rejects an algorithm that does not belong to the key', async () => {
    const pair = generateSigningKeyPair();
    const sig = await createLocalSigner(pair.privateKeyPem).sign('bundle', sha256Hex(content));
    expect(() => createVerifier(pair.publicKeyPem).verify('bundle', content, { ...sig, algorithm: 'ecdsa-p256-sha256' })).toThrow(/claims algorithm/);
  });

  it('rejects malformed and missing signatures', () => {
    const pair = generateSigningKeyPair();
    const v = createVerifier(pair.publicKeyPem);
    expect(() => v.verify('bundle', content, undefined)).toThrow(/malformed/);
    expect(() => v.verify('bundle', content, { algorithm: 'ed25519', keyId: pair.keyId, value: 'not base64!!' })).toThrow(/malformed/);
  });

  it('reads base64 DER public keys and refuses private keys where a public key is expected', () => {
    const pair = generateSigningKeyPair();
    const [pem] = parsePublicKeys(pair.publicKeyPem);
    const der = pem!.export({ type: 'spki', format: 'der' }).toString('base64');
    expect(keyFingerprint(parsePublicKeys(der)[0]!)).toBe(pair.keyId);
    expect(() => parsePublicKeys(pair.privateKeyPem)).toThrow(KeyError);
    expect(() => parsePublicKeys('')).toThrow(/no public key/);
    expect(() => parsePublicKeys('%%%')).toThrow(/PEM/);
  });

  it('refuses weak or unsupported keys', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(() => createLocalSigner(privateKey)).toThrow(/too small/);
    const { privateKey: k256 } = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
    expect(() => createLocalSigner(k256)).toThrow(/not supported/);
    expect(() => createLocalSigner('garbage')).toThrow(KeyError);
  });
});
