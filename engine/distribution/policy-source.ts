import type { Mode } from '../events/access-event';
import { exceptionLookup, NO_EXCEPTIONS, type ExceptionLookup } from '../handler/exception-match';
import type { CompiledPolicy } from '../policy/types';
import { decodeSigned, parseBundleSignatureFile, type Control, type ExceptionGrant, type ExceptionsDoc, type KillSwitch, type Pointer } from './documents';
import { DistributionError, DocumentError, PolicyUnavailableError, SignatureError, StoreError } from './errors';
import { createVerifier, sha256Hex, type Verifier } from './signing';
import { CONTROL_KEY, exceptionsKey, POINTER_KEY, type PolicyStore } from './store';

/**
 * The verifying policy source used by the agent and the rules engine: loads the current bundle
 * at start, refreshes it in the background, and only ever swaps in a bundle whose pointer and
 * signature verify, whose bytes match, and which compiles to the version it claims. Anything
 * else is reported and the last good policy keeps enforcing. It never hands out "no policy".
 */

/** Turns bundle text (what `warden rules bundle` writes) into a policy; throws when it cannot. */
export type BundleLoader<P extends CompiledPolicy = CompiledPolicy> = (text: string, where: string) => P;

export interface Clock { now(): number }

export type RejectReason =
  | 'store-unreachable' // the store could not be read
  | 'missing'           // no pointer, or the bundle it names is absent
  | 'unsigned'          // no signature, or a document without one
  | 'bad-signature'     // signature invalid, from an untrusted key, or for other content
  | 'corrupt'           // malformed JSON/document, or bytes that do not match their digest
  | 'compile-failed'    // the bundle verified but does not load as a policy
  | 'version-mismatch'  // the bundle compiles to another version than the pointer names
  | 'rollback'          // a pointer/control/exceptions document older than one already accepted
  | 'misplaced';        // an exceptions document signed for another function

export type RejectedWhat = 'pointer' | 'bundle' | 'control' | 'exceptions';

export type PolicySourceEvent =
  | { type: 'loaded'; policyVersion: string; previousVersion: string | null; sequence: number | null; from: 'store' | 'initial' }
  | { type: 'rejected'; what: RejectedWhat; reason: RejectReason; message: string; keptVersion: string | null; policyVersion?: string }
  | { type: 'kill-switch'; engaged: boolean; reason: string; sequence: number | null; updatedBy: string | null }
  /** the function's set of approved exceptions changed (a newer verified document, or none any more). */
  | { type: 'exceptions'; functionName: string; sequence: number | null; count: number };

/**
 * The approved exceptions of the source's function in force: a lookup for the agent's decision
 * path (exact match, expiry against the caller's clock) plus where it came from.
 */
export interface ExceptionSet extends ExceptionLookup {
  readonly functionName: string;
  /** sequence of the verified document; null when there is none */
  readonly sequence: number | null;
  readonly grants: readonly ExceptionGrant[];
}

export interface PolicySnapshot<P extends CompiledPolicy = CompiledPolicy> {
  /** the policy to decide with; its `modeFor` answers `monitor` while the kill switch is engaged. */
  readonly policy: P;
  readonly policyVersion: string;
  /** pointer sequence it came from; null for the packaged initial policy. */
  readonly sequence: number | null;
  readonly killSwitch: KillSwitch;
  readonly from: 'store' | 'initial';
  /** epoch ms (injected clock) when this bundle was swapped in. */
  readonly loadedAt: number;
}

export interface RefreshOutcome {
  changed: boolean;
  /** the function's exceptions changed (only with the `exceptions` option). */
  exceptionsChanged: boolean;
  policyVersion: string | null;
  problems: Array<Extract<PolicySourceEvent, { type: 'rejected' }>>;
}

