import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeSigned, PointerSchema, SignedEnvelopeSchema, type ExceptionGrant, type SourceInfo } from './documents';
import { ConfigError, DistributionError } from './errors';
import { createPolicySource, type BundleLoader, type Clock, type PolicySourceEvent } from './policy-source';
import { publishBundle, rollbackTo, setKillSwitch, type PublishResult } from './publish';
import { exceptionKeysFromEnv } from './runtime';
import { createLocalSigner, createVerifier, generateSigningKeyPair, type Signer } from './signing';
import { exceptionsKey, openStore, POINTER_KEY, type PolicyStore } from './store';

/**
 * The actions behind `warden rules publish|rollback|status`, `warden killswitch` and
 * `warden keys`. Each returns an exit code and writes through `io`, so tests call them directly.
 */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  env: Record<string, string | undefined>;
  clock: Clock;
}

export interface StoreOptions { store?: string; region?: string; bucketOwner?: string }
export interface SignerOptions extends StoreOptions { key?: string; kmsKeyId?: string }
export interface TrustOptions { publicKey?: string }

export function storeUrl(opts: StoreOptions, env: CliIo['env']): string {
  const url = opts.store ?? env.WARDEN_POLICY_STORE;
  if (!url) throw new ConfigError('no store given: pass --store s3://BUCKET/PREFIX (or a directory), or set WARDEN_POLICY_STORE');
  return url;
}

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (cause) {
    throw new ConfigError(`cannot read ${what} ${file}: ${(cause as Error).message}`, { cause });
  }
}

/** A local key (--key / WARDEN_SIGNING_KEY_FILE / WARDEN_SIGNING_KEY) or a KMS key (--kms-key-id / WARDEN_KMS_KEY_ID), never both. */
export async function resolveSigner(opts: SignerOptions, env: CliIo['env']): Promise<Signer> {
  const keyFile = opts.key ?? env.WARDEN_SIGNING_KEY_FILE;
  const keyPem = keyFile ? undefined : env.WARDEN_SIGNING_KEY;
  const kmsKeyId = opts.kmsKeyId ?? env.WARDEN_KMS_KEY_ID;
  const local = keyFile ?? keyPem;
  if (local && kmsKeyId) throw new ConfigError('both a local signing key and a KMS key are given: choose one (--key FILE or --kms-key-id ID)');
  if (keyFile) return createLocalSigner(readText(keyFile, 'signing key'), `local key ${keyFile}`);
  if (keyPem) return createLocalSigner(keyPem, 'local key from WARDEN_SIGNING_KEY');
  if (kmsKeyId) {
    const { KMSClient } = await import('@aws-sdk/client-kms');
    const { createKmsSigner } = await import('./kms-signer');
    return createKmsSigner({ client: new KMSClient(opts.region ? { region: opts.region } : {}), kmsKeyId });
  }
  throw new ConfigError('no signing key: pass --kms-key-id ID (on AWS) or --key FILE (a local key from `warden keys generate`), or set WARDEN_KMS_KEY_ID / WARDEN_SIGNING_KEY_FILE');
}

/** Trusted public keys: --public-key FILE, WARDEN_POLICY_PUBLIC_KEY (PEM) or WARDEN_POLICY_PUBLIC_KEY_FILE. */
export function resolveTrustedKeys(opts: TrustOptions, env: CliIo['env'], required: boolean): string | undefined {
  if (opts.publicKey) return readText(opts.publicKey, 'public key');
  if (env.WARDEN_POLICY_PUBLIC_KEY) return env.WARDEN_POLICY_PUBLIC_KEY;
  if (env.WARDEN_POLICY_PUBLIC_KEY_FILE) return readText(env.WARDEN_POLICY_PUBLIC_KEY_FILE, 'public key');
  if (required) throw new ConfigError('no trusted public key: pass --public-key FILE or set WARDEN_POLICY_PUBLIC_KEY (what agents are configured with)');
  return undefined;
}

