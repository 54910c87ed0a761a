/**
 * Durations in scenario files: "0", "90s", "5m", "1h30m", "2d", "250ms" (units ms, s, m, h, d,
 * combined largest first). Returns milliseconds, or null when the text is not a duration.
 */
const UNIT_MS: Record<string, number> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000, ms: 1 };
const ORDER = ['d', 'h', 'm', 's', 'ms'];

export function parseDuration(text: string | number): number | null {
  if (typeof text === 'number') return Number.isFinite(text) && text >= 0 ? text * 1000 : null;
  const s = text.trim();
  if (s === '0') return 0;
  const parts = s.match(/^(\d+(?:\.\d+)?)(ms|d|h|m|s)/g) === null ? null : [...s.matchAll(/(\d+(?:\.\d+)?)(ms|d|h|m|s)/g)];
  if (!parts || parts.map((p) => p[0]).join('') !== s) return null;
  let last = -1;
  let total = 0;
  for (const p of parts) {
    const idx = ORDER.indexOf(p[2]!);
    if (idx <= last) return null; // "5m1h" or "1h1h": units must go from largest to smallest, once each
    last = idx;
    total += Number(p[1]) * UNIT_MS[p[2]!]!;
  }
  return Math.round(total);
}

/** "1h 30m 5s" style, for the timeline; sub-second values in ms. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  let rest = Math.round(ms / 1000);
  const out: string[] = [];
  for (const [unit, size] of [['d', 86_400], ['h', 3_600], ['m', 60], ['s', 1]] as const) {
    if (rest >= size) {
      out.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return out.join(' ');
}
