import { readFile } from 'node:fs/promises';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';

const stack = inject('stack');
const spec = parse(await readFile(new URL('../../docs/openapi.yaml', import.meta.url), 'utf8'));

function validatorFor(schemaName: string) {
  const ajv = new Ajv2020({ strict: false });
  ajv.addSchema({ $id: 'spec', components: spec.components });
  return ajv.compile({ $ref: `spec#/components/schemas/${schemaName}` });
}

describe('docs/openapi.yaml', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const result = await new Validator().validate(spec);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(spec.openapi).toBe('3.1.0');
  });

  it('describes what the running API answers', async () => {
    const get = (path: string) =>
      fetch(`${stack.httpUrl}/dev/v1/phone-numbers/${path}`, { headers: { 'x-api-key': stack.apiKey } });
    const ok = await get('%2B8613711112222/statuses?limit=3');
    const text = await ok.text();
    expect(ok.status, text).toBe(200);
    const result = validatorFor('LookupResult');
    expect(result(JSON.parse(text)), JSON.stringify(result.errors)).toBe(true);
    const bad = await get('%2B8613711112222/statuses?limit=0');
    const error = validatorFor('ErrorBody');
    expect(error(await bad.json()), JSON.stringify(error.errors)).toBe(true);
  });
});
