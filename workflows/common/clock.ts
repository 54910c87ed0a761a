/** Time as a port: Lambdas use the system clock, the local runner a simulated one. Logic never calls Date.now(). */
export interface Clock {
  /** milliseconds since the epoch */
  nowMs(): number;
}

export const systemClock: Clock = { nowMs: () => Date.now() };

export const isoNow = (clock: Clock): string => new Date(clock.nowMs()).toISOString();
