/**
 * IAM-style wildcard match: `*` any run of characters (including none, `/` and `:`), `?` exactly
 * one; everything else literal. Linear-time two-pointer algorithm with backtracking to the last
 * star, no RegExp (so no ReDoS and no escaping mistakes).
 */
export function globMatch(pattern: string, s: string): boolean {
  let p = 0, i = 0, star = -1, mark = 0;
  const pl = pattern.length, sl = s.length;
  while (i < sl) {
    const pc = p < pl ? pattern.charCodeAt(p) : -1;
    if (pc === 63 /* ? */ || (pc !== 42 && pc === s.charCodeAt(i))) {
      p++; i++;
    } else if (pc === 42 /* * */) {
      star = p++; mark = i;
    } else if (star >= 0) {
      p = star + 1; i = ++mark;
    } else {
      return false;
    }
  }
  while (p < pl && pattern.charCodeAt(p) === 42) p++;
  return p === pl;
}

export const hasWildcard = (s: string): boolean => s.includes('*') || s.includes('?');

/** The literal text before the first wildcard. */
export function literalPrefix(pattern: string): string {
  let i = 0;
  while (i < pattern.length && pattern[i] !== '*' && pattern[i] !== '?') i++;
  return pattern.slice(0, i);
}
