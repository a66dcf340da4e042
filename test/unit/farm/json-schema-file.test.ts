import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { FARM_JSON_SCHEMA_FILE, farmJsonSchemaText } from '../../../src/core/farm/schema/jsonSchema';

const repo = path.resolve(__dirname, '..', '..', '..', '..');

test('the committed JSON Schema is the one the farm definition generates (run `npm run schema` after changing it)', () => {
  const committed = readFileSync(path.join(repo, FARM_JSON_SCHEMA_FILE), 'utf8');
  assert.equal(committed, farmJsonSchemaText(), `${FARM_JSON_SCHEMA_FILE} is stale: run \`npm run schema\` and commit the result`);
});

test('package.json points VS Code at the generated file for ipxe-farm.json', () => {
  const pkg = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8'));
  const v = (pkg.contributes.jsonValidation as Array<{ fileMatch: string | string[]; url: string }>).find((j) => [j.fileMatch].flat().includes('ipxe-farm.json'));
  assert.equal(v?.url, `./${FARM_JSON_SCHEMA_FILE}`);
});
