/**
 * Jest globalSetup: synthesizes the Warden app ONCE per test run into `cdk.out/` (Lambda bundling
 * skipped, cdk-nag findings written to cdk.out/nag-report.json instead of failing), and skips the
 * synth entirely when no input changed since the last one (hash of infra/, engine/, workflows/,
 * rules/, package-lock.json). Tests read the template through test/infra/template.ts.
 * A lock directory keeps two concurrent test runs in this shared tree from synthesizing at once.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
const OUT = join(ROOT, 'cdk.out');
const LOCK = join(ROOT, '.cdk.out.lock');
export const SYNTH_ERROR_FILE = '.synth-error.txt';
const INPUTS = ['infra', 'engine', 'workflows', 'rules', 'package-lock.json', 'cdk.json'];

function hashInputs(): string {
  const h = createHash('sha256');
  const walk = (p: string) => {
    if (!existsSync(p)) return;
    const st = statSync(p);
    if (st.isDirectory()) {
      for (const name of readdirSync(p).sort()) if (name !== 'node_modules' && !name.startsWith('.')) walk(join(p, name));
    } else {
      h.update(p.slice(ROOT.length)).update('\0').update(readFileSync(p)).update('\0');
    }
  };
  for (const i of INPUTS) walk(join(ROOT, i));
  // the app reads WARDEN_* settings from the environment
  for (const k of Object.keys(process.env).filter((k) => k.startsWith('WARDEN_')).sort()) h.update(`${k}=${process.env[k]}\0`);
  return h.digest('hex');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function withLock<T>(fn: () => T): Promise<T> {
  for (let waited = 0; ; waited += 250) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      // a lock older than 3 minutes belongs to a run that died
      if (existsSync(LOCK) && Date.now() - statSync(LOCK).mtimeMs > 180_000) rmSync(LOCK, { recursive: true, force: true });
      if (waited > 240_000) throw new Error(`global-setup: ${LOCK} is held by another test run; delete it if no test run is active`);
      await sleep(250);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

export default async function globalSetup(): Promise<void> {
  process.env.WARDEN_CDK_OUT = OUT;
  await withLock(() => {
    const hash = hashInputs();
    const marker = join(OUT, '.warden-inputs-hash');
    const failure = join(OUT, SYNTH_ERROR_FILE);
    if (existsSync(marker) && readFileSync(marker, 'utf8') === hash && existsSync(join(OUT, 'nag-report.json'))) return;
    rmSync(failure, { force: true });
    try {
      execFileSync(process.execPath, [require.resolve('tsx/cli'), join(ROOT, 'infra/app.ts')], {
        cwd: ROOT,
        env: { ...process.env, CDK_OUTDIR: OUT, WARDEN_NAG: 'report', WARDEN_SKIP_BUNDLING: '1', WARDEN_STACK_NAME: 'Warden' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (err) {
      // Not thrown here: that would fail every test of the run. The tests that read the template
      // fail instead, with this message (test/infra/template.ts), and nothing reads a stale template.
      const e = err as { stderr?: Buffer; stdout?: Buffer };
      mkdirSync(OUT, { recursive: true });
      rmSync(join(OUT, 'Warden.template.json'), { force: true });
      rmSync(marker, { force: true });
      writeFileSync(failure, `synthesizing the Warden app failed (run \`npm run synth\` to see it):\n${e.stderr?.toString() ?? ''}${e.stdout?.toString() ?? ''}`);
      return;
    }
    writeFileSync(marker, hash);
  });
}
