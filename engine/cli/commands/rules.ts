import type { Command } from 'commander';

/** Where a command writes; tests pass collectors, the CLI passes process streams. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  now(): number;
}

export const processIo: CliIo = {
  out: (l) => process.stdout.write(`${l}\n`),
  err: (l) => process.stderr.write(`${l}\n`),
  now: () => Date.now(),
};

function reportLoadError(err: unknown, io: CliIo): number {
  const e = err as { name?: string; issues?: { file: string; line: number; path: string; message: string }[]; message?: string };
  if (e?.name === 'RulesLoadError' && e.issues) {
    for (const i of e.issues) io.err(`${i.file}:${i.line}: error: ${i.path ? `${i.path}: ` : ''}${i.message}`);
    io.err(`warden: the rules do not load (${e.issues.length} error${e.issues.length === 1 ? '' : 's'}); run "warden rules lint" for details`);
    return 1;
  }
  throw err;
}

/** `warden rules lint [dir]`: exit 1 on errors; warnings alone exit 0. */
export async function runLint(dir: string, io: CliIo = processIo): Promise<number> {
  const { lintRulesDir, formatFinding } = await import('../../policy/lint');
  const { lintCodeOwners } = await import('../../distribution/codeowners');
  const r = await lintRulesDir(dir, io.now());
  // code owners (engine/distribution): checked when the repo declares owners.yaml
  const owners = await lintCodeOwners(dir);
  r.findings.push(...owners);
  r.errors += owners.filter((f) => f.level === 'error').length;
  r.warnings += owners.filter((f) => f.level === 'warning').length;
  for (const f of r.findings) io.out(formatFinding(f));
  const files = r.repo ? r.repo.functions.length + (r.repo.global ? 1 : 0) + (r.repo.responses ? 1 : 0) + r.repo.tests.length + r.repo.extra.length : 0;
  io.err(`${dir}: ${r.errors} error${r.errors === 1 ? '' : 's'}, ${r.warnings} warning${r.warnings === 1 ? '' : 's'}${r.repo ? ` in ${files} files` : ''}`);
  return r.errors > 0 ? 1 : 0;
}

/** `warden rules test [dir]`: runs tests/*.yaml; exit 1 on a mismatch, with the diff. */
export async function runGolden(dir: string, io: CliIo = processIo): Promise<number> {
  const [{ loadRulesDir, compilePolicy }, { runGoldenTests }] = await Promise.all([import('../../policy'), import('../../policy/golden')]);
  let repo;
  try {
    repo = await loadRulesDir(dir);
  } catch (err) {
    return reportLoadError(err, io);
  }
  const policy = compilePolicy(repo);
  const results = await runGoldenTests(repo, policy, io.now());
  if (results.length === 0) {
    io.err(`${dir}: no golden tests (add cases under ${dir}/tests/*.yaml)`);
    return 0;
  }
  for (const r of results) {
    io.out(`${r.ok ? 'ok  ' : 'FAIL'} ${r.file}:${r.line} ${r.name}`);
    for (const d of r.diff) io.out(`       ${d}`);
  }
  const failed = results.filter((r) => !r.ok).length;
  io.out(`${results.length - failed} passed, ${failed} failed (policy ${policy.policyVersion})`);
  return failed > 0 ? 1 : 0;
}

/** `warden rules bundle DIR --out FILE` */
export async function runBundle(dir: string, out: string, io: CliIo = processIo): Promise<number> {
  const [{ loadRulesDir, compilePolicy, toBundle }, { writeFile, mkdir }, { dirname }] = await Promise.all([
    import('../../policy'), import('node:fs/promises'), import('node:path'),
  ]);
  let repo;
  try {
    repo = await loadRulesDir(dir);
  } catch (err) {
    return reportLoadError(err, io);
  }
  const bundle = toBundle(compilePolicy(repo));
  const text = JSON.stringify(bundle);
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, text);
  io.out(`wrote ${out}: ${bundle.policyVersion}, ${bundle.entries} entries, ${bundle.modes.length} function groups, ${text.length} bytes`);
  return 0;
}

export const SCHEMA_KINDS = ['function', 'global', 'responses', 'tests'] as const;

/** `warden rules schema [--kind K] [--out FILE]`: JSON Schema of a rules file, for editors. */
export async function runSchema(kind: string, out: string | undefined, io: CliIo = processIo): Promise<number> {
  const { rulesJsonSchema } = await import('../../policy/json-schema');
  if (!(SCHEMA_KINDS as readonly string[]).includes(kind)) {
    io.err(`warden: unknown schema kind "${kind}"; use one of ${SCHEMA_KINDS.join(', ')}`);
    return 2;
  }
  const text = `${JSON.stringify(rulesJsonSchema(kind as (typeof SCHEMA_KINDS)[number]), null, 2)}\n`;
  if (out) {
    const { writeFile } = await import('node:fs/promises');
    await writeFile(out, text);
    io.err(`wrote ${out}`);
  } else io.out(text.trimEnd());
  return 0;
}

export function registerRulesCommands(rules: Command): void {
  rules
    .command('lint')
    .description('schema, unknown keys, duplicate ids, shadowed and duplicate entries, expired entries; exit 1 on errors')
    .argument('[dir]', 'rules directory', 'rules')
    .action(async (dir: string) => {
      process.exitCode = await runLint(dir);
    });
  rules
    .command('test')
    .description('run the golden cases in DIR/tests/*.yaml; exit 1 on a mismatch, showing the diff')
    .argument('[dir]', 'rules directory', 'rules')
    .action(async (dir: string) => {
      process.exitCode = await runGolden(dir);
    });
  rules
    .command('bundle')
    .description('compile DIR into one JSON artifact (with its policyVersion) that agents and the engine load')
    .argument('<dir>', 'rules directory')
    .requiredOption('--out <file>', 'where to write the bundle')
    .action(async (dir: string, opts: { out: string }) => {
      process.exitCode = await runBundle(dir, opts.out);
    });
  rules
    .command('schema')
    .description('print the JSON Schema of a rules file (for editor validation)')
    .option('--kind <kind>', `which file: ${SCHEMA_KINDS.join(' | ')}`, 'function')
    .option('--out <file>', 'write to a file instead of stdout')
    .action(async (opts: { kind: string; out?: string }) => {
      process.exitCode = await runSchema(opts.kind, opts.out);
    });
}
