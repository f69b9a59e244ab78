import { z } from 'zod';
import { apiEventsBodySchema, apiEventsResultSchema } from '../collect/api-events';
import {
  aggregateQuerySchema,
  aggregateResultSchema,
  breakdownApiQuerySchema,
  breakdownResultSchema,
  realtimeQuerySchema,
  realtimeResultSchema,
  timeseriesQuerySchema,
  timeseriesResultSchema,
} from './stats';

// The OpenAPI 3.1 document of /api/v1, generated from the very zod schemas the routes validate
// with, so the documentation cannot drift from the code. OpenAPI 3.1 schemas are JSON Schema
// 2020-12, which is what zod emits.

type JsonSchema = Record<string, unknown>;

const schemaOf = (s: z.ZodType, io: 'input' | 'output'): JsonSchema => {
  const { $schema: _drop, ...rest } = z.toJSONSchema(s, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
  }) as JsonSchema;
  return rest;
};

/** Each property of a query schema as an OpenAPI query parameter. */
function queryParameters(s: z.ZodObject): JsonSchema[] {
  const json = schemaOf(s, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, schema]) => {
    const { description, ...rest } = schema as { description?: string };
    return {
      name,
      in: 'query',
      required: json.required?.includes(name) ?? false,
      ...(description ? { description } : {}),
      schema: rest,
    };
  });
}

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

const commonErrors = {
  '400': errorResponse('Invalid input; the message names the field.'),
  '401': errorResponse('Missing, unknown or revoked API key.'),
  '403': errorResponse('The key lacks the scope this endpoint needs.'),
  '404': errorResponse('The site named is not the key’s site.'),
  '429': errorResponse('Too many requests for this key; see Retry-After.'),
};

function statsPath(summary: string, description: string, query: z.ZodObject, result: z.ZodType) {
  return {
    get: {
      summary,
      description,
      security: [{ apiKey: ['stats:read'] }],
      parameters: queryParameters(query),
      responses: {
        '200': { description: 'OK', content: { 'application/json': { schema: schemaOf(result, 'output') } } },
        ...commonErrors,
      },
    },
  };
}

export function openApiDocument(serverUrl: string): JsonSchema {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Eddy API',
      version: '1.0.0',
      description:
        'Send events from your server and read your site’s numbers. Authenticate with an API key created in the site’s settings: `Authorization: Bearer eddy_…`. Keys are per site, with the scopes events:write and/or stats:read.',
    },
    servers: [{ url: serverUrl }],
    components: {
      securitySchemes: {
        apiKey: {
          type: 'http',
          scheme: 'bearer',
          description: 'An API key from the site settings (shown once when created).',
        },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message'],
              properties: { code: { type: 'string' }, message: { type: 'string' } },
            },
          },
        },
      },
    },
    paths: {
      '/api/v1/events': {
        post: {
          summary: 'Send events',
          description:
            'A batch of at most 25 events (64 KB): pageviews, custom events and server requests. Answered 202 only once the events are durable; 503 + Retry-After when they are not — retry with the same ids, and each event is counted once.',
          security: [{ apiKey: ['events:write'] }],
          requestBody: {
            required: true,
            content: { 'application/json': { schema: schemaOf(apiEventsBodySchema, 'input') } },
          },
          responses: {
            '202': {
              description: 'Accepted (durable). Dropped events are listed by reason.',
              content: { 'application/json': { schema: schemaOf(apiEventsResultSchema, 'output') } },
            },
            ...commonErrors,
            '413': errorResponse('Body over 64 KB.'),
            '503': errorResponse(
              'The event bus did not acknowledge in time; retry after Retry-After seconds with the same ids.',
            ),
          },
        },
      },
      '/api/v1/stats/aggregate': statsPath(
        'Aggregate',
        'The dashboard’s tiles for a range (in the site’s time zone) and filters, with the previous period.',
        aggregateQuerySchema,
        aggregateResultSchema,
      ),
      '/api/v1/stats/timeseries': statsPath(
        'Time series',
        'The dashboard’s chart: local hours for ranges of up to two days, local days otherwise.',
        timeseriesQuerySchema,
        timeseriesResultSchema,
      ),
      '/api/v1/stats/breakdown': statsPath(
        'Breakdown',
        'One dimension’s rows, ranked as on the dashboard, `limit` at a time from `offset`.',
        breakdownApiQuerySchema,
        breakdownResultSchema,
      ),
      '/api/v1/stats/realtime': statsPath(
        'Realtime',
        'Visitors active in the last 5 minutes.',
        realtimeQuerySchema,
        realtimeResultSchema,
      ),
    },
  };
}
