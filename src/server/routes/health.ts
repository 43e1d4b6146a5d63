/** GET /healthz: 503 until every worker has loaded and warmed up the model, then 200. */
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../errors.ts';
import type { InferencePool } from '../inference-pool.ts';
import type { ModelInfo } from '../../recognizer/recognizer.ts';
import { errorSchema, healthSchema } from '../schemas.ts';

export function registerHealthRoute(app: FastifyInstance, pool: InferencePool): void {
  app.get(
    '/healthz',
    {
      schema: {
        summary: 'Readiness',
        description:
          '200 once the model is loaded and warmed up in the inference workers; 503 before (or if loading failed).',
        tags: ['operations'],
        response: {
          200: healthSchema,
          503: {
            ...errorSchema,
            description:
              'Not ready yet (not_ready) or the model failed to load (model_unavailable).',
          },
        },
      },
    },
    async (): Promise<{ status: 'ok'; model: ModelInfo }> => {
      const model = pool.model;
      if (pool.state === 'ready' && model) return { status: 'ok', model };
      if (pool.state === 'failed') {
        throw new ApiError(
          503,
          'model_unavailable',
          `the model could not be loaded: ${pool.failureMessage}`,
        );
      }
      if (pool.state === 'closed')
        throw new ApiError(503, 'not_ready', 'the server is shutting down');
      throw new ApiError(
        503,
        'not_ready',
        'the model is still loading and warming up: retry in a moment',
      );
    },
  );
}
