import { GetPublicKeyCommand, SignCommand, type KMSClient, type SigningAlgorithmSpec } from '@aws-sdk/client-kms';
import type { KeyObject } from 'node:crypto';
import { KeyError } from './errors';
import { algorithmForKey, createVerifier, keyFingerprint, parsePublicKeys, signedStatement, type SignatureAlgorithm, type Signer } from './signing';

/** The KMS signing algorithm that produces exactly what the local verifier checks for each key type. */
const KMS_ALGORITHM: Record<SignatureAlgorithm, SigningAlgorithmSpec> = {
  'ed25519': 'ED25519_SHA_512',
  'ecdsa-p256-sha256': 'ECDSA_SHA_256',
  'ecdsa-p384-sha384': 'ECDSA_SHA_384',
  'rsa-pss-sha256': 'RSASSA_PSS_SHA_256',
};

interface KmsKeyInfo { publicKey: KeyObject; algorithm: SignatureAlgorithm; keyId: string; arn: string }

async function describeKmsKey(client: KMSClient, kmsKeyId: string): Promise<KmsKeyInfo> {
  let out;
  try {
    out = await client.send(new GetPublicKeyCommand({ KeyId: kmsKeyId }));
  } catch (cause) {
    throw new KeyError(`KMS GetPublicKey failed for ${kmsKeyId}: ${(cause as Error).message} (the caller needs kms:GetPublicKey on the key)`, { cause });
  }
  if (out.KeyUsage !== 'SIGN_VERIFY') {
    throw new KeyError(`KMS key ${kmsKeyId} has KeyUsage ${String(out.KeyUsage)}: create an asymmetric key with KeyUsage SIGN_VERIFY (e.g. KeySpec ECC_NIST_P256)`);
  }
  if (!out.PublicKey) throw new KeyError(`KMS returned no public key for ${kmsKeyId}`);
  const [publicKey] = parsePublicKeys(out.PublicKey);
  const algorithm = algorithmForKey(publicKey!);
  const spec = KMS_ALGORITHM[algorithm];
  if (out.SigningAlgorithms && !out.SigningAlgorithms.includes(spec)) {
    throw new KeyError(`KMS key ${kmsKeyId} (${String(out.KeySpec)}) does not offer ${spec}; it offers ${out.SigningAlgorithms.join(', ')}`);
  }
  return { publicKey: publicKey!, algorithm, keyId: keyFingerprint(publicKey!), arn: out.KeyId ?? kmsKeyId };
}

/** The public key of a KMS signing key, as PEM: what agents and the engine pin. */
export async function fetchKmsPublicKeyPem(client: KMSClient, kmsKeyId: string): Promise<string> {
  const info = await describeKmsKey(client, kmsKeyId);
  return info.publicKey.export({ type: 'spki', format: 'pem' }).toString();
}

/** The key's description from its pinned public key (what agents trust): no kms:GetPublicKey needed. */
function pinnedKmsKey(kmsKeyId: string, publicKeyPem: string): KmsKeyInfo {
  const keys = parsePublicKeys(publicKeyPem);
  if (keys.length !== 1) throw new KeyError(`the pinned public key of KMS key ${kmsKeyId} must be exactly one PEM key, got ${keys.length}`);
  const publicKey = keys[0]!;
  return { publicKey, algorithm: algorithmForKey(publicKey), keyId: keyFingerprint(publicKey), arn: kmsKeyId };
}

/**
 * A signer backed by a KMS asymmetric key: the private key never leaves KMS. Each signature is
 * checked against the key's public key before it is returned, so a misconfigured key fails here
 * rather than in every agent. With `publicKeyPem` (the key agents pin) the public key is not
 * fetched: the signer then needs kms:Sign only, and signs nothing those agents would reject.
 */
export function createKmsSigner(opts: { client: KMSClient; kmsKeyId: string; publicKeyPem?: string }): Signer {
  let info: Promise<KmsKeyInfo> | undefined;
  const describe = (): Promise<KmsKeyInfo> => (opts.publicKeyPem !== undefined ? Promise.resolve().then(() => pinnedKmsKey(opts.kmsKeyId, opts.publicKeyPem!)) : describeKmsKey(opts.client, opts.kmsKeyId));
  const load = () => (info ??= describe().catch((err: unknown) => { info = undefined; throw err; }));
  return {
    label: `KMS key ${opts.kmsKeyId}`,
    publicKey: async () => (await load()).publicKey,
    async sign(kind, contentSha256) {
      const key = await load();
      let out;
      try {
        out = await opts.client.send(new SignCommand({
          KeyId: key.arn,
          Message: signedStatement(kind, contentSha256),
          MessageType: 'RAW',
          SigningAlgorithm: KMS_ALGORITHM[key.algorithm],
        }));
      } catch (cause) {
        throw new KeyError(`KMS Sign failed for ${key.arn}: ${(cause as Error).message} (the publisher needs kms:Sign on the key)`, { cause });
      }
      if (!out.Signature) throw new KeyError(`KMS Sign returned no signature for ${key.arn}`);
      const signature = { algorithm: key.algorithm, keyId: key.keyId, value: Buffer.from(out.Signature).toString('base64') };
      // The statement is what we sign; verify it as the agents will (content hash supplied directly).
      createVerifier(key.publicKey).verifyDigest(kind, contentSha256, signature);
      return signature;
    },
  };
}
