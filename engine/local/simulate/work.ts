/**
 * Work in flight in the simulation (bus deliveries, engine invocations, Slack clicks): `settle()`
 * resolves once every tracked piece of work, and any work it started, has finished. Work that
 * waits on the simulated clock (timers, task tokens) is not tracked here: the clock drives it.
 */
export class WorkTracker {
  private readonly pending = new Set<Promise<unknown>>();
  private readonly failures: unknown[] = [];

  /** Tracks `p`; a rejection is kept (see `takeFailures`) instead of going unhandled. */
  track<T>(p: Promise<T>): Promise<T> {
    const tracked = p.finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
    tracked.catch((err: unknown) => this.failures.push(err));
    return p;
  }

  get size(): number {
    return this.pending.size;
  }

  /** Waits until nothing is in flight, including work started by work (a few macrotask turns to be sure). */
  async settle(maxRounds = 10_000): Promise<void> {
    for (let round = 0, quiet = 0; round < maxRounds; round++) {
      if (this.pending.size > 0) {
        quiet = 0;
        await Promise.allSettled([...this.pending]);
        continue;
      }
      // nothing tracked: give promise chains and I/O callbacks (local HTTP) a few turns to start more work
      await new Promise<void>((r) => setImmediate(r));
      if (this.pending.size === 0 && ++quiet >= 3) return;
    }
  }

  takeFailures(): unknown[] {
    return this.failures.splice(0);
  }
}
