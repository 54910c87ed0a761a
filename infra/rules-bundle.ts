import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

/**
 * Builds the content of the rules layer from a rules directory, at synth.
 * INTERIM until engine/policy's compiler lands: the layer carries the rules sources under
 * /opt/warden/rules and a manifest with their content hash at /opt/warden/policy.json.
 */
export function buildRulesLayerAsset(rulesDir: string): { dir: string; policyVersion: string } {
  const h = createHash('sha256');
  const walk = (p: string) => {
    for (const name of readdirSync(p).sort()) {
      const full = join(p, name);
      if (statSync(full).isDirectory()) walk(full);
      else h.update(relative(rulesDir, full)).update('\0').update(readFileSync(full));
    }
  };
  walk(rulesDir);
  const policyVersion = `sha256:${h.digest('hex').slice(0, 16)}`;
  const dir = mkdtempSync(join(tmpdir(), 'warden-rules-'));
  mkdirSync(join(dir, 'warden'));
  cpSync(rulesDir, join(dir, 'warden', 'rules'), { recursive: true });
  writeFileSync(join(dir, 'warden', 'policy.json'), JSON.stringify({ sourceVersion: policyVersion, rules: 'rules/' }));
  return { dir, policyVersion };
}
