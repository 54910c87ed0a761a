import { arn, isArn, str, uniq, type Extractor, type ExtractContext } from './context';

const bus = (ctx: ExtractContext, name: string | undefined) => {
  const n = name ?? 'default';
  return isArn(n) ? n : arn(ctx, 'events', `event-bus/${n}`);
};

/** EventBridge: PutEvents → every bus its entries name (default bus when none); rules as rule/[bus/]name; buses by Name. */
export const events: Extractor = (action, input, ctx) => {
  if (action === 'PutEvents') {
    const entries = Array.isArray(input.Entries) ? input.Entries : [];
    return uniq(entries.map((e) => bus(ctx, str((e as { EventBusName?: unknown } | null)?.EventBusName))));
  }
  if (/EventBus$/.test(action)) return [bus(ctx, str(input.Name))];
  if (/Rule$|Targets$/.test(action) || action === 'EnableRule' || action === 'DisableRule') {
    const name = str(input.Name) ?? str(input.Rule);
    if (!name) return [];
    if (isArn(name)) return [name];
    const b = str(input.EventBusName);
    const busName = b && isArn(b) ? b.split('event-bus/')[1] : b;
    return [arn(ctx, 'events', `rule/${busName && busName !== 'default' ? `${busName}/` : ''}${name}`)];
  }
  const r = str(input.ResourceARN) ?? str(input.Arn);
  return r ? [r] : [];
};
