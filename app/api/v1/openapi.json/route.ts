import { publicUrl } from '@/lib/env';
import { publicRoute } from '@/lib/http/policy';
import { openApiDocument } from '@/lib/public-api/openapi';

export const runtime = 'nodejs';

// GET /api/v1/openapi.json – the API's OpenAPI 3.1 document, generated from its zod schemas
export const GET = publicRoute(async () => Response.json(openApiDocument(publicUrl()), { headers: { 'Cache-Control': 'public, max-age=300' } }));
