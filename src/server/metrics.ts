/**
 * Prometheus metrics at GET /metrics: request counts and latencies by route and status, the
 * workers' live tensors (a leak shows as a rising line), the work in flight, and Node's
 * process metrics (memory, event-loop lag). Each app has its own registry, so several apps
 * in one process (the tests) do not collide.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { InferencePool } from './inference-pool.ts';

/** The route's pattern, never the raw URL: one series per route, whatever clients send. */
export function routeLabel(request: FastifyRequest): string {
  return request.routeOptions.url ?? 'unmatched';
}

export function registerMetrics(app: FastifyInstance, pool: InferencePool): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const labelNames = ['method', 'route', 'status'] as const;
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route and status.',
    labelNames,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from receiving a request to answering it, by method, route and status.',
    labelNames,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  new Gauge({
    name: 'digits_live_tensors',
    help: 'Live tfjs tensors over all inference workers (the model weights, plus any leak).',
    registers: [registry],
    collect() {
      this.set(pool.liveTensors);
    },
  });
  new Gauge({
    name: 'digits_inference_workers_ready',
    help: 'Inference workers with the model loaded.',
    registers: [registry],
    collect() {
      this.set(pool.readyWorkers);
    },
  });
  new Gauge({
    name: 'digits_inference_queued_images',
    help: 'Images sent to the inference workers and not yet recognized.',
    registers: [registry],
    collect() {
      this.set(pool.queuedInputs);
    },
  });

  app.addHook('onResponse', async (request, reply) => {
    const labels = {
      method: request.method,
      route: routeLabel(request),
      status: String(reply.statusCode),
    };
    requests.inc(labels);
    duration.observe(labels, reply.elapsedTime / 1000);
  });

  app.get(
    '/metrics',
    {
      schema: {
        summary: 'Prometheus metrics',
        description:
          'Prometheus text format: http_requests_total and http_request_duration_seconds by method, route and status; digits_live_tensors; process metrics.',
        tags: ['operations'],
        response: {
          200: {
            description: 'Prometheus text exposition format.',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
        },
      },
    },
    async (_request, reply) => {
      reply.type(registry.contentType);
      return registry.metrics();
    },
  );
  return registry;
}