/** Who publishes and from where: CI fills these in from its environment (GitHub Actions shown). */
export function sourceInfo(opts: { sourceRepo?: string; sourceCommit?: string; sourceRef?: string }, env: CliIo['env']): SourceInfo | undefined {
  const runUrl = env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID
    ? `${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}` : undefined;
  const info: SourceInfo = {
    ...(opts.sourceRepo ?? env.GITHUB_REPOSITORY ? { repository: opts.sourceRepo ?? env.GITHUB_REPOSITORY } : {}),
    ...(opts.sourceCommit ?? env.GITHUB_SHA ? { commit: opts.sourceCommit ?? env.GITHUB_SHA } : {}),
    ...(opts.sourceRef ?? env.GITHUB_REF ? { ref: opts.sourceRef ?? env.GITHUB_REF } : {}),
    ...(runUrl ? { runUrl } : {}),
  };
  return Object.keys(info).length > 0 ? info : undefined;
}

export function actor(by: string | undefined, env: CliIo['env']): string {
  return by ?? env.WARDEN_PUBLISHED_BY ?? env.GITHUB_ACTOR ?? env.USER ?? 'unknown';
}

function report(io: CliIo, json: boolean, result: object, line: string): void {
  io.out(json ? `${JSON.stringify(result)}\n` : `${line}\n`);
}

function describePublish(r: PublishResult, verb: string): string {
  return r.unchanged
    ? `${r.store}: ${r.policyVersion} is already current (pointer #${r.sequence}); nothing moved`
    : `${verb} ${r.policyVersion} to ${r.store} (pointer #${r.sequence}, previous ${r.previous ?? 'none'}); agents and the engine switch on their next refresh`;
}

/** Runs an action: DistributionErrors become one clear line on stderr and exit 1. */
export async function guarded(io: CliIo, command: string, fn: () => Promise<number>): Promise<number> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof DistributionError) {
      io.err(`warden ${command}: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

export interface PublishCliOptions extends SignerOptions, TrustOptions {
  by?: string; sourceRepo?: string; sourceCommit?: string; sourceRef?: string; force?: boolean; json?: boolean;
}

/** A bundle file as written by `warden rules bundle`, or a rules directory compiled into one now. */
export async function readBundleInput(path: string): Promise<Uint8Array> {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (cause) {
    throw new ConfigError(`cannot read ${path}: ${(cause as Error).message} (pass the file from \`warden rules bundle\` or the rules directory)`, { cause });
  }
  if (!isDir) return readFileSync(path);
  const { loadRulesDir, compilePolicy, toBundle } = await import('../policy');
  try {
    return Buffer.from(JSON.stringify(toBundle(compilePolicy(await loadRulesDir(path)))), 'utf8');
  } catch (cause) {
    throw new DistributionError(`the rules in ${path} do not compile, nothing was published: ${(cause as Error).message}`, { cause });
  }
}

export async function runPublish(bundleFile: string, opts: PublishCliOptions, io: CliIo, loadBundle: BundleLoader): Promise<number> {
  return guarded(io, 'rules publish', async () => {
    const bundle = await readBundleInput(bundleFile);
    const store = await openStore(storeUrl(opts, io.env), { region: opts.region, expectedBucketOwner: opts.bucketOwner ?? io.env.WARDEN_POLICY_BUCKET_OWNER });
    const signer = await resolveSigner(opts, io.env);
    const trusted = resolveTrustedKeys(opts, io.env, false);
    const source = sourceInfo(opts, io.env);
    const result = await publishBundle({
      store, signer, clock: io.clock, bundle, loadBundle, publishedBy: actor(opts.by, io.env),
      ...(trusted ? { trustedPublicKeys: trusted } : {}), ...(source ? { source } : {}), force: opts.force ?? false,
    });
    report(io, opts.json ?? false, result, describePublish(result, 'published'));
    return 0;
  });
}

export async function runRollback(policyVersion: string, opts: PublishCliOptions, io: CliIo, loadBundle: BundleLoader): Promise<number> {
  return guarded(io, 'rules rollback', async () => {
    const store = await openStore(storeUrl(opts, io.env), { region: opts.region, expectedBucketOwner: opts.bucketOwner ?? io.env.WARDEN_POLICY_BUCKET_OWNER });
    const signer = await resolveSigner(opts, io.env);
    const trusted = resolveTrustedKeys(opts, io.env, false);
    const result = await rollbackTo({
      store, signer, clock: io.clock, policyVersion, loadBundle, publishedBy: actor(opts.by, io.env),
      ...(trusted ? { trustedPublicKeys: trusted } : {}),
    });
    report(io, opts.json ?? false, result, describePublish(result, 'rolled back to'));
    return 0;
  });
}