export interface PolicySourceOptions<P extends CompiledPolicy = CompiledPolicy> {
  store: PolicyStore;
  /** trusted public keys (PEM / base64 DER / KeyObject, several during a rotation) or a ready verifier. */
  publicKey?: Parameters<typeof createVerifier>[0];
  verifier?: Verifier;
  loadBundle: BundleLoader<P>;
  /** background refresh interval; default 60 000 ms; 0 disables the timer (refresh on use still applies). */
  refreshMs?: number;
  clock?: Clock;
  onEvent?: (event: PolicySourceEvent) => void;
  /** policy packaged with the deployment: used until the store answers, and if it never does. */
  initial?: P;
  /** when `current()` finds the policy older than refreshMs, start a refresh in the background (Lambda freezes timers). Default true. */
  refreshOnUse?: boolean;
  timers?: { setTimeout: (fn: () => void, ms: number) => unknown; clearTimeout: (handle: unknown) => void };
  /**
   * Also fetch this function's signed exceptions document (`exceptions/<function>.json`) on every
   * refresh. Verified with `publicKey`/`verifier` here (the exceptions signing key), else with the
   * policy keys. Missing: no exceptions. Bad: the last good set stays and the reason is reported.
   */
  exceptions?: { functionName: string; publicKey?: Parameters<typeof createVerifier>[0]; verifier?: Verifier };
}

export interface PolicySource<P extends CompiledPolicy = CompiledPolicy> {
  /** first load; resolves with the policy in force, rejects with PolicyUnavailableError when there is none. */
  start(): Promise<PolicySnapshot<P>>;
  /** the policy to decide with now: take it once per decision (or batch) and decide with that object. */
  current(): P;
  /** the whole state, consistent: policy, version, kill switch. Throws PolicyUnavailableError when none. */
  snapshot(): PolicySnapshot<P>;
  readonly version: string | null;
  readonly killSwitch: KillSwitch;
  /** the function's approved exceptions in force (empty without the `exceptions` option or a document). */
  exceptions(): ExceptionSet;
  /** one refresh now (joins a refresh already running). */
  refresh(): Promise<RefreshOutcome>;
  stop(): void;
}

export const DEFAULT_REFRESH_MS = 60_000;
const KILL_SWITCH_OFF: KillSwitch = Object.freeze({ engaged: false, reason: '' });

class Rejected extends DistributionError {
  constructor(readonly what: RejectedWhat, readonly reason: RejectReason, message: string, readonly policyVersion?: string) {
    super(message);
    this.name = 'Rejected';
  }
}

function classify(err: unknown, what: RejectedWhat, policyVersion?: string): Rejected {
  if (err instanceof Rejected) return err;
  const message = (err as Error)?.message ?? String(err);
  if (err instanceof StoreError) return new Rejected(what, 'store-unreachable', message, policyVersion);
  if (err instanceof SignatureError) return new Rejected(what, /malformed/.test(message) ? 'unsigned' : 'bad-signature', message, policyVersion);
  if (err instanceof DocumentError) {
    return new Rejected(what, /signature: (Invalid input|expected object)|"signature"/.test(message) ? 'unsigned' : 'corrupt', message, policyVersion);
  }
  return new Rejected(what, 'corrupt', message, policyVersion);
}

/**
 * The policy as agents see it while the kill switch is engaged: same decisions and version, every
 * function in monitor mode. Everything else the policy object offers stays reachable (prototype).
 */
function monitorOnly<P extends CompiledPolicy>(policy: P): P {
  return Object.create(policy, { modeFor: { value: (): Mode => 'monitor', enumerable: false } }) as P;
}

