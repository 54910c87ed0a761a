import { configFromEnv } from '../../engine/agent/config';
import { WardenConfigError } from '../../engine/agent/errors';

const base = { AWS_LAMBDA_FUNCTION_NAME: 'orders-api' };

describe('configFromEnv', () => {
  it('applies the defaults', () => {
    expect(configFromEnv(base)).toMatchObject({
      functionName: 'orders-api', eventBus: 'warden', mode: undefined, failOpen: false, reportIntervalMs: 60_000, policyPath: undefined, tags: {},
    });
  });

  it('reads every variable', () => {
    const c = configFromEnv({
      ...base, WARDEN_POLICY: '/opt/warden/policy.json', WARDEN_MODE: 'BLOCK', WARDEN_EVENT_BUS: 'sec-bus', WARDEN_FAIL_OPEN: 'true',
      WARDEN_REPORT_INTERVAL_S: '30', AWS_REGION: 'eu-west-1', WARDEN_ACCOUNT_ID: '123456789012', WARDEN_FUNCTION_TAGS: '{"team":"payments"}',
      AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001', WARDEN_FLUSH_BUDGET_MS: '500',
    });
    expect(c).toMatchObject({ policyPath: '/opt/warden/policy.json', mode: 'block', eventBus: 'sec-bus', failOpen: true, reportIntervalMs: 30_000,
      region: 'eu-west-1', account: '123456789012', tags: { team: 'payments' }, exemptEndpoints: ['127.0.0.1:9001'], flushBudgetMs: 500 });
  });

  it('treats empty variables as unset', () => {
    expect(configFromEnv({ ...base, WARDEN_MODE: '', WARDEN_ACCOUNT_ID: ' ' })).toMatchObject({ mode: undefined, account: undefined });
  });

  it.each([
    [{ WARDEN_MODE: 'enforce' }, /WARDEN_MODE must be one of monitor, block, learn/],
    [{ WARDEN_FAIL_OPEN: 'maybe' }, /WARDEN_FAIL_OPEN must be "true" or "false"/],
    [{ WARDEN_REPORT_INTERVAL_S: '-5' }, /WARDEN_REPORT_INTERVAL_S must be a positive number/],
    [{ WARDEN_REPORT_INTERVAL_S: 'soon' }, /WARDEN_REPORT_INTERVAL_S/],
    [{ WARDEN_ACCOUNT_ID: '1234' }, /12-digit/],
    [{ WARDEN_EVENT_BUS: 'has space' }, /WARDEN_EVENT_BUS must be an event bus name or ARN/],
    [{ WARDEN_FUNCTION_TAGS: '{not json' }, /WARDEN_FUNCTION_TAGS must be a JSON object/],
    [{ WARDEN_FUNCTION_TAGS: '{"n":1}' }, /WARDEN_FUNCTION_TAGS must be a JSON object/],
  ])('rejects %j with a clear message', (env, message) => {
    expect(() => configFromEnv({ ...base, ...env })).toThrow(message);
    expect(() => configFromEnv({ ...base, ...env })).toThrow(WardenConfigError);
  });

  it('lists every bad variable at once', () => {
    expect(() => configFromEnv({ ...base, WARDEN_MODE: 'x', WARDEN_FAIL_OPEN: 'y' })).toThrow(/WARDEN_MODE[\s\S]*WARDEN_FAIL_OPEN/);
  });

  it('requires a function name', () => {
    expect(() => configFromEnv({})).toThrow(/AWS_LAMBDA_FUNCTION_NAME.*WARDEN_FUNCTION_NAME/);
    expect(configFromEnv({ WARDEN_FUNCTION_NAME: 'local' }).functionName).toBe('local');
  });
});
