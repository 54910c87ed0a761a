import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRulesFromFiles, PolicyError, toBundle, type SourceFile } from '../engine/policy';
import { WardenPropsError } from './warden-props';

const YAML = /\.ya?ml$/;

/**
 * The rules files, read synchronously (a construct constructor cannot await) with the same
 * selection as engine/policy's loadRulesDir: root YAML files plus functions/ and tests/.
 */
export function readRulesFiles(root: string): SourceFile[] {
  const out: SourceFile[] = [];
  const walk = (rel: string, depth: number) => {
    if (depth > 3) return;
    for (const e of readdirSync(join(root, rel), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.name.startsWith('.') || e.name === 'node_modules') continue;
      if (e.isDirectory()) {
        if (depth === 0 && (e.name === 'functions' || e.name === 'tests')) walk(r, depth + 1);
      } else if (e.isFile() && YAML.test(e.name)) {
        out.push({ path: r, text: readFileSync(join(root, r), 'utf8') });
      }
    }
  };
  walk('', 0);
  return out;
}

/**
 * Compiles the rules directory at synth into the rules layer's content:
 * /opt/warden/policy.json is the `warden rules bundle` artifact (engine and agents load it).
 * A rules error fails the synth with the loader's file:line messages.
 */
export function buildRulesLayerAsset(rulesDir: string): { dir: string; policyVersion: string } {
  let bundle;
  try {
    const repo = loadRulesFromFiles(readRulesFiles(rulesDir), { displayRoot: rulesDir });
    if (repo.functions.length === 0 && repo.global === null) {
      throw new WardenPropsError(`no rules found in ${rulesDir}: expected global.yaml and/or functions/*.yaml (see rules/ for the format)`);
    }
    bundle = toBundle(repo);
  } catch (err) {
    if (err instanceof WardenPropsError) throw err;
    if (err instanceof PolicyError) throw new WardenPropsError(`the rules in ${rulesDir} do not compile (run \`warden rules lint ${rulesDir}\`): ${err.message}`, { cause: err });
    throw err;
  }
  const dir = mkdtempSync(join(tmpdir(), 'warden-rules-'));
  mkdirSync(join(dir, 'warden'));
  writeFileSync(join(dir, 'warden', 'policy.json'), JSON.stringify(bundle));
  return { dir, policyVersion: bundle.policyVersion };
}
