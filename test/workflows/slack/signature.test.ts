import { computeSlackSignature, rawBodyOf, verifySlackSignature } from '../../../workflows/slack/signature';
import { SignatureError } from '../../../workflows/slack/errors';

const SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const NOW_MS = Date.UTC(2026, 10, 23, 21, 0, 0);
const NOW_S = String(NOW_MS / 1000);
const BODY = Buffer.from('payload=%7B%22type%22%3A%22block_actions%22%7D', 'utf8');

function signed(body: Buffer, ts = NOW_S, secret = SECRET) {
  return { rawBody: body, timestamp: ts, signature: computeSlackSignature(secret, ts, body) };
}
function reasonOf(fn: () => void): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof SignatureError) return err.reason;
    throw err;
  }
  return 'accepted';
}

describe('Slack v0 signature', () => {
  it('matches the example in Slack\'s documentation', () => {
    const body = Buffer.from('token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c');
    expect(computeSlackSignature('8f742231b10e8888abcd99yyyzzz85a5', '1531420618', body)).toBe('v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503');
  });

  it('accepts a valid request', () => {
    expect(reasonOf(() => verifySlackSignature(signed(BODY), [SECRET], NOW_MS))).toBe('accepted');
  });

  it('accepts timestamps up to 300 s away either way, refuses beyond', () => {
    const s = NOW_MS / 1000;
    expect(reasonOf(() => verifySlackSignature(signed(BODY, String(s - 300)), [SECRET], NOW_MS))).toBe('accepted');
    expect(reasonOf(() => verifySlackSignature(signed(BODY, String(s + 300)), [SECRET], NOW_MS))).toBe('accepted');
    expect(reasonOf(() => verifySlackSignature(signed(BODY, String(s - 301)), [SECRET], NOW_MS))).toBe('stale-timestamp');
    expect(reasonOf(() => verifySlackSignature(signed(BODY, String(s + 301)), [SECRET], NOW_MS))).toBe('future-timestamp');
    expect(reasonOf(() => verifySlackSignature(signed(BODY, String(s - 86400)), [SECRET], NOW_MS))).toBe('stale-timestamp');
  });

  it('refuses a wrong secret', () => {
    expect(reasonOf(() => verifySlackSignature(signed(BODY, NOW_S, 'another-secret'), [SECRET], NOW_MS))).toBe('mismatch');
  });

  it('accepts the previous secret during rotation, and refuses when no secret is configured', () => {
    expect(reasonOf(() => verifySlackSignature(signed(BODY, NOW_S, 'old-secret'), [SECRET, 'old-secret'], NOW_MS))).toBe('accepted');
    expect(reasonOf(() => verifySlackSignature(signed(BODY), [], NOW_MS))).toBe('mismatch');
    expect(reasonOf(() => verifySlackSignature(signed(BODY), [''], NOW_MS))).toBe('mismatch');
  });

  it('refuses a tampered body, a re-used signature with another timestamp, and a truncated body', () => {
    const req = signed(BODY);
    const tampered = Buffer.from(BODY);
    tampered[tampered.length - 1] = 0x41;
    expect(reasonOf(() => verifySlackSignature({ ...req, rawBody: tampered }, [SECRET], NOW_MS))).toBe('mismatch');
    expect(reasonOf(() => verifySlackSignature({ ...req, timestamp: String(NOW_MS / 1000 + 1) }, [SECRET], NOW_MS))).toBe('mismatch');
    expect(reasonOf(() => verifySlackSignature({ ...req, rawBody: BODY.subarray(0, BODY.length - 1) }, [SECRET], NOW_MS))).toBe('mismatch');
  });

  it('refuses missing headers', () => {
    const req = signed(BODY);
    expect(reasonOf(() => verifySlackSignature({ ...req, timestamp: undefined }, [SECRET], NOW_MS))).toBe('missing-header');
    expect(reasonOf(() => verifySlackSignature({ ...req, signature: undefined }, [SECRET], NOW_MS))).toBe('missing-header');
    expect(reasonOf(() => verifySlackSignature({ ...req, signature: '' }, [SECRET], NOW_MS))).toBe('missing-header');
  });

  it.each([
    ['timestamp with letters', { timestamp: '1531420618a' }],
    ['negative timestamp', { timestamp: '-1531420618' }],
    ['timestamp in ms-with-dot', { timestamp: '1531420618.5' }],
    ['signature without v0=', { signature: 'a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503' }],
    ['v1 signature', { signature: 'v1=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503' }],
    ['short signature', { signature: 'v0=a2114d57' }],
    ['upper-case hex', { signature: 'v0=A2114D57B48EAC39B9AD189DD8316235A7B4A8D21A10BD27519666489C69B503' }],
    ['two signatures', { signature: 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503,v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503' }],
  ])('refuses a malformed header: %s', (_name, patch) => {
    expect(reasonOf(() => verifySlackSignature({ ...signed(BODY), ...patch }, [SECRET], NOW_MS))).toBe('malformed-header');
  });

  it('verifies a base64-encoded body with non-ASCII text over its raw bytes', () => {
    // API Gateway base64-encodes bodies it does not treat as text; the bytes here are raw UTF-8
    const text = 'payload=' + JSON.stringify({ type: 'block_actions', user: { name: 'Zoë Ñúñez 李小龍 🚀' } });
    const bytes = Buffer.from(text, 'utf8');
    const event = { body: bytes.toString('base64'), isBase64Encoded: true };
    const raw = rawBodyOf(event);
    expect(raw.equals(bytes)).toBe(true);
    expect(reasonOf(() => verifySlackSignature({ rawBody: raw, timestamp: NOW_S, signature: computeSlackSignature(SECRET, NOW_S, bytes) }, [SECRET], NOW_MS))).toBe('accepted');
    // signing the base64 text instead of the bytes must not verify
    expect(reasonOf(() => verifySlackSignature({ rawBody: raw, timestamp: NOW_S, signature: computeSlackSignature(SECRET, NOW_S, Buffer.from(event.body)) }, [SECRET], NOW_MS))).toBe('mismatch');
    // raw UTF-8 with non-ASCII characters (not base64) also verifies over its bytes
    const plain = { body: 'payload=Zoë 🚀', isBase64Encoded: false };
    expect(reasonOf(() => verifySlackSignature({ rawBody: rawBodyOf(plain), timestamp: NOW_S, signature: computeSlackSignature(SECRET, NOW_S, Buffer.from('payload=Zoë 🚀', 'utf8')) }, [SECRET], NOW_MS))).toBe('accepted');
    // a Latin-1 reading of the bytes would be a different body
    expect(reasonOf(() => verifySlackSignature({ rawBody: Buffer.from(bytes.toString('latin1'), 'utf8'), timestamp: NOW_S, signature: computeSlackSignature(SECRET, NOW_S, bytes) }, [SECRET], NOW_MS))).toBe('mismatch');
  });

  it('treats a missing body as empty', () => {
    expect(rawBodyOf({ body: null }).length).toBe(0);
    expect(reasonOf(() => verifySlackSignature({ rawBody: rawBodyOf({}), timestamp: NOW_S, signature: computeSlackSignature(SECRET, NOW_S, Buffer.alloc(0)) }, [SECRET], NOW_MS))).toBe('accepted');
  });
});
