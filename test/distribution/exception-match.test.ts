import fc from 'fast-check';
import type { Access } from '../../engine/events/access-event';
import { exceptionCovers, exceptionLookup, findException, NO_EXCEPTIONS, type ExceptionLike } from '../../engine/handler/exception-match';
import * as viaHandler from '../../engine/handler/exceptions';

const NOW = Date.UTC(2026, 10, 23, 18, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString();
const ex = (access: Access, over: Partial<ExceptionLike> = {}): ExceptionLike => ({ exceptionId: 'x1', access, expiresAt: iso(NOW + 3_600_000), ...over });

const TABLE = 'arn:aws:dynamodb:us-east-1:123456789012:table/orders';

describe('exception matching: exactly the approved access', () => {
  it('the engine module re-exports the zod-free matcher (one semantics for engine and agent)', () => {
    expect(viaHandler.exceptionCovers).toBe(exceptionCovers);
    expect(viaHandler.findException).toBe(findException);
  });

  describe('aws', () => {
    const put = ex({ kind: 'aws', service: 'dynamodb', action: 'PutItem', resource: TABLE });
    it('Compliance 1: same service/action (any case) and resource', () => {
      expect(exceptionCovers(put, { kind: 'aws', service: 'DynamoDB', action: 'putitem', resource: TABLE })).toBe(true);
    });
    it('Noncompliance 1: another action, resource, resource case or a missing resource', () => {
      expect(exceptionCovers(put, { kind: 'aws', service: 'dynamodb', action: 'DeleteItem', resource: TABLE })).toBe(false);
      expect(exceptionCovers(put, { kind: 'aws', service: 'dynamodb', action: 'PutItem', resource: `${TABLE}2` })).toBe(false);
      expect(exceptionCovers(put, { kind: 'aws', service: 'dynamodb', action: 'PutItem', resource: TABLE.toUpperCase() })).toBe(false);
      expect(exceptionCovers(put, { kind: 'aws', service: 'dynamodb', action: 'PutItem' })).toBe(false);
    });
    it('an exception without resource covers only calls without resource', () => {
      const noRes = ex({ kind: 'aws', service: 'sts', action: 'GetCallerIdentity' });
      expect(exceptionCovers(noRes, { kind: 'aws', service: 'sts', action: 'GetCallerIdentity' })).toBe(true);
      expect(exceptionCovers(noRes, { kind: 'aws', service: 'sts', action: 'GetCallerIdentity', resource: 'arn:aws:iam::1:role/x' })).toBe(false);
    });
    it('an incomplete aws exception (no service or action) covers nothing', () => {
      expect(exceptionCovers(ex({ kind: 'aws', service: 'dynamodb' }), { kind: 'aws', service: 'dynamodb' })).toBe(false);
      expect(exceptionCovers(ex({ kind: 'aws', action: 'PutItem' }), { kind: 'aws', action: 'PutItem' })).toBe(false);
    });
    it('a "*" in a resource is a character, not a pattern', () => {
      const star = ex({ kind: 'aws', service: 'dynamodb', action: 'PutItem', resource: 'arn:aws:dynamodb:us-east-1:123456789012:table/*' });
      expect(exceptionCovers(star, { kind: 'aws', service: 'dynamodb', action: 'PutItem', resource: TABLE })).toBe(false);
    });
  });

  describe('http / tcp', () => {
    const api = ex({ kind: 'http', host: 'api.example.com', port: 443 });
    it('Compliance 2: host case-insensitive, trailing dot ignored, same port; the address may differ', () => {
      expect(exceptionCovers(api, { kind: 'http', host: 'API.Example.com.', port: 443, address: '203.0.113.9' })).toBe(true);
    });
    it('Noncompliance 2: another port, no port, another kind, a sub- or parent domain', () => {
      expect(exceptionCovers(api, { kind: 'http', host: 'api.example.com', port: 8443 })).toBe(false);
      expect(exceptionCovers(api, { kind: 'http', host: 'api.example.com' })).toBe(false);
      expect(exceptionCovers(api, { kind: 'tcp', host: 'api.example.com', port: 443 })).toBe(false);
      expect(exceptionCovers(api, { kind: 'http', host: 'x.api.example.com', port: 443 })).toBe(false);
      expect(exceptionCovers(api, { kind: 'http', host: 'example.com', port: 443 })).toBe(false);
    });
    it('a port-less exception covers only port-less accesses', () => {
      const noPort = ex({ kind: 'http', host: 'api.example.com' });
      expect(exceptionCovers(noPort, { kind: 'http', host: 'api.example.com' })).toBe(true);
      expect(exceptionCovers(noPort, { kind: 'http', host: 'api.example.com', port: 443 })).toBe(false);
    });
    it('"*.example.com" in an exception is literal', () => {
      expect(exceptionCovers(ex({ kind: 'http', host: '*.example.com', port: 443 }), { kind: 'http', host: 'api.example.com', port: 443 })).toBe(false);
    });
    it('an address-only exception covers that address without a name, nothing else', () => {
      const ip = ex({ kind: 'tcp', address: '10.9.8.7', port: 5432 });
      expect(exceptionCovers(ip, { kind: 'tcp', address: '10.9.8.7', port: 5432 })).toBe(true);
      expect(exceptionCovers(ip, { kind: 'tcp', address: '10.9.8.8', port: 5432 })).toBe(false);
      expect(exceptionCovers(ip, { kind: 'tcp', host: 'db.internal', address: '10.9.8.7', port: 5432 })).toBe(false);
    });
    it('an exception with neither host nor address covers nothing (never "any host on this port")', () => {
      expect(exceptionCovers(ex({ kind: 'tcp', port: 443 }), { kind: 'tcp', host: 'anything.example', port: 443 })).toBe(false);
    });
  });

  describe('expiry and choice', () => {
    const access: Access = { kind: 'http', host: 'api.example.com', port: 443 };
    it('active strictly before expiresAt, not at or after it', () => {
      const lookup = exceptionLookup([ex(access, { expiresAt: iso(NOW + 1000) })]);
      expect(lookup.find(access, NOW + 999)?.exceptionId).toBe('x1');
      expect(lookup.find(access, NOW + 1000)).toBeUndefined();
      expect(findException([ex(access, { expiresAt: iso(NOW + 1000) })], access, NOW + 1000)).toBeUndefined();
    });
    it('picks the longest-lasting covering exception and reports its expiry and approval', () => {
      const lookup = exceptionLookup([
        ex(access, { exceptionId: 'short', expiresAt: iso(NOW + 1000) }),
        { ...ex(access, { exceptionId: 'long', expiresAt: iso(NOW + 5000) }), approvalId: 'apr_1' },
        ex({ kind: 'http', host: 'other.example.com', port: 443 }, { exceptionId: 'other', expiresAt: iso(NOW + 9000) }),
      ]);
      expect(lookup.size).toBe(3);
      expect(lookup.find(access, NOW)).toEqual({ exceptionId: 'long', expiresAtMs: NOW + 5000, approvalId: 'apr_1' });
      expect(findException([ex(access, { exceptionId: 'a', expiresAt: iso(NOW + 1) }), ex(access, { exceptionId: 'b', expiresAt: iso(NOW + 2) })], access, NOW)?.exceptionId).toBe('b');
    });
    it('an unparseable expiry is never active', () => {
      const lookup = exceptionLookup([ex(access, { expiresAt: 'tomorrow-ish' })]);
      expect(lookup.size).toBe(0);
      expect(lookup.find(access, NOW)).toBeUndefined();
      expect(findException([ex(access, { expiresAt: 'tomorrow-ish' })], access, NOW)).toBeUndefined();
    });
    it('an empty set is the shared empty lookup', () => {
      expect(exceptionLookup([])).toBe(NO_EXCEPTIONS);
      expect(NO_EXCEPTIONS.find(access, NOW)).toBeUndefined();
    });
  });
});

describe('exception matching properties', () => {
  const label = fc.stringMatching(/^[a-z0-9-]{1,12}$/);
  const host = fc.array(label, { minLength: 1, maxLength: 4 }).map((l) => l.join('.'));
  const netAccess = fc.record({ kind: fc.constantFrom('http' as const, 'tcp' as const), host, port: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }) });
  const awsAccess = fc.record({ kind: fc.constant('aws' as const), service: label, action: label, resource: fc.option(label.map((r) => `arn:aws:s3:::${r}`), { nil: undefined }) });
  const access = fc.oneof(netAccess, awsAccess) as unknown as fc.Arbitrary<Access>;

  it('an exception approved for an access covers that access', () => {
    fc.assert(fc.property(access, (a) => exceptionCovers(ex(a), a)));
  });

  it('changing any compared field of the access breaks coverage', () => {
    fc.assert(fc.property(access, fc.constantFrom('kind', 'host', 'port', 'service', 'action', 'resource'), (a, field) => {
      const changed: Access = { ...a };
      switch (field) {
        case 'kind': changed.kind = a.kind === 'aws' ? 'http' : a.kind === 'http' ? 'tcp' : 'aws'; break;
        case 'host': if (a.kind === 'aws') return true; changed.host = `x${a.host}`; break;
        case 'port': if (a.kind === 'aws') return true; changed.port = a.port === undefined ? 443 : a.port === 1 ? 2 : a.port - 1; break;
        case 'service': if (a.kind !== 'aws') return true; changed.service = `${a.service}x`; break;
        case 'action': if (a.kind !== 'aws') return true; changed.action = `${a.action}x`; break;
        case 'resource': if (a.kind !== 'aws') return true; changed.resource = a.resource === undefined ? 'arn:aws:s3:::other' : undefined; break;
      }
      return !exceptionCovers(ex(a), changed);
    }));
  });
});
