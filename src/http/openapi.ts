import { routePermission } from '../core/permissions.js';
import type { RestRoute } from '../core/rest.js';

const TYPES: Record<string, Record<string, unknown>> = {
  string: { type: 'string' },
  int: { type: 'integer' },
  number: { type: 'number' },
  bool: { type: 'boolean' },
  enum: { type: 'string' },
  sid: { type: 'string', pattern: '^[A-Z]{2}[0-9a-f]{32}$' },
  url: { type: 'string', format: 'uri' },
  date: { type: 'string', format: 'date-time' },
  list: { type: 'array', items: { type: 'string' } },
};

export type Access = 'public' | 'operator' | 'account';

export function accessOf(route: RestRoute): Access {
  if (route.auth === 'none') return 'public';
  return route.operator ? 'operator' : 'account';
}

export function mountPath(route: RestRoute): string {
  return route.domain === 'api' ? route.path : `/${route.domain}${route.path}`;
}

/** An OpenAPI 3.0 document of what this server implements, built from the route descriptors. */
export function openApiDocument(
  routes: readonly RestRoute[],
  version: string,
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = mountPath(route).replace(/:([A-Za-z]+)/g, '{$1}');
    const pathParams = [...route.path.matchAll(/:([A-Za-z]+)/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    const specs = route.params ?? [];
    const schemaOf = (s: (typeof specs)[number]) => ({
      ...TYPES[s.type],
      ...(s.values ? { enum: s.values } : {}),
      ...(s.max !== undefined && s.type === 'string' ? { maxLength: s.max } : {}),
      ...(s.description ? { description: s.description } : {}),
    });
    const operation: Record<string, unknown> = {
      summary: route.summary,
      operationId: `${route.method.toLowerCase()}${path.replace(/[^A-Za-z0-9]+/g, '_')}`,
      tags: [route.domain],
      security: route.auth === 'none' ? [] : [{ basicAuth: [] }],
      // Who may call it: anyone (public), the platform operator only, or an account on its own
      // resources (and its subaccounts'). The isolation test reads this for every route.
      'x-switchboard-access': accessOf(route),
      // What a restricted API key needs to call it (null: no restricted key may).
      'x-twilio-permission': routePermission(route)?.template ?? null,
      responses: {
        [route.method === 'POST' &&
        !route.path.includes('/:Sid') &&
        !route.path.endsWith(':AccountSid.json')
          ? '201'
          : route.method === 'DELETE'
            ? '204'
            : '200']: {
          description: 'Success',
        },
        default: {
          description: 'Twilio error',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
      },
    };
    if (route.method === 'POST') {
      operation.parameters = pathParams;
      if (specs.length) {
        operation.requestBody = {
          content: {
            'application/x-www-form-urlencoded': {
              schema: {
                type: 'object',
                properties: Object.fromEntries(specs.map((s) => [s.name, schemaOf(s)])),
                required: specs.filter((s) => s.required).map((s) => s.name),
              },
            },
          },
        };
      }
    } else {
      operation.parameters = [
        ...pathParams,
        ...specs.map((s) => ({
          name: s.name,
          in: 'query',
          required: !!s.required,
          schema: schemaOf(s),
        })),
      ];
    }
    (paths[path] ??= {})[route.method.toLowerCase()] = operation;
  }
  return {
    openapi: '3.0.3',
    info: {
      title: 'Switchboard API',
      version,
      description:
        'Twilio-compatible REST API. The api domain is served at the root (and under /api); other Twilio domains under /<domain>.',
    },
    components: {
      securitySchemes: { basicAuth: { type: 'http', scheme: 'basic' } },
      schemas: {
        Error: {
          type: 'object',
          properties: {
            code: { type: 'integer' },
            message: { type: 'string' },
            more_info: { type: 'string' },
            status: { type: 'integer' },
          },
        },
      },
    },
    paths,
  };
}
