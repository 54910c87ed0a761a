/**
 * `Warden.protect(fn)`: one small in-process synth (bundling skipped) of a stack holding Warden
 * and one user function.
 */
import { resolve } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { BUNDLING_STACKS } from 'aws-cdk-lib/cx-api';
import { generateKeyPairSync } from 'node:crypto';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Warden, WardenPropsError } from '../../infra/warden';

const RULES = resolve(__dirname, '../../rules');

describe('Warden.protect', () => {
  let template: Template;
  let warden: Warden;
  let stack: Stack;
  let publicKeyPem: string;
  let nag: ReturnType<AwsSolutionsChecks['validateScope']>;

  beforeAll(() => {
    const app = new App({ context: { [BUNDLING_STACKS]: [] } });
    stack = new Stack(app, 'Protected');
    const pager = new sns.Topic(stack, 'Pager');
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    warden = new Warden(stack, 'Warden', { rules: RULES, agentAccounts: ['210987654321'], topics: { 'oncall-pager': pager }, policyStore: { publicKeyPem } });
    const fn = new lambda.Function(stack, 'OrdersApi', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => ({ ok: true });'),
    });
    warden.protect(fn, { mode: 'block' });
    template = Template.fromStack(stack);
    nag = new AwsSolutionsChecks().validateScope(stack);
  });

  it('adds the agent and rules layers and loads the agent first', () => {
    const fns = template.findResources('AWS::Lambda::Function');
    const props = Object.entries(fns).find(([id]) => id.startsWith('OrdersApi'))![1].Properties;
    expect(props.Layers).toHaveLength(2);
    expect(props.Environment.Variables).toMatchObject({
      NODE_OPTIONS: '--require warden/agent/register',
      WARDEN_POLICY: '/opt/warden/policy.json',
      WARDEN_MODE: 'block',
      WARDEN_EVENT_BUS: { 'Fn::GetAtt': [expect.stringMatching(/^WardenBus/), 'Arn'] },
    });
  });

  it('tags the function and its role with the protected tag', () => {
    const tagged = template.findResources('AWS::Lambda::Function', { Properties: { Tags: Match.arrayWith([{ Key: 'warden:protected', Value: 'true' }]) } });
    expect(Object.keys(tagged)).toEqual([expect.stringMatching(/^OrdersApi/)]);
    const roles = template.findResources('AWS::IAM::Role', { Properties: { Tags: Match.arrayWith([{ Key: 'warden:protected', Value: 'true' }]) } });
    expect(Object.keys(roles)).toEqual([expect.stringMatching(/^OrdersApiServiceRole/)]);
  });

  it('lets the role publish only warden.agent events', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^OrdersApiServiceRole') }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'events:PutEvents', Condition: { StringEquals: { 'events:source': 'warden.agent' } } })]) },
    });
  });

  it('never tags Warden\'s own roles as protected', () => {
    const roles = template.findResources('AWS::IAM::Role', { Properties: { Tags: Match.arrayWith([{ Key: 'warden:component', Value: 'warden' }]) } });
    expect(Object.keys(roles).length).toBeGreaterThan(0);
    for (const r of Object.values(roles)) expect(JSON.stringify(r.Properties.Tags)).not.toContain('warden:protected');
  });

  it('refuses to protect Warden\'s own functions and non-Node functions', () => {
    expect(() => warden.protect(warden.engine)).toThrow(WardenPropsError);
    expect(() => warden.protect(warden.engine)).toThrow(/Warden's own functions cannot be protected/);
    const py = new lambda.Function(stack, 'Py', { runtime: lambda.Runtime.PYTHON_3_12, handler: 'i.h', code: lambda.Code.fromInline('def h(e, c): pass') });
    expect(() => warden.protect(py)).toThrow(/Node.js functions only, this one uses python3.12/);
  });

  it('lets the listed agent accounts publish warden.agent events from tagged principals', () => {
    const policies = Object.values(template.findResources('AWS::Events::EventBusPolicy')).map((r) => r.Properties.Statement);
    const allow = policies.find((st) => st.Effect === 'Allow');
    expect(allow).toMatchObject({
      Principal: { AWS: { 'Fn::Join': ['', expect.arrayContaining([':iam::210987654321:root'])] } },
      Action: 'events:PutEvents',
      Condition: { StringEquals: { 'events:source': 'warden.agent' }, Null: { 'aws:PrincipalTag/warden:protected': 'false' } },
    });
    const fromAccounts = policies.find((st) => st.Effect === 'Deny' && st.Condition?.StringNotEquals?.['aws:PrincipalAccount']);
    expect(fromAccounts.Condition.StringNotEquals['aws:PrincipalAccount']).toEqual([{ Ref: 'AWS::AccountId' }, '210987654321']);
  });

  it('uses a topic passed in props instead of creating one for that escalation key', () => {
    const topics = Object.keys(template.findResources('AWS::SNS::Topic'));
    expect(topics.some((id) => id.includes('EscalationTopiconcallpager'))).toBe(false);
    expect(topics.some((id) => id.includes('EscalationTopicsecurityleads'))).toBe(true);
    expect(warden.topics['oncall-pager']).toBeDefined();
  });

  it('creates the signed policy store and points the engine and the protected function at it', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      BucketEncryption: Match.anyValue(),
      LoggingConfiguration: Match.anyValue(),
    });
    template.hasResourceProperties('AWS::KMS::Key', { KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
    const fns = template.findResources('AWS::Lambda::Function');
    for (const prefix of ['WardenEngine', 'OrdersApi']) {
      const [, fn] = Object.entries(fns).find(([id]) => id.startsWith(prefix))!;
      expect(fn.Properties.Environment.Variables).toMatchObject({
        WARDEN_POLICY_STORE: { 'Fn::Join': ['', ['s3://', { Ref: expect.stringMatching(/^WardenPolicyStore/) }, '/policy']] },
        WARDEN_POLICY_PUBLIC_KEY: publicKeyPem,
        WARDEN_POLICY_BUCKET_OWNER: { Ref: 'AWS::AccountId' },
      });
    }
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^OrdersApiServiceRole') }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 's3:GetObject' })]) },
    });
  });

  it('rejects a policy store key that is not a PEM public key', () => {
    expect(() => new Warden(new Stack(new App(), 'K'), 'Warden', { rules: RULES, policyStore: { publicKeyPem: '-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----' } })).toThrow(/PEM public key.*Never pass a private key/);
  });

  it('passes cdk-nag with a protected function and the policy store (Warden\'s resources; the test\'s own function and topic are not Warden\'s)', () => {
    const ours = nag.violations.flatMap((v) => v.violatingResources.filter((r) => (r.constructPath ?? '').startsWith('Protected/Warden/')).map((r) => `${v.ruleName}: ${r.constructPath}`));
    expect(ours).toEqual([]);
    expect(nag.violations.length).toBeGreaterThan(0); // the check ran: the test's own bare function is flagged
  });
});
