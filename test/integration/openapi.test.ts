import { readFile } from 'node:fs/promises';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import { packaged, resourcesOfType } from '../support/package.ts';

const stack = inject('stack');
const spec = parse(await readFile(new URL('../../docs/openapi.yaml', import.meta.url), 'utf8'));
const STATUSES = '/v1/phone-numbers/{phoneNumber}/statuses';

function validatorFor(schemaName: string) {
  const ajv = new Ajv2020({ strict: false });
  ajv.addSchema({ $id: 'spec', components: spec.components });
  return ajv.compile({ $ref: `spec#/components/schemas/${schemaName}` });
}

/** The JSON schema the document gives the lookup's `status` answer. */
function responseValidator(status: string) {
  const response = spec.paths[STATUSES].get.responses[status];
  expect(response, `docs/openapi.yaml has no ${status} for GET ${STATUSES}`).toBeDefined();
  const ajv = new Ajv2020({ strict: false });
  ajv.addSchema({ $id: 'spec', components: spec.components });
  const schema = JSON.parse(
    JSON.stringify(response.content['application/json'].schema).replaceAll('"#/components/', '"spec#/components/'),
  );
  return { response, validate: ajv.compile(schema) };
}

/** API Gateway's own answers (resources/edge.yml) from the packaged template, rendered as it would. */
async function gatewayResponses() {
  const { template } = await packaged(stack.packages.plain);
  return resourcesOfType(template, 'AWS::ApiGateway::GatewayResponse').map(([, r]) => {
    const text: string = r.Properties.ResponseTemplates['application/json'];
    const body = JSON.parse(
      text
        .replaceAll('$context.requestId', 'c0ffee00-1234-4abc-8def-0123456789ab')
        .replaceAll('$context.error.messageString', JSON.stringify('Forbidden')),
    );
    const headers = Object.fromEntries(
      Object.entries((r.Properties.ResponseParameters ?? {}) as Record<string, string>).map(([k, v]) => [
        k.replace('gatewayresponse.header.', ''),
        v.slice(1, -1),
      ]),
    );
    return {
      type: r.Properties.ResponseType as string,
      status: r.Properties.StatusCode as string | undefined,
      body,
      headers,
    };
  });
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

  it('describes what API Gateway answers by itself: 403 for the key, 429 with Retry-After for the throttle', async () => {
    const responses = await gatewayResponses();
    const byType = new Map(responses.map((r) => [r.type, r]));
    for (const type of ['INVALID_API_KEY', 'MISSING_AUTHENTICATION_TOKEN', 'THROTTLED', 'QUOTA_EXCEEDED']) {
      const answer = byType.get(type);
      expect(answer, type).toBeDefined();
      const { response, validate } = responseValidator(answer?.status as string);
      expect(validate(answer?.body), `${type}: ${JSON.stringify(validate.errors)}`).toBe(true);
      // Every header the document requires is sent, and every header sent but Cache-Control is documented.
      for (const [name, header] of Object.entries((response.headers ?? {}) as Record<string, any>)) {
        if (header.required) expect(answer?.headers[name], `${type} ${name}`).toBeDefined();
      }
      for (const name of Object.keys(answer?.headers ?? {})) {
        if (name !== 'Cache-Control') expect(response.headers?.[name], `${type} sends ${name}`).toBeDefined();
      }
    }
    expect(byType.get('INVALID_API_KEY')?.status).toBe('403');
    expect(byType.get('THROTTLED')?.status).toBe('429');
    expect(Number(byType.get('THROTTLED')?.headers['Retry-After'])).toBeGreaterThanOrEqual(1);
    // The key is checked by API Gateway, which answers 403 (never 401): no 401 is documented.
    expect(spec.paths[STATUSES].get.responses['401']).toBeUndefined();
    expect(spec.components.securitySchemes.apiKey).toMatchObject({ type: 'apiKey', in: 'header', name: 'x-api-key' });
    // Whatever status the defaults stand in for, the body is the API's error body.
    const error = validatorFor('ErrorBody');
    for (const answer of responses)
      expect(error(answer.body), `${answer.type}: ${JSON.stringify(error.errors)}`).toBe(true);
  });
});
