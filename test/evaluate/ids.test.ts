import { decodeTime, isValid } from 'ulid';
import { createUlidFactory } from '../../engine/evaluate/ids';

describe('createUlidFactory', () => {
  it('makes valid, unique ULIDs carrying the injected time', () => {
    let now = Date.parse('2026-11-23T18:00:00Z');
    const next = createUlidFactory(() => now);
    const ids = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      if (i === 2500) now += 1;
      const id = next();
      expect(isValid(id)).toBe(true);
      ids.add(id);
    }
    expect(ids.size).toBe(5000);
    expect(decodeTime(next())).toBe(now);
  });
  it('uses every character of the alphabet in every random position', () => {
    const next = createUlidFactory(() => 0);
    const seen = Array.from({ length: 16 }, () => new Set<string>());
    for (let i = 0; i < 4000; i++) {
      const r = next().slice(10);
      for (let k = 0; k < 16; k++) seen[k]!.add(r[k]!);
    }
    for (const s of seen) expect(s.size).toBe(32);
  });
});
