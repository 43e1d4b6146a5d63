/**
 * Prometheus metrics at GET /metrics: request counts and latencies by route and status, the
 * workers' live tensors (a leak shows as a rising line), the queue of work and the requests
 * shed, the work admitted (in all, and for the heaviest clients), and Node's process metrics
 * (memory, event-loop lag). Each app has its own registry, so several apps in one process
 * (the tests) do not collide.
 *
 * Label values are bounded: routes by their pattern, shed requests by one of four reasons,
 * and per-client work by rank (1 to TOP_CLIENTS), never by address: a client's address as a
 * label would make a series per address a crawler or a flood ever used.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AdaptationLookups } from './adaptation.ts';
import type { InferencePool } from './inference-pool.ts';
import type { ShedReason } from './scheduler.ts';

/** Clients whose work of the last minute /metrics shows, heaviest first. */
export const TOP_CLIENTS = 5;
const SHED_REASONS: readonly ShedReason[] = [
  'client_share',
  'work_rate',
  'overloaded',
  'unavailable',
];

/** The route's pattern, never the raw URL: one series per route, whatever clients send. */
export function routeLabel(request: FastifyRequest): string {
  return request.routeOptions.url ?? 'unmatched';
}

/** What /metrics shows of the adaptation to users' corrections. */
export interface AdaptationGauges {
  readonly lookups: Readonly<AdaptationLookups>;
  readonly trusted: boolean;
}

export function registerMetrics(
  app: FastifyInstance,
  pool: InferencePool,
  adaptation?: AdaptationGauges,
): Registry {
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
    help: 'Images admitted and not yet recognized, waiting for a worker or at one.',
    registers: [registry],
    collect() {
      this.set(pool.queuedInputs);
    },
  });
  registerQueueMetrics(registry, pool);
  if (adaptation) registerAdaptationMetrics(registry, adaptation);

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
          "Prometheus text format: http_requests_total and http_request_duration_seconds by method, route and status; digits_live_tensors; digits_adaptation_lookups_total by how a user's corrections were found; process metrics.",
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

/** The queue of work, what was shed, and what clients sent. */
function registerQueueMetrics(registry: Registry, pool: InferencePool): void {
  const depth = [
    ['digits_queue_requests', 'Requests admitted and not yet answered.', 'requests'],
    ['digits_queue_pieces', 'Pieces of work waiting on the main thread for a worker.', 'pieces'],
    [
      'digits_queue_seconds',
      "Estimated seconds of the inference pool's time the admitted, unfinished work takes.",
      'seconds',
    ],
    ['digits_queue_clients', 'Clients with admitted, unfinished work.', 'clients'],
  ] as const;
  for (const [name, help, key] of depth) {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(pool.depth[key]);
      },
    });
  }
  new Counter({
    name: 'digits_shed_requests_total',
    help: 'Requests refused before being queued, by reason: client_share (429, the client has its share waiting), work_rate (429, over its work a minute), overloaded (503), unavailable (503, closing or no model).',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      // The pool counts; the counter shows its totals.
      this.reset();
      for (const reason of SHED_REASONS) this.inc({ reason }, pool.shed.get(reason) ?? 0);
    },
  });
  for (const [unit, help] of [
    ['images', 'Images admitted for recognition.'],
    ['pixels', 'Pixels of the images admitted for recognition.'],
  ] as const) {
    new Counter({
      name: `digits_work_${unit}_total`,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(pool.admitted[unit]);
      },
    });
  }
  new Gauge({
    name: 'digits_clients_active',
    help: 'Clients that sent work in the last minute.',
    registers: [registry],
    collect() {
      this.set(pool.ledger.activeClients);
    },
  });
  for (const [unit, help] of [
    [
      'images',
      'Images sent in the last minute by the heaviest clients, by rank (1 = most pixels).',
    ],
    [
      'pixels',
      'Pixels sent in the last minute by the heaviest clients, by rank (1 = most pixels).',
    ],
  ] as const) {
    new Gauge({
      name: `digits_top_client_${unit}_per_minute`,
      help,
      labelNames: ['rank'],
      registers: [registry],
      collect() {
        this.reset();
        pool.ledger
          .top(TOP_CLIENTS)
          .forEach((client, i) => this.set({ rank: String(i + 1) }, Math.round(client[unit])));
      },
    });
  }
}

function registerAdaptationMetrics(registry: Registry, adaptation: AdaptationGauges): void {
  const hows = ['cached', 'checked', 'loaded', 'unavailable'] as const;
  new Counter({
    name: 'digits_adaptation_lookups_total',
    help: "Adapted requests by how the user's corrections were found: cached (no database round trip), checked (a version query: the database's change announcements were not being received), loaded (read from the database), unavailable (answered unadapted).",
    labelNames: ['how'],
    registers: [registry],
    collect() {
      this.reset();
      for (const how of hows) this.labels(how).inc(adaptation.lookups[how]);
    },
  });
  new Gauge({
    name: 'digits_adaptation_cache_trusted',
    help: 'Whether cached corrections are used without asking the database (1: the database announcements are live, or the store is embedded).',
    registers: [registry],
    collect() {
      this.set(adaptation.trusted ? 1 : 0);
    },
  });
}
