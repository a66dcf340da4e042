import * as z from 'zod';
import { FarmSchema } from './farm';

/** Where the generated file lives; package.json's jsonValidation points VS Code at it. */
export const FARM_JSON_SCHEMA_FILE = 'schemas/ipxe-farm.schema.json';

/**
 * The JSON Schema VS Code reads for ipxe-farm.json, made from the farm's zod definition: the file's side (io: input),
 * so defaults are optional and offered by completion. `npm run schema` writes it; a unit test fails when the
 * committed file differs from this.
 */
export function farmJsonSchemaText(): string {
  const schema = z.toJSONSchema(FarmSchema, { io: 'input', target: 'draft-07', unrepresentable: 'throw' }) as Record<string, unknown>;
  const { $schema, ...rest } = schema;
  const ordered = { $schema, $id: 'https://ipxe-farm.invalid/schemas/ipxe-farm.schema.json', ...rest };
  return `${JSON.stringify(ordered, null, 2)}\n`;
}
