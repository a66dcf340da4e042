#!/usr/bin/env node
// `npm run schema`: writes schemas/ipxe-farm.schema.json from the farm's zod definition (src/core/farm/schema/).
// Commit the result; test/unit/farm/json-schema-file.test.ts fails while the committed file differs.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { repo } from './lib/system.mjs';

const esbuild = await import('esbuild');
const dir = mkdtempSync(path.join(os.tmpdir(), 'ipxe-farm-schema-'));
try {
  const out = path.join(dir, 'gen.cjs');
  await esbuild.build({ entryPoints: [path.join(repo, 'src/core/farm/schema/jsonSchema.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: out, logLevel: 'warning' });
  const { farmJsonSchemaText, FARM_JSON_SCHEMA_FILE } = createRequire(import.meta.url)(out);
  const file = path.join(repo, FARM_JSON_SCHEMA_FILE);
  writeFileSync(file, farmJsonSchemaText());
  console.log(`wrote ${path.relative(process.cwd(), file) || file}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
