import { functionsFromTemplate, resolveIntrinsics, stateMachinesFromTemplate, TemplateError, type CfnTemplate } from '../../../workflows/local/asl-from-template';

const template: CfnTemplate = {
  Resources: {
    Fn: { Type: 'AWS::Lambda::Function', Properties: { Environment: { Variables: { WARDEN_TASK: 'quarantine.plan', TABLE: { Ref: 'Table' } } } } },
    Named: { Type: 'AWS::Lambda::Function', Properties: { FunctionName: 'my-fn' } },
    Table: { Type: 'AWS::DynamoDB::Table', Properties: {} },
    Topic: { Type: 'AWS::SNS::Topic', Properties: {} },
    SM: {
      Type: 'AWS::StepFunctions::StateMachine',
      Properties: {
        DefinitionString: { 'Fn::Join': ['', ['{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:', { Ref: 'AWS::Partition' }, ':states:::lambda:invoke","Parameters":{"FunctionName":"', { 'Fn::GetAtt': ['Fn', 'Arn'] }, '","Payload.$":"$"},"Next":"B"},"B":{"Type":"Pass","Result":"', { Ref: 'Topic' }, '","End":true}}}']] },
      },
    },
  },
};

describe('asl-from-template', () => {
  it('resolves Fn::Join, Ref and Fn::GetAtt with placeholder names and ARNs', () => {
    const [sm] = stateMachinesFromTemplate(template);
    expect(sm!.logicalId).toBe('SM');
    const states = sm!.definition.States as Record<string, Record<string, unknown>>;
    expect(states.A!.Resource).toBe('arn:aws:states:::lambda:invoke');
    expect((states.A!.Parameters as Record<string, unknown>).FunctionName).toBe('arn:aws:lambda:us-east-1:123456789012:function:Fn');
    expect(states.B!.Result).toBe('arn:aws:sns:us-east-1:123456789012:Topic');
  });

  it('lists Lambda functions with their WARDEN_TASK and resolved environment', () => {
    expect(functionsFromTemplate(template)).toEqual([
      { logicalId: 'Fn', name: 'Fn', arn: 'arn:aws:lambda:us-east-1:123456789012:function:Fn', wardenTask: 'quarantine.plan', environment: { WARDEN_TASK: 'quarantine.plan', TABLE: 'Table' } },
      { logicalId: 'Named', name: 'my-fn', arn: 'arn:aws:lambda:us-east-1:123456789012:function:my-fn', environment: {} },
    ]);
  });

  it('handles Fn::Sub, Fn::Select/Split and AWS::NoValue', () => {
    expect(resolveIntrinsics({ 'Fn::Sub': 'arn:${AWS::Partition}:x:${AWS::Region}:${Fn.Arn}' }, template)).toBe('arn:aws:x:us-east-1:arn:aws:lambda:us-east-1:123456789012:function:Fn');
    expect(resolveIntrinsics({ 'Fn::Select': [1, { 'Fn::Split': ['/', 'a/b/c'] }] }, template)).toBe('b');
    expect(resolveIntrinsics({ a: { Ref: 'AWS::NoValue' }, b: 1 }, template)).toEqual({ b: 1 });
  });

  it('says what it cannot resolve', () => {
    expect(() => resolveIntrinsics({ Ref: 'Missing' }, template)).toThrow(TemplateError);
    expect(() => resolveIntrinsics({ 'Fn::ImportValue': 'x' }, template)).toThrow(/Fn::ImportValue is not supported/);
    expect(() => stateMachinesFromTemplate({ Resources: { S: { Type: 'AWS::StepFunctions::StateMachine', Properties: { DefinitionString: '{bad' } } } })).toThrow(/not valid JSON/);
  });
});
