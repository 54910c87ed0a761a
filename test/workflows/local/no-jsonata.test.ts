import { readdirSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { jsonataOrAssignUses } from '../../../workflows/local/asl-guard';
import { stateMachinesFromTemplate, type CfnTemplate } from '../../../workflows/local/asl-from-template';
import { LocalRunner } from '../../../workflows/local/runner';
import { synthesizedTemplate } from '../../infra/template';

const WORKFLOWS = resolve(__dirname, '../../../workflows');
/** every `workflows/<name>/<name>.workflow.ts` */
const workflowNames = readdirSync(WORKFLOWS).filter((d) => existsSync(join(WORKFLOWS, d, `${d}.workflow.ts`)));
const pascal = (s: string) => s.split(/[-_]/).map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');

describe('guard: no JSONata and no Assign in any workflow definition (the local runner would ignore them)', () => {
  const machines = stateMachinesFromTemplate(synthesizedTemplate() as CfnTemplate);

  it('the synthesized Warden stack holds a state machine for every workflows/<name>/<name>.workflow.ts', () => {
    expect(workflowNames.length).toBeGreaterThanOrEqual(4);
    for (const name of workflowNames) {
      expect(machines.map((m) => m.logicalId).filter((id) => id.includes(`${pascal(name)}StateMachine`))).toHaveLength(1);
    }
  });

  it.each(workflowNames)('%s: JSONPath only, no Assign', (name) => {
    const m = machines.find((x) => x.logicalId.includes(`${pascal(name)}StateMachine`))!;
    expect(m.definition.States).toBeDefined();
    expect(jsonataOrAssignUses(m.definition)).toEqual([]);
  });

  it('the guard catches JSONata states, JSONata expressions and Assign (so it can fail)', () => {
    const stack = new Stack(new App(), 'Bad');
    const a = sfn.Pass.jsonata(stack, 'J', { outputs: { x: '{% $states.input.y %}' } });
    const b = new sfn.Pass(stack, 'A', { assign: { counter: 1 } });
    new sfn.StateMachine(stack, 'SM', { definitionBody: sfn.DefinitionBody.fromChainable(a.next(b)) });
    const tpl = Template.fromStack(stack).toJSON() as CfnTemplate;
    const [bad] = stateMachinesFromTemplate(tpl);
    const found = jsonataOrAssignUses(bad!.definition);
    expect(found.some((f) => f.includes('QueryLanguage JSONata'))).toBe(true);
    expect(found.some((f) => f.includes('Assign'))).toBe(true);
    expect(found.some((f) => f.includes('JSONata expression'))).toBe(true);
  });

  it('a Parameters payload key named like a JSONata field is not a false positive', () => {
    expect(jsonataOrAssignUses({ StartAt: 'P', States: { P: { Type: 'Pass', Parameters: { Output: 'x', Assign: 'y' }, End: true } } })).toEqual([]);
  });

  it('the runner refuses to run a definition that uses them', async () => {
    const stack = new Stack(new App(), 'Bad2');
    new sfn.StateMachine(stack, 'SM', { definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'A', { assign: { counter: 1 } })) });
    const runner = new LocalRunner({ template: Template.fromStack(stack).toJSON() as CfnTemplate });
    await expect(runner.run('SM', {})).rejects.toThrow(/uses JSONata or Assign/);
  });
});
