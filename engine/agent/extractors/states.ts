import { arn, str, type Extractor } from './context';

/** Step Functions: stateMachineArn / executionArn / activityArn / resourceArn as given; CreateStateMachine by name. Task-token calls have no resource. */
export const states: Extractor = (action, input, ctx) => {
  const given = str(input.stateMachineArn) ?? str(input.executionArn) ?? str(input.activityArn) ?? str(input.resourceArn) ?? str(input.mapRunArn);
  if (given) return [given];
  if (action === 'CreateStateMachine' && str(input.name)) return [arn(ctx, 'states', `stateMachine:${str(input.name)}`)];
  if (action === 'CreateActivity' && str(input.name)) return [arn(ctx, 'states', `activity:${str(input.name)}`)];
  return [];
};
