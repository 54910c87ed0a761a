import { TtlCache } from '../../engine/handler/ttl-cache';

describe('TtlCache', () => {
  it('serves from cache within the TTL and reloads after it', async () => {
    let now = 1000;
    let loads = 0;
    const cache = new TtlCache(async (k: string) => `${k}${++loads}`, 500, () => now);
    expect(await cache.get('a')).toBe('a1');
    now += 499;
    expect(await cache.get('a')).toBe('a1');
    now += 1;
    expect(await cache.get('a')).toBe('a2');
    expect(await cache.get('b')).toBe('b3');
  });

  it('shares one in-flight load', async () => {
    let loads = 0;
    const cache = new TtlCache(async () => ++loads, 1000, () => 0);
    const [x, y] = await Promise.all([cache.get('k'), cache.get('k')]);
    expect([x, y, loads]).toEqual([1, 1, 1]);
  });

  it('does not cache a failure', async () => {
    let fail = true;
    const cache = new TtlCache(async () => {
      if (fail) throw new Error('table unavailable');
      return 'ok';
    }, 1000, () => 0);
    await expect(cache.get('k')).rejects.toThrow('table unavailable');
    fail = false;
    expect(await cache.get('k')).toBe('ok');
  });
});
