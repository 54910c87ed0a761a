/**
 * IP address parsing for CIDR matching. IPv4 is a uint32; IPv6 is four uint32 words.
 * IPv4-mapped IPv6 (`::ffff:a.b.c.d`, `::ffff:7f00:1`) is normalized to IPv4, so a v4 range
 * matches it too.
 */
export type Ip = { v: 4; n: number } | { v: 6; w: [number, number, number, number] };

/** Strict dotted quad (no leading zeros, each part 0..255). Hand-rolled: it runs on every tcp event. */
export function parseIPv4(s: string): number | null {
  const len = s.length;
  if (len < 7 || len > 15) return null;
  let n = 0, part = 0, digits = 0, dots = 0;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return null;
      n = n * 256 + part;
      part = 0; digits = 0; dots++;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return null; // leading zero
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return null;
    } else return null;
  }
  if (dots !== 3 || digits === 0) return null;
  return (n * 256 + part) >>> 0;
}

/**
 * IPv4 as `inet_aton` reads a host name (what a socket connect does with "2852039166",
 * "0xa9.0xfe.0xa9.0xfe" or "169.254.43518"): 1–4 parts, each decimal, 0x-hex or 0-octal.
 * Used on event hosts so such spellings of 169.254.169.254 cannot dodge a CIDR deny.
 */
export function parseIPv4Loose(s: string): number | null {
  if (s.length === 0 || s.length > 64) return null;
  const parts = s.split('.');
  if (parts.length > 4) return null;
  const nums: number[] = [];
  for (const p of parts) {
    let v: number;
    if (/^0x[0-9a-f]*$/i.test(p)) v = p.length === 2 ? 0 : parseInt(p.slice(2), 16);
    else if (/^0[0-7]+$/.test(p)) v = parseInt(p, 8);
    else if (/^(0|[1-9]\d*)$/.test(p)) v = Number(p);
    else return null;
    if (!Number.isFinite(v)) return null;
    nums.push(v);
  }
  const last = nums[nums.length - 1]!;
  for (let i = 0; i < nums.length - 1; i++) if (nums[i]! > 255) return null;
  const lastMax = 2 ** (8 * (5 - nums.length)) - 1;
  if (last > lastMax) return null;
  let n = 0;
  for (let i = 0; i < nums.length - 1; i++) n += nums[i]! * 2 ** (8 * (3 - i));
  return (n + last) >>> 0;
}

export function parseIPv6(input: string): [number, number, number, number] | null {
  let s = input;
  const pct = s.indexOf('%');
  if (pct >= 0) s = s.slice(0, pct); // zone id
  if (s.length < 2 || s.length > 45 || !/^[0-9a-fA-F:.]+$/.test(s)) return null;
  const groups: number[] = [];
  const dbl = s.indexOf('::');
  if (dbl !== s.lastIndexOf('::')) return null;
  const parseSide = (side: string, allowV4Tail: boolean): number[] | null => {
    if (side === '') return [];
    const out: number[] = [];
    const parts = side.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (allowV4Tail && i === parts.length - 1 && p.includes('.')) {
        const v4 = parseIPv4(p);
        if (v4 === null) return null;
        out.push(v4 >>> 16, v4 & 0xffff);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return null;
        out.push(parseInt(p, 16));
      }
    }
    return out;
  };
  if (dbl >= 0) {
    const head = parseSide(s.slice(0, dbl), false);
    const tail = parseSide(s.slice(dbl + 2), true);
    if (!head || !tail || head.length + tail.length > 7) return null;
    groups.push(...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail);
  } else {
    const all = parseSide(s, true);
    if (!all || all.length !== 8) return null;
    groups.push(...all);
  }
  return [
    ((groups[0]! << 16) | groups[1]!) >>> 0,
    ((groups[2]! << 16) | groups[3]!) >>> 0,
    ((groups[4]! << 16) | groups[5]!) >>> 0,
    ((groups[6]! << 16) | groups[7]!) >>> 0,
  ];
}

function fromV6(w: [number, number, number, number]): Ip {
  if (w[0] === 0 && w[1] === 0 && w[2] === 0xffff) return { v: 4, n: w[3] };
  return { v: 6, w };
}