export interface StoreStatus {
  store: string;
  /** what an agent starting now would enforce (null: nothing it can use). */
  policyVersion: string | null;
  sequence: number | null;
  publishedAt: string | null;
  publishedBy: string | null;
  source: SourceInfo | null;
  killSwitch: { engaged: boolean; reason: string };
  problems: Array<{ what: string; reason: string; message: string }>;
}

/** Loads the store exactly as an agent would and reports what it would enforce and what it would reject. */
export async function storeStatus(store: PolicyStore, trustedKeys: string, loadBundle: BundleLoader, clock: Clock): Promise<StoreStatus> {
  const events: PolicySourceEvent[] = [];
  const source = createPolicySource({ store, verifier: createVerifier(trustedKeys), loadBundle, clock, refreshMs: 0, onEvent: (e) => events.push(e) });
  const outcome = await source.refresh();
  let pointer: ReturnType<typeof PointerSchema.parse> | undefined;
  if (outcome.policyVersion) {
    const raw = await store.get(POINTER_KEY);
    const env = raw ? SignedEnvelopeSchema.safeParse(JSON.parse(Buffer.from(raw.body).toString('utf8'))) : undefined;
    const parsed = env?.success ? PointerSchema.safeParse(JSON.parse(env.data.payload)) : undefined;
    if (parsed?.success && parsed.data.policyVersion === outcome.policyVersion) pointer = parsed.data;
  }
  return {
    store: store.url,
    policyVersion: outcome.policyVersion,
    sequence: pointer?.sequence ?? null,
    publishedAt: pointer?.publishedAt ?? null,
    publishedBy: pointer?.publishedBy ?? null,
    source: pointer?.source ?? null,
    killSwitch: { ...source.killSwitch },
    problems: outcome.problems.map(({ what, reason, message }) => ({ what, reason, message })),
  };
}

export async function runStatus(opts: StoreOptions & TrustOptions & { json?: boolean }, io: CliIo, loadBundle: BundleLoader): Promise<number> {
  return guarded(io, 'rules status', async () => {
    const store = await openStore(storeUrl(opts, io.env), { region: opts.region, expectedBucketOwner: opts.bucketOwner ?? io.env.WARDEN_POLICY_BUCKET_OWNER });
    const status = await storeStatus(store, resolveTrustedKeys(opts, io.env, true)!, loadBundle, io.clock);
    if (opts.json) {
      io.out(`${JSON.stringify(status)}\n`);
    } else {
      const lines = [
        `store:       ${status.store}`,
        `current:     ${status.policyVersion ?? 'NONE (agents starting now have no policy from the store)'}`,
        ...(status.sequence !== null ? [`pointer:     #${status.sequence}, published ${status.publishedAt} by ${status.publishedBy}`] : []),
        ...(status.source ? [`source:      ${[status.source.repository, status.source.commit, status.source.ref].filter(Boolean).join(' ')}`] : []),
        `kill switch: ${status.killSwitch.engaged ? `ENGAGED (every function in monitor mode): ${status.killSwitch.reason}` : 'off'}`,
        ...status.problems.map((p) => `problem:     ${p.what} ${p.reason}: ${p.message}`),
      ];
      io.out(`${lines.join('\n')}\n`);
    }
    return status.policyVersion && status.problems.length === 0 ? 0 : 1;
  });
}

export async function runKillSwitch(action: 'on' | 'off', opts: SignerOptions & { reason?: string; by?: string; json?: boolean }, io: CliIo): Promise<number> {
  return guarded(io, `killswitch ${action}`, async () => {
    const store = await openStore(storeUrl(opts, io.env), { region: opts.region, expectedBucketOwner: opts.bucketOwner ?? io.env.WARDEN_POLICY_BUCKET_OWNER });
    const signer = await resolveSigner(opts, io.env);
    const r = await setKillSwitch({
      store, signer, clock: io.clock, engaged: action === 'on', reason: opts.reason ?? (action === 'off' ? 'released' : ''), updatedBy: actor(opts.by, io.env),
    });
    const line = !r.changed
      ? `${r.store}: the kill switch is already ${r.killSwitch.engaged ? 'engaged' : 'off'}; nothing changed`
      : r.killSwitch.engaged
        ? `kill switch ENGAGED in ${r.store} (#${r.sequence}): every agent switches to monitor mode on its next refresh; release with \`warden killswitch off\``
        : `kill switch released in ${r.store} (#${r.sequence}): agents return to the modes their rules set on their next refresh`;
    report(io, opts.json ?? false, r, line);
    return 0;
  });
}

