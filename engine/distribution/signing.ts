import {
  constants,
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign as cryptoSign,
  verify as cryptoVerify,
  KeyObject,
} from 'node:crypto';
import { z } from 'zod';
import { KeyError, SignatureError } from './errors';

/**
 * Signatures over distribution documents. Verification is always local, against pinned public
 * keys, so agents need neither KMS permissions nor a network call to check a bundle; signing
 * happens with a local private key (tests, local runs) or a KMS asymmetric key (kms-signer.ts).
 */

export const SIGNATURE_ALGORITHMS = ['ed25519', 'ecdsa-p256-sha256', 'ecdsa-p384-sha384', 'rsa-pss-sha256'] as const;
export const SignatureAlgorithmSchema = z.enum(SIGNATURE_ALGORITHMS);
export type SignatureAlgorithm = z.infer<typeof SignatureAlgorithmSchema>;

/** What is signed: the kind is part of the signed statement, so a signature cannot be moved between kinds. */
export const SIGNED_KINDS = ['bundle', 'pointer', 'control', 'exceptions'] as const;
export type SignedKind = (typeof SIGNED_KINDS)[number];

const KEY_ID = /^sha256:[0-9a-f]{64}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export const SignatureSchema = z.object({
  algorithm: SignatureAlgorithmSchema,
  /** fingerprint of the signing public key: `sha256:` + hex of its SubjectPublicKeyInfo DER. */
  keyId: z.string().regex(KEY_ID, 'keyId must be "sha256:" followed by 64 hex digits'),
  /** base64 signature (DER for ECDSA, as KMS returns it). */
  value: z.string().min(16).max(2048).regex(BASE64, 'value must be base64'),
}).strict();
export type Signature = z.infer<typeof SignatureSchema>;

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The exact bytes a signature covers: a domain-separated statement about a document's digest. */
export function signedStatement(kind: SignedKind, contentSha256: string): Buffer {
  return Buffer.from(`warden-distribution/v1\n${kind}\n${contentSha256}\n`, 'utf8');
}

export function keyFingerprint(publicKey: KeyObject): string {
  return `sha256:${sha256Hex(publicKey.export({ type: 'spki', format: 'der' }))}`;
}

/** The one algorithm a key may be used with: never taken from the document being verified. */
export function algorithmForKey(key: KeyObject): SignatureAlgorithm {
  const type = key.asymmetricKeyType;
  if (type === 'ed25519') return 'ed25519';
  if (type === 'rsa' || type === 'rsa-pss') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < 2048) throw new KeyError(`RSA key of ${bits} bits is too small: use at least 2048 bits (KMS RSA_2048 or larger)`);
    return 'rsa-pss-sha256';
  }
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1') return 'ecdsa-p256-sha256';
    if (curve === 'secp384r1') return 'ecdsa-p384-sha384';
    throw new KeyError(`EC curve ${String(curve)} is not supported: use P-256 (KMS ECC_NIST_P256) or P-384 (ECC_NIST_P384)`);
  }
  throw new KeyError(`key type ${String(type)} is not supported: use Ed25519, ECDSA P-256/P-384 or RSA (PSS)`);
}

function cryptoParams(algorithm: SignatureAlgorithm): { hash: string | null; padding?: number; saltLength?: number } {
  switch (algorithm) {
    case 'ed25519': return { hash: null };
    case 'ecdsa-p256-sha256': return { hash: 'sha256' };
    case 'ecdsa-p384-sha384': return { hash: 'sha384' };
    // KMS RSASSA_PSS_SHA_256 uses MGF1-SHA-256 with a salt as long as the digest (32 bytes).
    case 'rsa-pss-sha256': return { hash: 'sha256', padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };
  }
}

/** Anything that can sign a statement: a local private key or a KMS key. */
export interface Signer {
  /** human-readable: where the key lives (never the key itself). */
  readonly label: string;
  publicKey(): Promise<KeyObject>;
  sign(kind: SignedKind, contentSha256: string): Promise<Signature>;
}

/** Parses one or more public keys: PEM (SPKI, several may be concatenated) or base64 SPKI DER. */
export function parsePublicKeys(input: string | Uint8Array | KeyObject | Array<string | Uint8Array | KeyObject>): KeyObject[] {
  const items = Array.isArray(input) ? input : [input];
  const keys: KeyObject[] = [];
  for (const item of items) {
    if (item instanceof KeyObject) {
      keys.push(toPublic(item));
      continue;
    }
    if (item instanceof Uint8Array) {
      keys.push(publicFromDer(Buffer.from(item)));
      continue;
    }
    const text = item.trim();
    if (text.includes('-----BEGIN')) {
      if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
        throw new KeyError('a private key was given where a public key is expected: distribute only the public key (warden keys generate writes both)');
      }
      const pems = text.match(/-----BEGIN [A-Z ]+-----[\s\S]+?-----END [A-Z ]+-----/g) ?? [];
      if (pems.length === 0) throw new KeyError('the public key PEM is truncated: expected "-----BEGIN PUBLIC KEY-----" … "-----END PUBLIC KEY-----"');
      for (const pem of pems) {
        try {
          keys.push(createPublicKey(pem));
        } catch (cause) {
          throw new KeyError(`cannot read a public key PEM: ${(cause as Error).message}`, { cause });
        }
      }
    } else if (text.length > 0) {
      const compact = text.replace(/\s+/g, '');
      if (!BASE64.test(compact)) throw new KeyError('a public key must be PEM ("-----BEGIN PUBLIC KEY-----") or base64 SubjectPublicKeyInfo DER');
      keys.push(publicFromDer(Buffer.from(compact, 'base64')));
    }
  }
  if (keys.length === 0) throw new KeyError('no public key given: pass the PEM written by `warden keys generate` or `warden keys public --kms-key-id`');
  for (const k of keys) algorithmForKey(k);
  return keys;
}