/** An address as an event carries it: strict IPv4 or IPv6 (brackets and zone id allowed). */
export function parseIp(s: string): Ip | null {
  if (s.length === 0 || s.length > 64) return null;
  const v4 = parseIPv4(s);
  if (v4 !== null) return { v: 4, n: v4 };
  const t = s.charCodeAt(0) === 91 /* [ */ && s.endsWith(']') ? s.slice(1, -1) : s;
  const w = parseIPv6(t);
  return w ? fromV6(w) : null;
}

/** A host name that is really an IP literal (including inet_aton spellings of IPv4), or null. */
export function hostAsIp(host: string): Ip | null {
  const c = host.charCodeAt(0);
  const first = c >= 48 && c <= 57; // digit
  if (first) {
    const v4 = parseIPv4Loose(host);
    if (v4 !== null) return { v: 4, n: v4 };
  }
  if (first || c === 91 /* [ */ || host.includes(':')) return parseIp(host);
  return null;
}

export interface Cidr { ip: Ip; prefix: number }

/** `10.0.0.0/8`, `fd00:ec2::254/128`, or a bare address (a single host). Host bits must be zero. */
export function parseCidr(s: string): { cidr: Cidr } | { error: string } {
  const slash = s.indexOf('/');
  const addr = slash >= 0 ? s.slice(0, slash) : s;
  const ip = parseIp(addr);
  if (!ip) return { error: `"${addr}" is not an IPv4 or IPv6 address` };
  const rawMapped = ip.v === 4 && addr.includes(':');
  const max = ip.v === 4 && !rawMapped ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const p = s.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > max) return { error: `prefix "/${p}" must be 0..${max}` };
    prefix = Number(p);
  }
  if (rawMapped) {
    // ::ffff:a.b.c.d/120 is the v4 range /24
    if (prefix < 96) return { error: `an IPv4-mapped range needs a prefix of at least /96` };
    prefix -= 96;
  }
  const masked = maskIp(ip, prefix);
  if (!ipEquals(masked, ip)) return { error: `"${s}" has host bits set; did you mean ${formatIp(masked)}/${prefix}?` };
  return { cidr: { ip, prefix } };
}

export function maskIp(ip: Ip, prefix: number): Ip {
  if (ip.v === 4) return { v: 4, n: prefix === 0 ? 0 : (ip.n & (0xffffffff << (32 - prefix))) >>> 0 };
  const w: [number, number, number, number] = [0, 0, 0, 0];
  for (let i = 0; i < 4; i++) {
    const bits = Math.max(0, Math.min(32, prefix - 32 * i));
    w[i] = bits === 0 ? 0 : (ip.w[i]! & (0xffffffff << (32 - bits))) >>> 0;
  }
  return { v: 6, w };
}

export function ipEquals(a: Ip, b: Ip): boolean {
  if (a.v === 4) return b.v === 4 && a.n === b.n;
  return b.v === 6 && a.w[0] === b.w[0] && a.w[1] === b.w[1] && a.w[2] === b.w[2] && a.w[3] === b.w[3];
}

export function ipKey(ip: Ip): string {
  return ip.v === 4 ? String(ip.n) : `${ip.w[0]}.${ip.w[1]}.${ip.w[2]}.${ip.w[3]}`;
}

export function formatIp(ip: Ip): string {
  if (ip.v === 4) return [ip.n >>> 24, (ip.n >>> 16) & 255, (ip.n >>> 8) & 255, ip.n & 255].join('.');
  const g: string[] = [];
  for (const w of ip.w) g.push((w >>> 16).toString(16), (w & 0xffff).toString(16));
  // compress the longest run of zero groups
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== '0') { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) { best = i; bestLen = j - i; }
    i = j;
  }
  if (best < 0) return g.join(':');
  return `${g.slice(0, best).join(':')}::${g.slice(best + bestLen).join(':')}`;
}

export function formatCidr(c: Cidr): string {
  return `${formatIp(c.ip)}/${c.prefix}`;
}
