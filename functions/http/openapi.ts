import { z } from 'zod';
import { zodToJsonSchema } from 'zod-to-json-schema';
import packageJson from '../../package.json' with { type: 'json' };
import type { Route } from './route.ts';

type JsonSchema = Record<string, unknown>;

/** JSON Schema of what a request may send (transforms are described by their input). */
function schemaOf(schema: z.ZodTypeAny): JsonSchema {
  const { $schema: _, ...rest } = zodToJsonSchema(schema, {
    target: 'jsonSchema2019-09',
    effectStrategy: 'input',
    $refStrategy: 'none',
  }) as JsonSchema;
  return rest;
}

/** The fields of an object schema (params, query), each with its own schema and whether it is required. */
function fieldsOf(
  schema: z.ZodTypeAny | undefined,
): { name: string; schema: JsonSchema; required: boolean }[] {
  if (!schema) return [];
  const json = schemaOf(schema);
  const properties = (json.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((json.required ?? []) as string[]);
  return Object.entries(properties).map(([name, field]) => ({
    name,
    schema: field,
    required: required.has(name),
  }));
}

const ERROR_RESPONSE = { $ref: '#/components/responses/Error' };

/** `/v1/uploads/:uploadId/commit` → `/v1/uploads/{uploadId}/commit`; a rest parameter `:name*` → `{name}`. */
const openApiPath = (path: string) => path.replace(/:(\w+)\*?/g, '{$1}');

const operationId = (route: Route) =>
  `${route.method.toLowerCase()}${route.path
    .split('/')
    .filter((s) => s && s !== 'v1')
    .map((s) => (s.startsWith(':') ? `By${s.slice(1, 2).toUpperCase()}${s.slice(2).replace('*', '')}` : s))
    .map((s) => s.replace(/(^|[-.])(\w)/g, (_, __, c: string) => c.toUpperCase()))
    .join('')}`;

function operation(route: Route): JsonSchema {
  const parameters = [
    ...fieldsOf(route.params as z.ZodTypeAny | undefined).map((f) => ({
      name: f.name,
      in: 'path',
      required: true,
      schema: f.schema,
    })),
    ...fieldsOf(route.query as z.ZodTypeAny).map((f) => ({
      name: f.name,
      in: 'query',
      required: f.required,
      schema: f.schema,
    })),
  ];
  return {
    operationId: operationId(route),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(route.body
      ? {
          requestBody: {
            required: !route.body.optional,
            content: { 'application/json': { schema: schemaOf(route.body.schema as z.ZodTypeAny) } },
          },
        }
      : {}),
    ...(route.auth ? {} : { security: [] }),
    responses: {
      '2XX': { description: 'Success: the body each route answers is described in docs/api.md.' },
      '4XX': ERROR_RESPONSE,
      '5XX': ERROR_RESPONSE,
    },
  };
}

/**
 * The OpenAPI 3.1 document of the route table, built from the zod schemas the server validates
 * requests with: what it documents is what is enforced, and a route cannot be left out.
 */
export function openApiDocument(routes: readonly Route[]): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of routes) {
    const path = openApiPath(route.path);
    paths[path] = { ...paths[path], [route.method.toLowerCase()]: operation(route) };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Arca',
      version: packageJson.version,
      description:
        'Arca, the self-hosted artifact store: its HTTP contract. Both backends (embedded and AWS) serve exactly it. See docs/api.md.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description:
            'An Arca token (arca_…), the local admin token, or an OIDC token from a trusted issuer.',
        },
      },
      responses: {
        Error: {
          description: 'The error envelope: a machine-readable code, a sentence, and optional details.',
          content: { 'application/json': { schema: schemaOf(errorEnvelope) } },
        },
      },
    },
  };
}

const errorEnvelope = z
  .object({
    error: z
      .object({
        code: z.string().describe('Machine-readable, e.g. InvalidRequest, Forbidden, VersionExists'),
        message: z.string(),
        details: z.record(z.unknown()).optional(),
      })
      .strict(),
  })
  .strict();