export function createPolicySource<P extends CompiledPolicy = CompiledPolicy>(options: PolicySourceOptions<P>): PolicySource<P> {
  const verifier = options.verifier ?? (options.publicKey !== undefined ? createVerifier(options.publicKey) : undefined);
  if (!verifier) throw new DistributionError('createPolicySource needs `publicKey` (the trusted public key PEM) or `verifier`: bundles are never used unverified');
  const { store, loadBundle } = options;
  const refreshMs = options.refreshMs ?? DEFAULT_REFRESH_MS;
  if (!Number.isInteger(refreshMs) || refreshMs < 0) throw new DistributionError(`refreshMs must be a whole number of milliseconds ≥ 0, got ${refreshMs}`);
  const clock = options.clock ?? { now: () => Date.now() };
  const timers = options.timers ?? { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) };
  const refreshOnUse = options.refreshOnUse ?? true;
  const exceptionsFor = options.exceptions;
  const exceptionsVerifier = exceptionsFor
    ? exceptionsFor.verifier ?? (exceptionsFor.publicKey !== undefined ? createVerifier(exceptionsFor.publicKey) : verifier)
    : undefined;
  const exceptionsDocKey = exceptionsFor ? exceptionsKey(exceptionsFor.functionName) : undefined;

  // All mutable state: `state` is replaced whole, never edited, so a reader sees one consistent version.
  interface State { base: P; effective: P; sequence: number | null; from: 'store' | 'initial'; loadedAt: number; killSwitch: KillSwitch }
  let state: State | undefined;
  let pointerSeq = 0;
  let controlSeq = 0;
  let killSwitch: KillSwitch = KILL_SWITCH_OFF;
  const noExceptions = (functionName: string): ExceptionSet => Object.freeze({ functionName, sequence: null, grants: [], size: 0, find: NO_EXCEPTIONS.find });
  let exceptionSet: ExceptionSet = noExceptions(exceptionsFor?.functionName ?? '');
  let exceptionsSeq = 0;
  let knownBad: { key: string; rejected: Rejected } | undefined;
  let inflight: Promise<RefreshOutcome> | undefined;
  let lastAttempt = Number.NEGATIVE_INFINITY;
  let timer: unknown;
  let running = false;

  const emit = (event: PolicySourceEvent): void => {
    try {
      options.onEvent?.(event);
    } catch {
      // a failing reporter must not stop enforcement
    }
  };

  const install = (base: P, sequence: number | null, from: 'store' | 'initial'): void => {
    state = { base, effective: killSwitch.engaged ? monitorOnly(base) : base, sequence, from, loadedAt: clock.now(), killSwitch };
  };

  if (options.initial) {
    install(options.initial, null, 'initial');
    emit({ type: 'loaded', policyVersion: options.initial.policyVersion, previousVersion: null, sequence: null, from: 'initial' });
  }

  async function readPointer(): Promise<Pointer | undefined> {
    let obj;
    try {
      obj = await store.get(POINTER_KEY);
    } catch (err) {
      throw classify(err, 'pointer');
    }
    if (!obj) throw new Rejected('pointer', 'missing', `no ${POINTER_KEY} in ${store.url}: nothing has been published yet (run \`warden rules publish\`)`);
    let pointer: Pointer;
    try {
      pointer = decodeSigned('pointer', obj.body, verifier!, `${store.url}/${POINTER_KEY}`);
    } catch (err) {
      throw classify(err, 'pointer');
    }
    if (pointer.sequence < pointerSeq) {
      throw new Rejected('pointer', 'rollback', `${store.url}/${POINTER_KEY} has sequence ${pointer.sequence}, older than ${pointerSeq} already accepted (replayed or rolled-back pointer); use \`warden rules rollback\` to go back to an older version`, pointer.policyVersion);
    }
    return pointer;
  }

  async function loadFromPointer(pointer: Pointer): Promise<P> {
    const v = pointer.policyVersion;
    const bundleWhere = `${store.url}/${pointer.bundle}`;
    let bundleObj, sigObj;
    try {
      [bundleObj, sigObj] = await Promise.all([store.get(pointer.bundle), store.get(pointer.signature)]);
    } catch (err) {
      throw classify(err, 'bundle', v);
    }
    if (!bundleObj) throw new Rejected('bundle', 'missing', `${bundleWhere} is missing although ${POINTER_KEY} names it`, v);
    if (!sigObj) throw new Rejected('bundle', 'unsigned', `${store.url}/${pointer.signature} is missing: the bundle ${v} is unsigned and was not used`, v);
    const digest = sha256Hex(bundleObj.body);
    if (digest !== pointer.sha256) {
      throw new Rejected('bundle', 'corrupt', `${bundleWhere} does not match the digest in ${POINTER_KEY} (sha256 ${digest} ≠ ${pointer.sha256}): tampered or corrupted`, v);
    }
    try {
      const sigFile = parseBundleSignatureFile(sigObj.body, `${store.url}/${pointer.signature}`);
      if (sigFile.policyVersion !== v) throw new SignatureError(`${store.url}/${pointer.signature} signs version ${sigFile.policyVersion}, not ${v}`);
      verifier!.verifyDigest('bundle', digest, sigFile.signature);
    } catch (err) {
      throw classify(err, 'bundle', v);
    }
    let policy: P;
    try {
      policy = loadBundle(new TextDecoder('utf-8', { fatal: true }).decode(bundleObj.body), bundleWhere);
    } catch (err) {
      throw new Rejected('bundle', 'compile-failed', `${bundleWhere} is signed but does not load: ${(err as Error).message}`, v);
    }
    if (policy.policyVersion !== v) {
      throw new Rejected('bundle', 'version-mismatch', `${bundleWhere} compiles to ${policy.policyVersion}, not the ${v} that ${POINTER_KEY} names (built by another Warden version?)`, v);
    }
    return policy;
  }

  async function refreshControl(): Promise<Rejected | undefined> {
    let control: Control | undefined;
    try {
      const obj = await store.get(CONTROL_KEY);
      if (obj) control = decodeSigned('control', obj.body, verifier!, `${store.url}/${CONTROL_KEY}`);
    } catch (err) {
      return classify(err, 'control');
    }
    if (control && control.sequence < controlSeq) {
      return new Rejected('control', 'rollback', `${store.url}/${CONTROL_KEY} has sequence ${control.sequence}, older than ${controlSeq} already accepted; ignored`);
    }
    // A missing control document means "no switch engaged" (the kill switch only ever relaxes blocking).
    const next = control ? control.killSwitch : KILL_SWITCH_OFF;
    if (control) controlSeq = control.sequence;
    if (next.engaged !== killSwitch.engaged || next.reason !== killSwitch.reason) {
      killSwitch = Object.freeze({ ...next });
      if (state) install(state.base, state.sequence, state.from);
      emit({ type: 'kill-switch', engaged: next.engaged, reason: next.reason, sequence: control?.sequence ?? null, updatedBy: control?.updatedBy ?? null });
    }
    return undefined;
  }

  /** The function's exceptions document: replaced only by a verified, newer one for this function. */
  async function refreshExceptions(): Promise<{ problem?: Rejected; changed: boolean }> {
    if (!exceptionsFor || !exceptionsDocKey) return { changed: false };
    const fn = exceptionsFor.functionName;
    const where = `${store.url}/${exceptionsDocKey}`;
    let doc: ExceptionsDoc | undefined;
    try {
      const obj = await store.get(exceptionsDocKey);
      if (obj) doc = decodeSigned('exceptions', obj.body, exceptionsVerifier!, where);
    } catch (err) {
      return { problem: classify(err, 'exceptions'), changed: false };
    }
    if (!doc) {
      // none published, or removed: no exceptions (an exception only ever relaxes blocking, so losing it fails closed)
      if (exceptionSet.sequence === null) return { changed: false };
      exceptionSet = noExceptions(fn);
      emit({ type: 'exceptions', functionName: fn, sequence: null, count: 0 });
      return { changed: true };
    }
    if (doc.functionName !== fn) {
      return { problem: new Rejected('exceptions', 'misplaced', `${where} holds the exceptions of ${JSON.stringify(doc.functionName)}, not of ${JSON.stringify(fn)} (copied from another function?); ignored, keeping ${exceptionSet.grants.length} exception(s)`), changed: false };
    }
    if (doc.sequence < exceptionsSeq) {
      return { problem: new Rejected('exceptions', 'rollback', `${where} has sequence ${doc.sequence}, older than ${exceptionsSeq} already accepted (replayed document); ignored, keeping ${exceptionSet.grants.length} exception(s)`), changed: false };
    }
    exceptionsSeq = doc.sequence;
    if (exceptionSet.sequence === doc.sequence) return { changed: false };
    const lookup = exceptionLookup(doc.exceptions);
    exceptionSet = Object.freeze({ functionName: fn, sequence: doc.sequence, grants: Object.freeze([...doc.exceptions]), size: lookup.size, find: lookup.find });
    emit({ type: 'exceptions', functionName: fn, sequence: doc.sequence, count: doc.exceptions.length });
    return { changed: true };
  }

  async function doRefresh(): Promise<RefreshOutcome> {
    lastAttempt = clock.now();
    const problems: Rejected[] = [];
    let changed = false;
    // Control, pointer (and exceptions) are fetched together: one round trip per refresh when nothing changed.
    const [controlProblem, read, exceptionsOutcome] = await Promise.all([
      refreshControl(),
      readPointer().then((pointer) => ({ pointer, error: undefined }), (error: unknown) => ({ pointer: undefined, error })),
      refreshExceptions(),
    ]);
    if (controlProblem) problems.push(controlProblem);
    if (exceptionsOutcome.problem) problems.push(exceptionsOutcome.problem);
    try {
      if (read.error !== undefined) throw read.error;
      const pointer = read.pointer;
      if (pointer) {
        // Same version as in force (also the packaged one: the version is the hash of the content), nothing to load.
        if (state && pointer.policyVersion === state.base.policyVersion) {
          pointerSeq = Math.max(pointerSeq, pointer.sequence);
          if (state.sequence !== pointer.sequence || state.from !== 'store') state = { ...state, sequence: pointer.sequence, from: 'store' };
        } else {
          const key = `${pointer.sequence}|${pointer.policyVersion}|${pointer.sha256}`;
          if (knownBad?.key === key) throw knownBad.rejected;
          let policy: P;
          try {
            policy = await loadFromPointer(pointer);
          } catch (err) {
            const rejected = classify(err, 'bundle', pointer.policyVersion);
            // Store outages are retried; a bad published bundle is not downloaded again until the pointer moves.
            if (rejected.reason !== 'store-unreachable') knownBad = { key, rejected };
            throw rejected;
          }
          const previousVersion = state?.base.policyVersion ?? null;
          pointerSeq = pointer.sequence;
          install(policy, pointer.sequence, 'store');
          changed = true;
          emit({ type: 'loaded', policyVersion: policy.policyVersion, previousVersion, sequence: pointer.sequence, from: 'store' });
        }
      }
    } catch (err) {
      problems.push(classify(err, 'pointer'));
    }
    const keptVersion = state?.base.policyVersion ?? null;
    const reported = problems.map((p) => ({
      type: 'rejected' as const, what: p.what, reason: p.reason, message: p.message, keptVersion,
      ...(p.policyVersion ? { policyVersion: p.policyVersion } : {}),
    }));
    for (const r of reported) emit(r);
    return { changed, exceptionsChanged: exceptionsOutcome.changed, policyVersion: keptVersion, problems: reported };
  }

  function refresh(): Promise<RefreshOutcome> {
    inflight ??= doRefresh().finally(() => { inflight = undefined; });
    return inflight;
  }

  function schedule(): void {
    if (!running || refreshMs === 0) return;
    timer = timers.setTimeout(() => {
      void refresh().finally(schedule);
    }, refreshMs);
    (timer as { unref?: () => void } | undefined)?.unref?.();
  }

  /** The state in force (hot path: no allocation); starts a background refresh when it is due. */
  function live(): State {
    const s = state;
    if (!s) {
      throw new PolicyUnavailableError(`no verified policy is loaded from ${store.url} and no packaged policy was given: decide deny until one loads (see the "rejected" events for why)`);
    }
    if (refreshOnUse && refreshMs > 0 && running && !inflight && clock.now() - lastAttempt >= refreshMs) void refresh();
    return s;
  }

  function snapshot(): PolicySnapshot<P> {
    const s = live();
    return { policy: s.effective, policyVersion: s.base.policyVersion, sequence: s.sequence, killSwitch: s.killSwitch, from: s.from, loadedAt: s.loadedAt };
  }

  return {
    async start() {
      if (!running) {
        running = true;
        await refresh();
        schedule();
      } else if (!state) {
        await refresh(); // a retry after a start that found no policy
      }
      return snapshot();
    },
    current: () => live().effective,
    snapshot,
    get version() { return state?.base.policyVersion ?? null; },
    get killSwitch() { return killSwitch; },
    exceptions: () => exceptionSet,
    refresh,
    stop() {
      running = false;
      if (timer !== undefined) timers.clearTimeout(timer);
      timer = undefined;
    },
  };
}
