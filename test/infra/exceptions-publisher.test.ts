/**
 * Approved exceptions reach the agents: the exceptions signing key, the publisher Lambda and its
 * least-privilege role, the PublishExceptions state, and the agents' WARDEN_EXCEPTIONS_PUBLIC_KEY.
 * One small in-process synth (bundling skipped) with the store and both keys pinned.
 */
import { resolve } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { BUNDLING_STACKS } from 'aws-cdk-lib/cx-api';
import { generateKeyPairSync } from 'node:crypto';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Warden } from '../../infra/warden';

const RULES = resolve(__dirname, '../../rules');
const pem = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();

type Res = { Type: string; Properties: Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any

function synth(policyStore: { publicKeyPem?: string; exceptionsPublicKeyPem?: string }) {
  const app = new App({ context: { [BUNDLING_STACKS]: [] } });
  const stack = new Stack(app, 'Protected');
  const warden = new Warden(stack, 'Warden', { rules: RULES, policyStore });
  const fn = new lambda.Function(stack, 'PaymentsWorker', { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => 1;') });
  warden.protect(fn, { mode: 'block' });
  return { stack, warden, template: Template.fromStack(stack) };
}

const policiesOf = (t: Template, rolePrefix: RegExp): any[] => Object.values(t.findResources('AWS::IAM::Policy') as Record<string, Res>) // eslint-disable-line @typescript-eslint/no-explicit-any
  .filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => rolePrefix.test(r.Ref)))
  .flatMap((p) => p.Properties.PolicyDocument.Statement);

describe('exceptions publishing on AWS (policyStore)', () => {
  const policyKey = pem();
  const exceptionsKey = pem();
  let s: ReturnType<typeof synth>;
  let nag: ReturnType<AwsSolutionsChecks['validateScope']>;
  beforeAll(() => {
    s = synth({ publicKeyPem: policyKey, exceptionsPublicKeyPem: exceptionsKey });
    nag = new AwsSolutionsChecks().validateScope(s.stack);
  });

  it('creates a second SIGN_VERIFY key, separate from the policy signing key, with its ARN as an output', () => {
    const keys = Object.entries(s.template.findResources('AWS::KMS::Key', { Properties: { KeyUsage: 'SIGN_VERIFY' } }));
    expect(keys.map(([id]) => id).sort()).toEqual([expect.stringMatching(/^WardenExceptionsSigningKey/), expect.stringMatching(/^WardenPolicySigningKey/)]);
    expect(s.warden.policyStore!.exceptionsSigningKey).not.toBe(s.warden.policyStore!.signingKey);
    expect(Object.keys(s.template.toJSON().Outputs)).toEqual(expect.arrayContaining([expect.stringMatching(/ExceptionsSigningKeyArn/)]));
  });

  it('the publisher may only Query the exceptions table, Sign with the exceptions key and read/write exceptions/*', () => {
    const fn = s.warden.approval.publishFunction!;
    const roleId = s.stack.getLogicalId(fn.role!.node.defaultChild as never);
    const statements = policiesOf(s.template, new RegExp(`^${roleId}$`));
    const allows = statements.filter((st) => st.Effect === 'Allow');
    const actions = allows.flatMap((st) => [st.Action].flat()).sort();
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:Query', 'kms:Sign', 's3:GetObject', 's3:PutObject']));
    expect(actions).not.toContain('kms:GetPublicKey'); // the key is pinned
    expect(actions.filter((a: string) => /^(kms|s3|dynamodb):/.test(a)).sort()).toEqual(['dynamodb:Query', 'kms:Sign', 's3:GetObject', 's3:PutObject']);
    const sign = allows.find((st) => [st.Action].flat().includes('kms:Sign'));
    expect(JSON.stringify(sign.Resource)).toMatch(/WardenExceptionsSigningKey/);
    expect(JSON.stringify(sign.Resource)).not.toMatch(/WardenPolicySigningKey/);
    const s3 = allows.find((st) => [st.Action].flat().includes('s3:PutObject'));
    expect(s3.Resource).toEqual({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/^WardenPolicyStore[0-9A-F]/), 'Arn'] }, '/policy/exceptions/*']] });
    const query = allows.find((st) => [st.Action].flat().includes('dynamodb:Query'));
    expect(JSON.stringify(query.Resource)).toMatch(/WardenExceptionsTable/);
  });

  it('configures the publisher with the store, the key and its pinned public key', () => {
    const fns = s.template.findResources('AWS::Lambda::Function', { Properties: { Environment: { Variables: { WARDEN_TASK: 'approval.publish-exceptions' } } } }) as Record<string, Res>;
    const [fn] = Object.values(fns);
    expect(fn!.Properties.Environment.Variables).toMatchObject({
      WARDEN_POLICY_STORE: { 'Fn::Join': ['', ['s3://', { Ref: expect.stringMatching(/^WardenPolicyStore/) }, '/policy']] },
      WARDEN_EXCEPTIONS_KMS_KEY_ID: { 'Fn::GetAtt': [expect.stringMatching(/^WardenExceptionsSigningKey/), 'Arn'] },
      WARDEN_EXCEPTIONS_PUBLIC_KEY: exceptionsKey,
      WARDEN_EXCEPTION_TABLE: { Ref: expect.stringMatching(/^WardenExceptionsTable/) },
    });
  });

  it('the approval state machine publishes after the exception is recorded', () => {
    const [sm] = Object.values(s.template.findResources('AWS::StepFunctions::StateMachine', { Properties: { DefinitionString: Match.anyValue() } }) as Record<string, Res>)
      .filter((r) => JSON.stringify(r.Properties.DefinitionString).includes('RecordApproval'));
    const text = JSON.stringify(sm!.Properties.DefinitionString);
    expect(text).toMatch(/\\"RecordApproval\\":\{[^}]*\\"Next\\":\\"PublishExceptions\\"/);
    expect(text).toMatch(/\\"PublishExceptions\\":\{[^}]*\\"Next\\":\\"Approved\\"/);
  });

  it('protected functions trust the exceptions key; the engine does not get it', () => {
    const fns = s.template.findResources('AWS::Lambda::Function') as Record<string, Res>;
    const agent = Object.entries(fns).find(([id]) => id.startsWith('PaymentsWorker'))![1];
    expect(agent.Properties.Environment.Variables).toMatchObject({ WARDEN_EXCEPTIONS_PUBLIC_KEY: exceptionsKey, WARDEN_POLICY_PUBLIC_KEY: policyKey });
    const engine = Object.entries(fns).find(([id]) => id.startsWith('WardenEngine'))![1];
    expect(engine.Properties.Environment.Variables.WARDEN_EXCEPTIONS_PUBLIC_KEY).toBeUndefined();
  });

  it('stays cdk-nag clean (Warden\'s resources)', () => {
    const ours = nag.violations.flatMap((v) => v.violatingResources.filter((r) => (r.constructPath ?? '').startsWith('Protected/Warden/')).map((r) => `${v.ruleName}: ${r.constructPath}`));
    expect(ours).toEqual([]);
  });

  it('before the exceptions key is pinned: the publisher may read the public key, agents get no exceptions key', () => {
    const u = synth({ publicKeyPem: policyKey });
    const fn = u.warden.approval.publishFunction!;
    const roleId = u.stack.getLogicalId(fn.role!.node.defaultChild as never);
    const actions = policiesOf(u.template, new RegExp(`^${roleId}$`)).filter((st) => st.Effect === 'Allow').flatMap((st) => [st.Action].flat());
    expect(actions).toEqual(expect.arrayContaining(['kms:Sign', 'kms:GetPublicKey']));
    const fns = u.template.findResources('AWS::Lambda::Function') as Record<string, Res>;
    const agent = Object.entries(fns).find(([id]) => id.startsWith('PaymentsWorker'))![1];
    expect(agent.Properties.Environment.Variables.WARDEN_EXCEPTIONS_PUBLIC_KEY).toBeUndefined();
  });

  it('refuses the policy key as exceptions key, and a private key', () => {
    expect(() => synth({ publicKeyPem: policyKey, exceptionsPublicKeyPem: policyKey })).toThrow(/exceptions are signed with a key of their own/);
    expect(() => synth({ exceptionsPublicKeyPem: '-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----' })).toThrow(/exceptionsPublicKeyPem must be a PEM public key/);
  });
});
