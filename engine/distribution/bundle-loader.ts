import { DistributionError } from './errors';
import type { BundleLoader } from './policy-source';

/**
 * The loader the CLI uses to check a bundle before publishing and to report what agents would
 * load: engine/policy's bundle reader.
 */
export async function defaultBundleLoader(): Promise<BundleLoader> {
  throw new DistributionError('the policy bundle reader (engine/policy) is not available in this build yet');
}
