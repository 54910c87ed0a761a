import fc from 'fast-check';

/**
 * Shared by the property tests of the fast paths (line parser, YAML loader): how often a fast path
 * took its input — so a test shows it exercised that path — and character-level mutations.
 */
export class FastPathCounter {
  fast = 0;
  all = 0;

  /** runs a property and returns the share of inputs the fast path took */
  share(run: () => void): number {
    this.fast = 0;
    this.all = 0;
    run();
    return this.fast / this.all;
  }
}

/** `text` with 1–3 mutations, each an insert, delete or replace of one character from `alphabet`. */
export function mutatedText(text: fc.Arbitrary<string>, alphabet: readonly string[]): fc.Arbitrary<string> {
  return fc.tuple(text, fc.array(fc.tuple(fc.nat(), fc.constantFrom(0, 1, 2), fc.constantFrom(...alphabet)), { minLength: 1, maxLength: 3 }))
    .map(([t, muts]) => {
      let s = t;
      for (const [at, op, c] of muts) {
        const i = at % (s.length + 1);
        s = op === 0 ? s.slice(0, i) + c + s.slice(i) : op === 1 ? s.slice(0, i) + s.slice(i + 1) : s.slice(0, i) + c + s.slice(i + 1);
      }
      return s;
    });
}
