/**
 * GET /healthz: 503 until every worker has loaded and warmed up the model, then 200; 503
 * again from the moment the server starts draining (a signal), so that load balancers and
 * Kubernetes stop sending it work while the requests in flight finish.
 */
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../errors.ts';
import type { InferencePool } from '../inference-pool.ts';
import type { ModelInfo } from '../../recognizer/recognizer.ts';
import { errorSchema, healthSchema } from '../schemas.ts';

export function registerHealthRoute(
  app: FastifyInstance,
  pool: InferencePool,
  draining: () => boolean,
): void {
  app.get(
    '/healthz',
    {
      schema: {
        summary: 'Readiness',
        description:
          '200 once the model is loaded and warmed up in the inference workers; 503 before, if loading failed, and while the server drains for shutdown.',
        tags: ['operations'],
        response: {
          200: healthSchema,
          503: {
            ...errorSchema,
            description:
              'Not ready yet or shutting down (not_ready), or the model failed to load (model_unavailable).',
          },
        },
      },
    },
    async (): Promise<{ status: 'ok'; model: ModelInfo }> => {
      const model = pool.model;
      if (draining() || pool.state === 'closing' || pool.state === 'closed') {
        throw new ApiError(503, 'not_ready', 'the server is shutting down');
      }
      if (pool.state === 'ready' && model) return { status: 'ok', model };
      if (pool.state === 'failed') {
        throw new ApiError(
          503,
          'model_unavailable',
          `the model could not be loaded: ${pool.failureMessage}`,
        );
      }
      throw new ApiError(
        503,
        'not_ready',
        'the model is still loading and warming up: retry in a moment',
      );
    },
  );
}
