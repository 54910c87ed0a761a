import fc from 'fast-check';
import { formatCidr, formatIp, hostAsIp, maskIp, parseCidr, parseIPv4, parseIp } from '../../engine/policy/ip';
import { canonicalV4 } from '../../engine/policy/compile';
import { globMatch, literalPrefix } from '../../engine/policy/glob';
import { RadixTree } from '../../engine/policy/radix';

describe('IP parsing', () => {
  it.each(['1.2.3.4', '0.0.0.0', '255.255.255.255', '10.0.0.1'])('accepts %s', (s) => {
    expect(formatIp({ v: 4, n: parseIPv4(s)! })).toBe(s);
  });
  it.each(['01.2.3.4', '256.1.1.1', '1.2.3', '1.2.3.4.5', '1..3.4', '1.2.3.4.', 'a.b.c.d', '', '1.2.3.-4', '1234.1.1.1'])('rejects %j as a strict IPv4', (s) => {
    expect(parseIPv4(s)).toBeNull();
  });
  it('agrees with a reference on random dotted quads', () => {
    fc.assert(fc.property(fc.ipV4(), (s) => {
      const n = parseIPv4(s)!;
      expect(n).toBe(s.split('.').reduce((acc, p) => acc * 256 + Number(p), 0));
    }));
  });
  it('normalizes IPv4-mapped IPv6 to IPv4', () => {
    expect(parseIp('::ffff:1.2.3.4')).toEqual({ v: 4, n: parseIPv4('1.2.3.4') });
    expect(parseIp('[::FFFF:102:304]')).toEqual({ v: 4, n: parseIPv4('1.2.3.4') });
    expect(parseIp('fe80::1%eth0')).toMatchObject({ v: 6 });
    expect(parseIp('1::2::3')).toBeNull();
    expect(parseIp('12345::')).toBeNull();
  });
  it('reads inet_aton spellings only for host names', () => {
    expect(hostAsIp('2852039166')).toEqual({ v: 4, n: parseIPv4('169.254.169.254') });
    expect(hostAsIp('0x7f.1')).toEqual({ v: 4, n: parseIPv4('127.0.0.1') });
    expect(hostAsIp('1.2.3.4.example.com')).toBeNull();
    expect(hostAsIp('4294967296')).toBeNull();
    expect(parseIp('2852039166')).toBeNull();
  });
  it('CIDRs: host bits must be zero, v4-mapped ranges become v4', () => {
    expect(parseCidr('10.0.0.1/8')).toEqual({ error: expect.stringContaining('did you mean 10.0.0.0/8') });
    expect(parseCidr('::ffff:10.0.0.0/104')).toMatchObject({ cidr: { ip: { v: 4 }, prefix: 8 } });
    expect(parseCidr('::ffff:10.0.0.0/64')).toEqual({ error: expect.stringContaining('/96') });
    expect(parseCidr('2001:db8::/129')).toEqual({ error: expect.stringContaining('0..128') });
  });
});

describe('canonicalV4 (the compiled-policy fast path of parseCidr)', () => {
  const fields = () => ({ prefix: -1, low8: -1, ipKey: -1 });
  it('accepts every canonical v4 cidr, with the network and prefix parseCidr reads', () => {
    fc.assert(fc.property(fc.ipV4(), fc.integer({ min: 0, max: 32 }), (addr, len) => {
      const s = formatCidr({ ip: maskIp({ v: 4, n: parseIPv4(addr)! }, len), prefix: len });
      const f = fields();
      expect(canonicalV4(s, f)).toBe(true);
      const c = parseCidr(s);
      if ('error' in c || c.cidr.ip.v !== 4) throw new Error(s);
      expect(f.prefix).toBe(c.cidr.prefix);
      expect(f.low8).toBe(c.cidr.ip.n & 0xff);
    }), { numRuns: 1000 });
  });
  it('accepts nothing parseCidr would read differently (or reject)', () => {
    const text = fc.array(fc.constantFrom('1', '0', '2', '5', '9', '.', '/', ':', 'a', ' ', '3'), { maxLength: 18 }).map((cs) => cs.join(''));
    fc.assert(fc.property(fc.oneof(text, fc.ipV4().map((a) => `${a}/${a.length % 40}`), fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 9 })).map(([a, l]) => `${formatIp(maskIp({ v: 4, n: parseIPv4(a)! }, l))}/0${l}`)), (s) => {
      if (!canonicalV4(s, fields())) return;
      const c = parseCidr(s);
      expect('error' in c).toBe(false);
      if (!('error' in c)) expect(formatCidr(c.cidr)).toBe(s);
    }), { numRuns: 3000 });
  });
});

describe('globMatch', () => {
  it.each([
    ['a*c', 'abc', true], ['a*c', 'ac', true], ['a*c', 'ab', false], ['a?c', 'abc', true], ['a?c', 'ac', false],
    ['*', '', true], ['arn:aws:s3:::b/*', 'arn:aws:s3:::b/x/y', true], ['arn:aws:s3:::b/*', 'arn:aws:s3:::bb/x', false],
    ['a.b', 'axb', false], ['*a*a*a*a*b', 'a'.repeat(5000), false],
  ])('%s vs %s → %s', (p, s, want) => {
    expect(globMatch(p, s)).toBe(want);
  });
  it('matches like the equivalent anchored RegExp', () => {
    const toRe = (p: string) => new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 's');
    fc.assert(fc.property(fc.stringMatching(/^[ab*?.]{0,8}$/), fc.stringMatching(/^[ab.]{0,10}$/), (p, s) => {
      expect(globMatch(p, s)).toBe(toRe(p).test(s));
    }), { numRuns: 500 });
  });
});

describe('literalPrefix', () => {
  it('is the text before the first * or ?', () => {
    fc.assert(fc.property(fc.stringMatching(/^[ab*?:]{0,10}$/), (p) => {
      let i = 0;
      while (i < p.length && p[i] !== '*' && p[i] !== '?') i++;
      expect(literalPrefix(p)).toBe(p.slice(0, i));
    }), { numRuns: 500 });
  });
});

describe('RadixTree', () => {
  it('finds exactly the keys that are prefixes of the input', () => {
    fc.assert(fc.property(fc.array(fc.stringMatching(/^[ab:/]{0,6}$/), { maxLength: 20 }), fc.stringMatching(/^[ab:/]{0,8}$/), (keys, s) => {
      const t = new RadixTree<string>();
      keys.forEach((k) => t.insert(k, k));
      const out: string[][] = [['stale']];
      const n = t.collect(s, out, 0);
      expect(out.slice(0, n).flat().sort()).toEqual(keys.filter((k) => s.startsWith(k)).sort());
      // appends after what is already there
      expect(t.collect(s, out, n)).toBe(2 * n);
    }), { numRuns: 300 });
  });
});
