import { randomFillSync } from 'node:crypto';

/**
 * ULIDs (time-ordered, 26 Crockford base32 chars) from a pooled CSPRNG: the `ulid` package calls
 * randomFillSync once per character, which costs more than a whole decision. Time comes from the
 * injected clock.
 */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const CODES = Buffer.from(ALPHABET, 'latin1');
const POOL_SIZE = 4096;

export function createUlidFactory(clock: () => number = () => Date.now()): () => string {
  const pool = Buffer.alloc(POOL_SIZE);
  const out = Buffer.alloc(16);
  let at = POOL_SIZE;
  let lastMs = -1;
  let time = '';
  return () => {
    let t = Math.max(0, Math.floor(clock()));
    if (t !== lastMs) {
      lastMs = t;
      time = '';
      for (let i = 0; i < 10; i++) {
        time = ALPHABET[t % 32]! + time;
        t = Math.floor(t / 32);
      }
    }
    if (at + 16 > POOL_SIZE) { randomFillSync(pool); at = 0; }
    for (let i = 0; i < 16; i++) out[i] = CODES[pool[at++]! & 31]!;
    return time + out.toString('latin1');
  };
}
