import { z } from 'zod';
import { FunctionRulesSchema, GlobalRulesSchema, GoldenFileSchema, ResponsesConfigSchema } from './schema';

/** JSON Schema (draft 2020-12) of each rules file, from the zod schemas (refinements are not expressible; lint checks them). */
export function rulesJsonSchema(kind: 'function' | 'global' | 'responses' | 'tests'): Record<string, unknown> {
  const schema = { function: FunctionRulesSchema, global: GlobalRulesSchema, responses: ResponsesConfigSchema, tests: GoldenFileSchema }[kind];
  const title = { function: 'Warden function rules file (rules/functions/*.yaml)', global: 'Warden global rules (rules/global.yaml)', responses: 'Warden response rules (rules/responses.yaml)', tests: 'Warden golden tests (rules/tests/*.yaml)' }[kind];
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return { ...json, $id: `https://warden.dev/schema/${kind === 'function' ? 'rules-file' : kind}.schema.json`, title };
}
