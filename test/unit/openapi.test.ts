import { readFileSync } from 'node:fs';
import SwaggerParser from '@apidevtools/swagger-parser';
import { describe, expect, it } from 'vitest';
import { openApiDocument } from '../../functions/http/openapi.ts';
import { routes } from '../../functions/http/routes.ts';

const committed = JSON.parse(readFileSync(new URL('../../docs/openapi.json', import.meta.url), 'utf8'));

describe('the OpenAPI document', () => {
  it('is the one docs/openapi.json holds (run `npm run openapi` after changing a route)', () => {
    expect(committed).toEqual(openApiDocument(routes));
  });

  it('validates as OpenAPI 3.1 with a maintained validator', async () => {
    await expect(SwaggerParser.validate(structuredClone(committed))).resolves.toBeTruthy();
  });

  it('documents every route of the route table, each with its path parameters', () => {
    for (const route of routes) {
      const path = route.path.replace(/:(\w+)\*?/g, '{$1}');
      const operation = committed.paths[path]?.[route.method.toLowerCase()];
      expect(operation, `${route.method} ${route.path}`).toBeDefined();
      const params = [...route.path.matchAll(/:(\w+)\*?/g)].map((m) => m[1]);
      const documented = (operation.parameters ?? [])
        .filter((p: { in: string }) => p.in === 'path')
        .map((p: { name: string }) => p.name);
      expect(documented.sort()).toEqual(params.sort());
    }
  });

  it('states the name rules the server enforces', () => {
    const create = committed.paths['/v1/uploads'].post.requestBody.content['application/json'].schema;
    expect(create.properties.namespace).toMatchObject({ type: 'string', maxLength: 64 });
    expect(create.properties.namespace.pattern).toBe('^[a-z0-9]+(?:[._-][a-z0-9]+)*$');
    expect(create.additionalProperties).toBe(false);
  });

  it('has every route of the table in docs/api.md too, the reference people read', () => {
    const reference = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8');
    const missing = routes
      .map((route) => route.path.replace(/:(\w+)\*?/g, '{$1}'))
      .filter(
        (path) =>
          !reference.includes(path) &&
          !reference.includes(path.replace('/v1/packages/{ns}/{pkg}/versions/{version}', '…/versions/{v}')),
      );
    expect(missing).toEqual([]);
  });
});