export async function runKillSwitchStatus(opts: StoreOptions & TrustOptions & { json?: boolean }, io: CliIo, loadBundle: BundleLoader): Promise<number> {
  return guarded(io, 'killswitch status', async () => {
    const store = await openStore(storeUrl(opts, io.env), { region: opts.region, expectedBucketOwner: opts.bucketOwner ?? io.env.WARDEN_POLICY_BUCKET_OWNER });
    const status = await storeStatus(store, resolveTrustedKeys(opts, io.env, true)!, loadBundle, io.clock);
    const control = status.problems.filter((p) => p.what === 'control');
    if (opts.json) io.out(`${JSON.stringify({ store: status.store, killSwitch: status.killSwitch, problems: control })}\n`);
    else {
      io.out(`${status.killSwitch.engaged ? `ENGAGED: ${status.killSwitch.reason}` : 'off'}\n`);
      for (const p of control) io.out(`problem: ${p.reason}: ${p.message}\n`);
    }
    return control.length === 0 ? 0 : 1;
  });
}

export async function runKeysGenerate(opts: { out: string; type?: string; json?: boolean }, io: CliIo): Promise<number> {
  return guarded(io, 'keys generate', async () => {
    const type = opts.type ?? 'ed25519';
    if (type !== 'ed25519' && type !== 'ecdsa-p256') throw new ConfigError(`unknown key type "${type}": use ed25519 (default) or ecdsa-p256`);
    const privateFile = join(opts.out, 'warden-signing.key');
    const publicFile = join(opts.out, 'warden-signing.pub');
    for (const f of [privateFile, publicFile]) {
      if (existsSync(f)) throw new ConfigError(`${f} already exists: refusing to overwrite a key (move it away first)`);
    }
    const pair = generateSigningKeyPair(type);
    mkdirSync(opts.out, { recursive: true });
    writeFileSync(privateFile, pair.privateKeyPem, { mode: 0o600, flag: 'wx' });
    writeFileSync(publicFile, pair.publicKeyPem, { mode: 0o644, flag: 'wx' });
    const result = { privateKey: privateFile, publicKey: publicFile, keyId: pair.keyId, algorithm: pair.algorithm };
    report(io, opts.json ?? false, result, [
      `wrote ${privateFile} (private: keep it secret, give it to the publisher only)`,
      `wrote ${publicFile} (public: set WARDEN_POLICY_PUBLIC_KEY to its content in agents and the engine)`,
      `key id ${pair.keyId} (${pair.algorithm})`,
    ].join('\n'));
    return 0;
  });
}

export async function runKeysPublic(opts: { kmsKeyId?: string; region?: string; out?: string }, io: CliIo): Promise<number> {
  return guarded(io, 'keys public', async () => {
    const kmsKeyId = opts.kmsKeyId ?? io.env.WARDEN_KMS_KEY_ID;
    if (!kmsKeyId) throw new ConfigError('pass --kms-key-id ID (or set WARDEN_KMS_KEY_ID): the KMS signing key whose public key agents should trust');
    const { KMSClient } = await import('@aws-sdk/client-kms');
    const { fetchKmsPublicKeyPem } = await import('./kms-signer');
    const pem = await fetchKmsPublicKeyPem(new KMSClient(opts.region ? { region: opts.region } : {}), kmsKeyId);
    if (opts.out) {
      writeFileSync(opts.out, pem);
      io.err(`wrote ${opts.out}\n`);
    } else {
      io.out(pem);
    }
    return 0;
  });
}

