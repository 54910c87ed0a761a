/**
 * IAM-style wildcard match: `*` any run of characters (including none, `/` and `:`), `?` exactly
 * one; everything else literal. Linear-time two-pointer algorithm with backtracking to the last
 * star, no RegExp (so no ReDoS and no escaping mistakes).
 */
export function globMatch(pattern: string, s: string): boolean {
  return globMatchFrom(pattern, s, 0);
}

/**
 * globMatch when the first `from` characters of `pattern` are literal and `s` is already known to
 * start with them (a prefix-tree lookup proved it): only the rest is compared.
 */
export function globMatchFrom(pattern: string, s: string, from: number): boolean {
  let p = from, i = from, star = -1, mark = 0;
  const pl = pattern.length, sl = s.length;
  while (i < sl) {
    const pc = p < pl ? pattern.charCodeAt(p) : -1;
    if (pc === 63 /* ? */ || (pc !== 42 && pc === s.charCodeAt(i))) {
      p++; i++;
    } else if (pc === 42 /* * */) {
      if (p === pl - 1) return true; // a trailing star matches whatever is left
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

/** The literal text before the first wildcard (two native searches: a JS loop over an ARN costs ~10×). */
export function literalPrefix(pattern: string): string {
  const star = pattern.indexOf('*'), q = pattern.indexOf('?');
  const end = star < 0 ? (q < 0 ? pattern.length : q) : q < 0 ? star : Math.min(star, q);
  return pattern.slice(0, end);
}
