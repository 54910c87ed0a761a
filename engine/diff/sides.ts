import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { compilePolicy, loadRulesDir, loadRulesFromFiles, type SourceFile } from '../policy';
import { createResponseSelector } from '../responses/select';
import type { ReplaySide } from './replay';

/**
 * Loads one side of `warden rules diff`: a rules directory, or a git ref (`main`, `HEAD~1`,
 * `origin/main:rules`). For a ref without `:path`, the rules are read from the same path inside
 * the ref as the head directory has in the working tree — the usual "this PR vs main" question.
 */
export class DiffInputError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DiffInputError';
  }
}

function git(cwd: string, args: string[]): string {
  return execFileSync('git', ['-C', cwd, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 << 20 });
}

/** The rules files of `ref` under `path` (repo-relative), read without touching the working tree. */
export function filesAtRef(repoDir: string, ref: string, path: string): SourceFile[] {
  let commit: string;
  try {
    commit = git(repoDir, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]).trim();
  } catch (cause) {
    throw new DiffInputError(`--base "${ref}" is neither a directory nor a git ref in ${repoDir}; pass a rules directory or a ref like main or origin/main`, { cause });
  }
  const prefix = path.replace(/\\/g, '/').replace(/^\.?\/+/, '').replace(/\/+$/, '');
  const listing = git(repoDir, ['ls-tree', '-r', '-z', '--name-only', '--full-tree', commit, '--', prefix === '' ? '.' : prefix]);
  const paths = listing.split('\0').filter((p) => p !== '' && /\.ya?ml$/i.test(p));
  if (paths.length === 0) throw new DiffInputError(`no rules files under "${prefix || '.'}" at ${ref} (${commit.slice(0, 12)}); name the folder with --base ${ref}:path/to/rules`);
  return paths.map((p) => ({
    path: prefix === '' ? p : p.slice(prefix.length + 1),
    text: git(repoDir, ['cat-file', 'blob', `${commit}:${p}`]),
  }));
}

/** Where `dir` sits inside its git work tree, and the tree's root; null when not in a git repo. */
function locateInRepo(dir: string): { root: string; prefix: string } | null {
  try {
    const root = git(dir, ['rev-parse', '--show-toplevel']).trim();
    const prefix = git(dir, ['rev-parse', '--show-prefix']).trim();
    return { root, prefix };
  } catch {
    return null;
  }
}

function sideFrom(repo: Awaited<ReturnType<typeof loadRulesDir>>, source: string): ReplaySide {
  const policy = compilePolicy(repo);
  return { policy, selector: createResponseSelector(policy.responses), source };
}

export async function loadDirSide(dir: string): Promise<ReplaySide> {
  return sideFrom(await loadRulesDir(dir), dir);
}

/** `spec` is a directory, or `REF` / `REF:path`; `headDir` anchors a bare ref to the same path. */
export async function loadBaseSide(spec: string, headDir: string): Promise<ReplaySide> {
  if (existsSync(spec) && statSync(spec).isDirectory()) return loadDirSide(spec);
  const colon = spec.indexOf(':');
  const ref = colon > 0 ? spec.slice(0, colon) : spec;
  const anchor = locateInRepo(existsSync(headDir) ? resolve(headDir) : process.cwd());
  if (!anchor) throw new DiffInputError(`--base "${spec}" is not a directory, and ${headDir} is not inside a git repository to resolve it as a ref`);
  const path = colon > 0 ? spec.slice(colon + 1) : anchor.prefix;
  const files = filesAtRef(anchor.root, ref, path);
  const repo = loadRulesFromFiles(files, { displayRoot: `${ref}:${path.replace(/\/+$/, '') || '.'}` });
  if (repo.functions.length === 0 && repo.global === null) {
    throw new DiffInputError(`no rules at ${spec}: expected global.yaml and/or functions/*.yaml under ${path || 'the repository root'}`);
  }
  return sideFrom(repo, `${ref}:${path.replace(/\/+$/, '') || '.'}`);
}
