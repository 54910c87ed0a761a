import type { WardenPolicy } from '../policy/compile';
import type { BundleLoader } from './policy-source';

/**
 * The loader the CLI, the agent and the engine use: engine/policy's verified bundle reader
 * (format check, canonical rebuild, hash check), loaded lazily so `warden --help` stays fast.
 */
export async function defaultBundleLoader(): Promise<BundleLoader<WardenPolicy>> {
  const { readBundle } = await import('../policy/bundle');
  return (text) => readBundle(text);
}