export async function runCodeOwners(dir: string, opts: { repoRoot?: string; write?: boolean; json?: boolean }, io: CliIo): Promise<number> {
  return guarded(io, 'rules codeowners', async () => {
    const { checkCodeOwnersDir, writeCodeOwners } = await import('./codeowners');
    const options = opts.repoRoot ? { repoRoot: opts.repoRoot } : {};
    let report;
    if (opts.write) {
      const written = await writeCodeOwners(dir, options);
      io.err(written.changed ? `wrote the Warden section of ${written.file}\n` : `${written.file} is up to date\n`);
      report = written.report;
    } else {
      report = await checkCodeOwnersDir(dir, options);
    }
    if (opts.json) io.out(`${JSON.stringify({ declared: report.declared, findings: report.findings })}\n`);
    else if (!report.declared) io.out(`no owners.yaml in ${dir}: code owners are not checked\n`);
    else for (const f of report.findings) io.out(`${f.severity}: ${f.file}: ${f.message}\n`);
    return report.findings.some((f) => f.severity === 'error') ? 1 : 0;
  });
}

export interface ExceptionsStatus {
  store: string;
  functionName: string;
  /** null: no document published for this function (agents allow no exception) */
  sequence: number | null;
  publishedAt: string | null;
  publishedBy: string | null;
  /** every grant in the document, with whether it is in force now */
  exceptions: (ExceptionGrant & { active: boolean })[];
}

/**
 * `warden exceptions status --function NAME`: the function's signed exceptions document read and
 * verified exactly as its agent would (exceptions key, kind, signed function name). A document
 * that does not verify is an error (exit 1): agents ignore it and keep their last good set.
 */
export async function runExceptionsStatus(opts: StoreOptions & TrustOptions & { function: string; json?: boolean }, io: CliIo): Promise<number> {
  return guarded(io, 'exceptions status', async () => {
    const functionName = opts.function;
    if (!functionName) throw new ConfigError('--function NAME is required (the protected function whose exceptions to show)');
    const keys = opts.publicKey ? readText(opts.publicKey, 'public key') : exceptionKeysFromEnv(io.env);
    if (!keys) throw new ConfigError('no exceptions public key: pass --public-key FILE or set WARDEN_EXCEPTIONS_PUBLIC_KEY (what agents are configured with)');
    const store = await openStore(storeUrl(opts, io.env), { region: opts.region, expectedBucketOwner: opts.bucketOwner ?? io.env.WARDEN_POLICY_BUCKET_OWNER });
    const key = exceptionsKey(functionName);
    const where = `${store.url}/${key}`;
    const obj = await store.get(key);
    const status: ExceptionsStatus = { store: store.url, functionName, sequence: null, publishedAt: null, publishedBy: null, exceptions: [] };
    if (obj) {
      const doc = decodeSigned('exceptions', obj.body, createVerifier(keys), where);
      if (doc.functionName !== functionName) {
        throw new DistributionError(`${where} holds the exceptions of ${JSON.stringify(doc.functionName)}, not of ${JSON.stringify(functionName)}; agents ignore it`);
      }
      const now = io.clock.now();
      Object.assign(status, { sequence: doc.sequence, publishedAt: doc.publishedAt, publishedBy: doc.publishedBy });
      status.exceptions = doc.exceptions.map((g) => ({ ...g, active: Date.parse(g.expiresAt) > now }));
    }
    if (opts.json) {
      io.out(`${JSON.stringify(status)}\n`);
      return 0;
    }
    const describe = (g: ExceptionGrant): string => {
      const a = g.access;
      const what = a.kind === 'aws' ? `aws ${a.service}:${a.action}${a.resource ? ` ${a.resource}` : ''}` : `${a.kind} ${a.host ?? a.address ?? '?'}${a.port !== undefined ? `:${a.port}` : ''}`;
      return `${what}  until ${g.expiresAt}${g.grantedBy ? `  granted by ${g.grantedBy}` : ''}  (${g.exceptionId})`;
    };
    const lines = [
      `store:      ${status.store}`,
      `function:   ${functionName}`,
      status.sequence === null
        ? 'document:   NONE (no exception published: agents allow none)'
        : `document:   #${status.sequence}, published ${status.publishedAt} by ${status.publishedBy}`,
      ...status.exceptions.map((g) => `${g.active ? 'in force:' : 'expired: '}   ${describe(g)}`),
    ];
    io.out(`${lines.join('\n')}\n`);
    return 0;
  });
}
