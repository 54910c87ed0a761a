export * from './evaluate';
export { createUlidFactory } from './ids';
export { runEval, MAX_EVAL_LINE_BYTES, type EvalOptions, type EvalSummary } from './eval-stream';
