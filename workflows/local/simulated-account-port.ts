import { CallerAccountPort, type AccountPort, type AwsCaller } from '../common/account-port';
import type { SimulatedAccount } from './simulated-account';

/** The simulated account as an AwsCaller: the same calls the SDK port makes, answered locally (SIMULATED). */
export function simulatedCaller(account: SimulatedAccount): AwsCaller {
  return async (service, operation, params) => (await account.call(service, operation, params)) as Record<string, unknown>;
}

/** An AccountPort over the simulated account, for Lambda task handlers run by the local runner. */
export function simulatedAccountPort(account: SimulatedAccount): AccountPort {
  return new CallerAccountPort(simulatedCaller(account));
}
