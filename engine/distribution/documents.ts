import { z } from 'zod';
import { DocumentError } from './errors';
import { SignatureSchema, sha256Hex, type Signer, type Verifier } from './signing';
import { isPolicyVersion } from './store';
import { AccessSchema } from '../events/access-event';

/** The documents a store holds besides bundles. Every one is parsed with its schema before use. */

const isoTime = z.string().max(64).refine((s) => !Number.isNaN(Date.parse(s)), { message: 'must be an ISO-8601 timestamp' });
const policyVersion = z.string().max(80).refine(isPolicyVersion, { message: 'must be "sha256:" followed by 16–64 hex digits' });
const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits');
const actor = z.string().min(1).max(256);

/** `bundles/sha256-<hex>.sig`: the signature of a bundle file's exact bytes. */
export const BundleSignatureFileSchema = z.object({
  format: z.literal('warden.signature/v1'),
  kind: z.literal('bundle'),
  policyVersion,
  sha256: hex64,
  bytes: z.number().int().min(1),
  signedAt: isoTime,
  signature: SignatureSchema,
}).strict();
export type BundleSignatureFile = z.infer<typeof BundleSignatureFileSchema>;

/** Where a published version came from (for the audit trail; set by CI). */
export const SourceInfoSchema = z.object({
  repository: z.string().max(512).optional(),
  commit: z.string().max(128).optional(),
  ref: z.string().max(512).optional(),
  runUrl: z.string().max(2048).optional(),
}).strict();
export type SourceInfo = z.infer<typeof SourceInfoSchema>;

/** `current.json` payload: which bundle every agent and the engine should enforce. */
export const PointerSchema = z.object({
  kind: z.literal('pointer'),
  /** grows by one per publish; a reader refuses a pointer older than one it already accepted (rollback). */
  sequence: z.number().int().min(1),
  policyVersion,
  bundle: z.string().max(256),
  signature: z.string().max(256),
  sha256: hex64,
  bytes: z.number().int().min(1),
  publishedAt: isoTime,
  publishedBy: actor,
  previous: policyVersion.nullable(),
  source: SourceInfoSchema.optional(),
}).strict();
export type Pointer = z.infer<typeof PointerSchema>;

export const KillSwitchSchema = z.object({
  /** true: every agent runs in monitor mode (observes and reports, never blocks), whatever the rules say. */
  engaged: z.boolean(),
  reason: z.string().max(1024),
}).strict();
export type KillSwitch = z.infer<typeof KillSwitchSchema>;

/** `control.json` payload: operational switches that apply without a new bundle. */
export const ControlSchema = z.object({
  kind: z.literal('control'),
  sequence: z.number().int().min(1),
  updatedAt: isoTime,
  updatedBy: actor,
  killSwitch: KillSwitchSchema,
}).strict();
export type Control = z.infer<typeof ControlSchema>;

/** Most exceptions one function's document holds (a larger set is refused at publish, with the reason). */
export const MAX_EXCEPTIONS_PER_FUNCTION = 1000;

/** One approved, time-bound exception as agents receive it (engine/handler/exception-match.ts matches it). */
export const ExceptionGrantSchema = z.object({
  exceptionId: z.string().min(1).max(256),
  approvalId: z.string().min(1).max(256).optional(),
  grantedBy: z.string().max(256).optional(),
  /** the exact access that was approved: literal values, never patterns */
  access: AccessSchema,
  expiresAt: isoTime,
}).strict();
export type ExceptionGrant = z.infer<typeof ExceptionGrantSchema>;

/**
 * `exceptions/<function>.json` payload: the active exceptions of ONE function. The function name is
 * signed (a document cannot be copied to another function's key) and `sequence` only grows (an
 * older document cannot be replayed over a newer one).
 */
export const ExceptionsDocSchema = z.object({
  kind: z.literal('exceptions'),
  functionName: z.string().min(1).max(256),
  sequence: z.number().int().min(1),
  publishedAt: isoTime,
  publishedBy: actor,
  exceptions: z.array(ExceptionGrantSchema).max(MAX_EXCEPTIONS_PER_FUNCTION),
}).strict();
export type ExceptionsDoc = z.infer<typeof ExceptionsDocSchema>;

/** A signed JSON document: the payload is kept as the exact signed text. */
export const SignedEnvelopeSchema = z.object({
  format: z.literal('warden.signed/v1'),
  kind: z.enum(['pointer', 'control', 'exceptions']),
  payload: z.string().min(2).max(1_048_576),
  signature: SignatureSchema,
}).strict();

export type EnvelopeKind = 'pointer' | 'control' | 'exceptions';
const PAYLOAD = { pointer: PointerSchema, control: ControlSchema, exceptions: ExceptionsDocSchema } as const;
type PayloadOf<K extends EnvelopeKind> = z.infer<(typeof PAYLOAD)[K]>;

export async function encodeSigned<K extends EnvelopeKind>(kind: K, payload: PayloadOf<K>, signer: Signer): Promise<Uint8Array> {
  const text = JSON.stringify(PAYLOAD[kind].parse(payload));
  const signature = await signer.sign(kind, sha256Hex(text));
  return Buffer.from(JSON.stringify({ format: 'warden.signed/v1', kind, payload: text, signature }, null, 2) + '\n', 'utf8');
}

function describe(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.join('.') || '(document)'}: ${i.message}`).join('; ');
}

export function parseJson(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (cause) {
    throw new DocumentError(`${what} is not valid UTF-8 JSON (corrupted or truncated upload?): ${(cause as Error).message}`, { cause });
  }
}

/** Parses and verifies a signed document: SignatureError or DocumentError unless it is exactly what was signed. */
export function decodeSigned<K extends EnvelopeKind>(kind: K, bytes: Uint8Array, verifier: Verifier, where: string): PayloadOf<K> {
  const raw = parseJson(bytes, where);
  const env = SignedEnvelopeSchema.safeParse(raw);
  if (!env.success) throw new DocumentError(`${where} is not a signed ${kind} document (${describe(env.error)}); re-publish it with warden`);
  if (env.data.kind !== kind) throw new DocumentError(`${where} holds a ${env.data.kind} document where a ${kind} is expected`);
  verifier.verify(kind, env.data.payload, env.data.signature);
  let payload: unknown;
  try {
    payload = JSON.parse(env.data.payload);
  } catch (cause) {
    throw new DocumentError(`${where}: the signed payload is not JSON`, { cause });
  }
  const parsed = PAYLOAD[kind].safeParse(payload);
  if (!parsed.success) throw new DocumentError(`${where}: the signed ${kind} is invalid (${describe(parsed.error)})`);
  return parsed.data as PayloadOf<K>;
}

export function parseBundleSignatureFile(bytes: Uint8Array, where: string): BundleSignatureFile {
  const parsed = BundleSignatureFileSchema.safeParse(parseJson(bytes, where));
  if (!parsed.success) throw new DocumentError(`${where} is not a bundle signature file (${describe(parsed.error)})`);
  return parsed.data;
}
