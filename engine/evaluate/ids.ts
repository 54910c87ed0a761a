import { randomFillSync } from 'node:crypto';

/**
 * ULIDs (time-ordered, 26 Crockford base32 chars) from a pooled CSPRNG: the `ulid` package calls
 * randomFillSync once per character, which costs more than a whole decision. Time comes from the
 * injected clock.
 */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** every two-character string over the alphabet: one lookup per 10 random bits (no Buffer decoding per id) */
const PAIRS: readonly string[] = Array.from({ length: 1024 }, (_, i) => ALPHABET[i >> 5]! + ALPHABET[i & 31]!);
const POOL_SIZE = 4096;

export function createUlidFactory(clock: () => number = () => Date.now()): () => string {
  const pool = Buffer.alloc(POOL_SIZE);
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
    // 16 random characters, each from 5 bits of its own pool byte (as before: byte & 31 is uniform)
    let id = time;
    for (let i = 0; i < 8; i++) {
      id += PAIRS[((pool[at]! & 31) << 5) | (pool[at + 1]! & 31)]!;
      at += 2;
    }
    return id;
  };
}
