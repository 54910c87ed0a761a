import { cpSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  runKeysGenerate, runKillSwitch, runKillSwitchStatus, runPublish, runRollback, runStatus, sourceInfo, type CliIo,
} from '../../engine/distribution/cli-actions';
import { loadTestBundle, makeBundle, manualClock, tempDir } from './helpers';

function io(env: Record<string, string | undefined> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const value: CliIo = { out: (s) => out.push(s), err: (s) => err.push(s), env, clock: manualClock() };
  return { io: value, out, err, text: () => out.join(''), errors: () => err.join('') };
}

describe('warden keys / rules publish / rules status / killswitch (actions)', () => {
  const v1 = makeBundle({ deny: ['evil.example'], mode: 'block' });
  const v2 = makeBundle({ deny: ['evil.example', 'paste.example'], mode: 'block' });

  async function workspace() {
    const dir = tempDir();
    const keysDir = join(dir, 'keys');
    const k = io();
    expect(await runKeysGenerate({ out: keysDir, json: true }, k.io)).toBe(0);
    const generated = JSON.parse(k.text()) as { privateKey: string; publicKey: string; keyId: string };
    writeFileSync(join(dir, 'v1.json'), v1.text);
    writeFileSync(join(dir, 'v2.json'), v2.text);
    const env = { WARDEN_POLICY_STORE: join(dir, 'store'), WARDEN_SIGNING_KEY_FILE: generated.privateKey, WARDEN_POLICY_PUBLIC_KEY_FILE: generated.publicKey };
    return { dir, env, generated };
  }

  it('generates a key pair with a private file only its owner can read, and never overwrites it', async () => {
    const { dir, generated } = await workspace();
    expect(statSync(generated.privateKey).mode & 0o777).toBe(0o600);
    expect(readFileSync(generated.publicKey, 'utf8')).toMatch(/BEGIN PUBLIC KEY/);
    const again = io();
    expect(await runKeysGenerate({ out: join(dir, 'keys') }, again.io)).toBe(1);
    expect(again.errors()).toMatch(/already exists: refusing to overwrite/);
  });

  it('publishes from the environment a CI job sets, then status shows what agents would enforce', async () => {
    const { dir, env } = await workspace();
    const ci = { ...env, GITHUB_REPOSITORY: 'acme/rules', GITHUB_SHA: 'abc123', GITHUB_REF: 'refs/heads/main', GITHUB_SERVER_URL: 'https://github.com', GITHUB_RUN_ID: '77', GITHUB_ACTOR: 'merge-bot' };
    const p = io(ci);
    expect(await runPublish(join(dir, 'v1.json'), { json: true }, p.io, loadTestBundle)).toBe(0);
    expect(JSON.parse(p.text())).toMatchObject({ policyVersion: v1.policyVersion, sequence: 1, unchanged: false });

    const s = io(env);
    expect(await runStatus({ json: true }, s.io, loadTestBundle)).toBe(0);
    expect(JSON.parse(s.text())).toMatchObject({
      policyVersion: v1.policyVersion, sequence: 1, publishedBy: 'merge-bot', problems: [], killSwitch: { engaged: false },
      source: { repository: 'acme/rules', commit: 'abc123', ref: 'refs/heads/main', runUrl: 'https://github.com/acme/rules/actions/runs/77' },
    });

    const human = io(env);
    await runPublish(join(dir, 'v2.json'), {}, human.io, loadTestBundle);
    expect(human.text()).toMatch(new RegExp(`published ${v2.policyVersion} .*pointer #2, previous ${v1.policyVersion}`));
    const again = io(env);
    await runPublish(join(dir, 'v2.json'), {}, again.io, loadTestBundle);
    expect(again.text()).toMatch(/already current .*nothing moved/);
  });

  it('status exits 1 and says why when agents would reject what is there', async () => {
    const { dir, env } = await workspace();
    const empty = io(env);
    expect(await runStatus({}, empty.io, loadTestBundle)).toBe(1);
    expect(empty.text()).toMatch(/current: +NONE[\s\S]*problem: +pointer missing/);

    await runPublish(join(dir, 'v1.json'), {}, io(env).io, loadTestBundle);
    const pointerFile = join(env.WARDEN_POLICY_STORE, 'current.json');
    writeFileSync(pointerFile, readFileSync(pointerFile, 'utf8').replace('"value": "', '"value": "AAAA'));
    const bad = io(env);
    expect(await runStatus({}, bad.io, loadTestBundle)).toBe(1);
    expect(bad.text()).toMatch(/problem: +pointer bad-signature/);
  });

  it('rolls back to an earlier version', async () => {
    const { dir, env } = await workspace();
    await runPublish(join(dir, 'v1.json'), {}, io(env).io, loadTestBundle);
    await runPublish(join(dir, 'v2.json'), {}, io(env).io, loadTestBundle);
    const r = io(env);
    expect(await runRollback(v1.policyVersion, { json: true }, r.io, loadTestBundle)).toBe(0);
    expect(JSON.parse(r.text())).toMatchObject({ policyVersion: v1.policyVersion, sequence: 3, previous: v2.policyVersion });
  });

  it('kill switch on → status ENGAGED → off', async () => {
    const { dir, env } = await workspace();
    await runPublish(join(dir, 'v1.json'), {}, io(env).io, loadTestBundle);
    const noReason = io(env);
    expect(await runKillSwitch('on', {}, noReason.io)).toBe(1);
    expect(noReason.errors()).toMatch(/needs a reason/);
    const on = io(env);
    expect(await runKillSwitch('on', { reason: 'INC-7' }, on.io)).toBe(0);
    expect(on.text()).toMatch(/ENGAGED.*monitor mode/);
    const st = io(env);
    expect(await runKillSwitchStatus({}, st.io, loadTestBundle)).toBe(0);
    expect(st.text()).toBe('ENGAGED: INC-7\n');
    await runKillSwitch('off', {}, io(env).io);
    const st2 = io(env);
    await runKillSwitchStatus({ json: true }, st2.io, loadTestBundle);
    expect(JSON.parse(st2.text())).toMatchObject({ killSwitch: { engaged: false } });
  });

  it('explains missing configuration instead of guessing', async () => {
    const { dir, env } = await workspace();
    const noStore = io({});
    expect(await runPublish(join(dir, 'v1.json'), {}, noStore.io, loadTestBundle)).toBe(1);
    expect(noStore.errors()).toMatch(/no store given/);
    const noKey = io({ WARDEN_POLICY_STORE: env.WARDEN_POLICY_STORE });
    expect(await runPublish(join(dir, 'v1.json'), {}, noKey.io, loadTestBundle)).toBe(1);
    expect(noKey.errors()).toMatch(/no signing key: pass --kms-key-id/);
    const both = io({ ...env, WARDEN_KMS_KEY_ID: 'alias/x' });
    expect(await runPublish(join(dir, 'v1.json'), {}, both.io, loadTestBundle)).toBe(1);
    expect(both.errors()).toMatch(/choose one/);
    const noTrust = io({ WARDEN_POLICY_STORE: env.WARDEN_POLICY_STORE });
    expect(await runStatus({}, noTrust.io, loadTestBundle)).toBe(1);
    expect(noTrust.errors()).toMatch(/no trusted public key/);
  });

  it('publishes a rules directory directly (compiled with the policy core), and refuses one that does not compile', async () => {
    const { dir, env } = await workspace();
    const { loadBundleFile } = await import('../../engine/policy');
    const { defaultBundleLoader } = await import('../../engine/distribution/bundle-loader');
    const loader = await defaultBundleLoader();
    const rulesDir = join(__dirname, '..', '..', 'rules');
    const p = io(env);
    expect(await runPublish(rulesDir, { json: true }, p.io, loader)).toBe(0);
    const result = JSON.parse(p.text()) as { policyVersion: string };
    expect(result.policyVersion).toMatch(/^sha256:/);
    expect(loadBundleFile(join(env.WARDEN_POLICY_STORE, `bundles/${result.policyVersion.replace(':', '-')}.json`)).policyVersion).toBe(result.policyVersion);
    const broken = join(dir, 'broken');
    cpSync(rulesDir, broken, { recursive: true });
    writeFileSync(join(broken, 'functions', 'bad.yaml'), 'functions: [x]\nallow:\n  - nonsense: 1\n');
    const b = io(env);
    expect(await runPublish(broken, {}, b.io, loader)).toBe(1);
    expect(b.errors()).toMatch(/do not compile, nothing was published/);
    const missing = io(env);
    expect(await runPublish(join(dir, 'nope.json'), {}, missing.io, loader)).toBe(1);
    expect(missing.errors()).toMatch(/cannot read .*nope.json/);
  });

  it('takes source information from options over the CI environment', () => {
    expect(sourceInfo({ sourceCommit: 'def' }, { GITHUB_SHA: 'abc', GITHUB_REPOSITORY: 'acme/rules' })).toEqual({ repository: 'acme/rules', commit: 'def' });
    expect(sourceInfo({}, {})).toBeUndefined();
  });
});
