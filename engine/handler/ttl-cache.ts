/**
 * A per-key cache with a time-to-live on an injected clock, sharing one in-flight load per key.
 * A failed load is not cached (the next call tries again) and is rethrown: the caller decides
 * how to fail closed.
 */
export class TtlCache<K, V> {
  private readonly entries = new Map<K, { value: V; at: number }>();
  private readonly inflight = new Map<K, Promise<V>>();

  constructor(
    private readonly load: (key: K) => Promise<V>,
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  async get(key: K): Promise<V> {
    const hit = this.entries.get(key);
    if (hit && this.now() - hit.at < this.ttlMs) return hit.value;
    const running = this.inflight.get(key);
    if (running) return running;
    const started = this.now();
    const p = this.load(key)
      .then((value) => {
        this.entries.set(key, { value, at: started });
        return value;
      })
      .finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  clear(): void {
    this.entries.clear();
  }
}
