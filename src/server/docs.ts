/** The OpenAPI description, generated from the routes' schemas: UI at /docs, JSON at /docs/json. */
import { readFileSync } from 'node:fs';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

const packageJson = JSON.parse(
  readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
) as { version: string; description?: string };

export async function registerDocs(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'digits: handwritten-digit recognizer',
        description: `${packageJson.description ?? ''} Every error is {"error": {"code", "message"}}.`,
        version: packageJson.version,
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN' } },
      },
      tags: [
        { name: 'recognition', description: 'Recognize drawn digits' },
        { name: 'corrections', description: "A user's own labels: they adapt that user's answers" },
        { name: 'operations', description: 'Health and metrics' },
      ],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
}