function toPublic(key: KeyObject): KeyObject {
  return key.type === 'private' ? createPublicKey(key) : key;
}

function publicFromDer(der: Buffer): KeyObject {
  try {
    return createPublicKey({ key: der, format: 'der', type: 'spki' });
  } catch (cause) {
    throw new KeyError(`cannot read a DER public key (SubjectPublicKeyInfo expected): ${(cause as Error).message}`, { cause });
  }
}

/** Verifies signatures against a fixed set of trusted public keys (several during a rotation). */
export interface Verifier {
  readonly keyIds: readonly string[];
  /** throws SignatureError unless `signature` is a valid signature of `content` as `kind` by a trusted key. */
  verify(kind: SignedKind, content: Uint8Array | string, signature: unknown): void;
  /** the same, given the content's sha256 (hex) instead of the content. */
  verifyDigest(kind: SignedKind, contentSha256: string, signature: unknown): void;
}

export function createVerifier(publicKeys: Parameters<typeof parsePublicKeys>[0]): Verifier {
  const trusted = new Map<string, { key: KeyObject; algorithm: SignatureAlgorithm }>();
  for (const key of parsePublicKeys(publicKeys)) trusted.set(keyFingerprint(key), { key, algorithm: algorithmForKey(key) });
  const keyIds = [...trusted.keys()];
  const verifyDigest = (kind: SignedKind, contentSha256: string, signature: unknown): void => {
    if (!/^[0-9a-f]{64}$/.test(contentSha256)) throw new SignatureError(`internal: "${contentSha256}" is not a sha256 hex digest`);
    const parsed = SignatureSchema.safeParse(signature);
    if (!parsed.success) {
      throw new SignatureError(`the ${kind} signature is malformed (${parsed.error.issues.map((i) => `${i.path.join('.') || 'signature'}: ${i.message}`).join('; ')}); re-publish with \`warden rules publish\``);
    }
    const sig = parsed.data;
    const entry = trusted.get(sig.keyId);
    if (!entry) {
      throw new SignatureError(`the ${kind} is signed by key ${sig.keyId}, which is not trusted here (trusted: ${keyIds.join(', ')}); add its public key to WARDEN_POLICY_PUBLIC_KEY or re-publish with a trusted key`);
    }
    if (sig.algorithm !== entry.algorithm) {
      throw new SignatureError(`the ${kind} signature claims algorithm ${sig.algorithm} but key ${sig.keyId} is a ${entry.algorithm} key; rejected`);
    }
    const params = cryptoParams(entry.algorithm);
    const statement = signedStatement(kind, contentSha256);
    let ok: boolean;
    try {
      ok = cryptoVerify(params.hash, statement, { key: entry.key, padding: params.padding, saltLength: params.saltLength, dsaEncoding: 'der' }, Buffer.from(sig.value, 'base64'));
    } catch (cause) {
      throw new SignatureError(`the ${kind} signature could not be checked: ${(cause as Error).message}`, { cause });
    }
    if (!ok) throw new SignatureError(`the ${kind} signature does not match its content (tampered or corrupted); it was not used`);
  };
  return {
    keyIds,
    verify: (kind, content, signature) => verifyDigest(kind, sha256Hex(content), signature),
    verifyDigest,
  };
}

/** A signer over a local private key (PEM, PKCS#8 or the key's traditional format). */
export function createLocalSigner(privateKeyPem: string | KeyObject, label = 'local key'): Signer {
  let key: KeyObject;
  try {
    key = typeof privateKeyPem === 'string' ? createPrivateKey(privateKeyPem) : privateKeyPem;
  } catch (cause) {
    throw new KeyError(`cannot read the signing key (${label}): expected a PEM private key as written by \`warden keys generate\`: ${(cause as Error).message}`, { cause });
  }
  if (key.type !== 'private') throw new KeyError(`the signing key (${label}) is a ${key.type} key: signing needs the private key`);
  const publicKey = createPublicKey(key);
  const algorithm = algorithmForKey(publicKey);
  const keyId = keyFingerprint(publicKey);
  const params = cryptoParams(algorithm);
  return {
    label,
    publicKey: async () => publicKey,
    async sign(kind, contentSha256) {
      const value = cryptoSign(params.hash, signedStatement(kind, contentSha256), { key, padding: params.padding, saltLength: params.saltLength, dsaEncoding: 'der' });
      return { algorithm, keyId, value: value.toString('base64') };
    },
  };
}

export interface GeneratedKeyPair { privateKeyPem: string; publicKeyPem: string; keyId: string; algorithm: SignatureAlgorithm }

/** A fresh local key pair (Ed25519 by default; ECDSA P-256 matches a KMS ECC_NIST_P256 key). */
export function generateSigningKeyPair(type: 'ed25519' | 'ecdsa-p256' = 'ed25519'): GeneratedKeyPair {
  const { privateKey, publicKey } = type === 'ed25519'
    ? generateKeyPairSync('ed25519')
    : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    keyId: keyFingerprint(publicKey),
    algorithm: algorithmForKey(publicKey),
  };
}
