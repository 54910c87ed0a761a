export * from './events/access-event';
export * from './events/decision-event';
export type * from './policy/types';
