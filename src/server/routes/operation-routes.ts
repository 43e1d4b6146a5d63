/**
 * The two routes of one operation of the inference pool: POST `path` (one image) and POST
 * `path/batch` (up to MAX_BATCH). Recognizing a digit and reading a number take the same
 * bodies, checks, admission and errors; what differs between them is data, an
 * `OperationRoutes` that each passes in: the words of its OpenAPI, the schema of its
 * answer, and how a user's corrections adapt that answer. The schemas are the single
 * source of the validation, the serialization, the OpenAPI and the bodies' types.
 */
import type { FastifyInstance, FastifySchema } from 'fastify';
import type { Ajv } from 'ajv';
import type { CorrectionMemory } from '../../core/adapt.ts';
import type { UserAdaptation } from '../adaptation.ts';
import { adaptivePredictRequestSchema } from '../corrections-schemas.ts';
import type { CostedInput } from '../cost.ts';
import type { ErrorBody } from '../errors.ts';
import type { InferencePool, RunOptions } from '../inference-pool.ts';
import type { WorkFailure, WorkOperation, WorkResults } from '../inference-protocol.ts';
import { PreparedBody } from '../json-body.ts';
import { batchRequestSchema, errorResponses } from '../schemas.ts';
import {
  apiErrorFrom,
  createWorkPreparer,
  type PreparedWork,
  type WorkRoute,
} from '../work-body.ts';
import { admissionHook, type EventLoopLoad } from '../admission.ts';
import { answerBatch, runOptions, serializeBatch, succeeded } from './work.ts';

/** A worker's result for an input it answered. */
export type Answered<Op extends WorkOperation> = Exclude<WorkResults[Op], WorkFailure>;

/** One route's part of the OpenAPI; its errors are added by registerOperationRoutes. */
export interface RouteDescription {
  readonly summary: string;
  readonly description: string;
  /** The 200 answer's schema (it also serializes the answer). */
  readonly answerSchema: object;
}

export interface OperationRoutes<Op extends WorkOperation, Answer> {
  readonly operation: Op;
  /** The single route's path; the batch route is this with `/batch`. */
  readonly path: string;
  readonly single: RouteDescription;
  readonly batch: RouteDescription;
  /** The answer in a worker's result. */
  answerOf(result: Answered<Op>): Answer;
  /** What the work must ask of the worker for `adapt` (default: nothing more). */
  adaptableInput?(input: CostedInput): CostedInput;
  /** The answer adapted to a user's corrections. */
  adapt(
    adaptation: UserAdaptation,
    result: Answered<Op>,
    memory: CorrectionMemory,
    run: RunOptions,
  ): Answer | Promise<Answer>;
}

export interface OperationRoutesOptions {
  readonly pool: InferencePool;
  readonly ajv: Ajv;
  /** Pixels one batch may hold (413 beyond). */
  readonly maxBatchPixels: number;
  /** Adapts answers to a user's corrections (a single request with `user`). */
  readonly adaptation?: UserAdaptation;
  /** Work is refused 503 while the event loop lags beyond its bound. */
  readonly eventLoop?: EventLoopLoad;
}

/** Errors every route of work can give besides its own, for its OpenAPI description. */
const WORK_ROUTE_ERRORS_DOC =
  '413 payload_too_large (body over the size limit, or a batch over its pixel limit), 429 rate_limited (over the request or work rate limit, or this client already has its share of work waiting), 503 overloaded (the server has as much work waiting as it takes, or its event loop lags), with Retry-After where a retry helps.';

const SINGLE_ERRORS_DOC = `Errors: 400 invalid_request, 415 unsupported_media_type, 422 invalid_image (not a PNG or JPEG, or over 2048x2048, told from its header before decoding) or empty_image, ${WORK_ROUTE_ERRORS_DOC}`;

const BATCH_ERRORS_DOC = `Errors of the whole batch: 400 invalid_request, 415 unsupported_media_type, ${WORK_ROUTE_ERRORS_DOC}`;

/**
 * The body is checked by createWorkPreparer (work-body.ts), on the main thread or in the
 * body worker, not by Fastify: the schema is the OpenAPI's and the serializer's.
 */
const checkedByPreparer = () => () => true;

/** The schema of one result of a batch's answer (schemas.ts, batchOf). */
function batchResultSchema(route: RouteDescription): Record<string, unknown> {
  return (route.answerSchema as { properties: { results: { items: Record<string, unknown> } } })
    .properties.results.items;
}

/** A route's schema: its body's and answer's, and its words in the OpenAPI. */
function routeSchema(route: RouteDescription, errorsDoc: string, body: object): FastifySchema {
  return {
    summary: route.summary,
    description: `${route.description} ${errorsDoc}`,
    tags: ['recognition'],
    body,
    response: { 200: route.answerSchema, ...errorResponses },
  };
}

export function registerOperationRoutes<Op extends WorkOperation, Answer>(
  app: FastifyInstance,
  routes: OperationRoutes<Op, Answer>,
  options: OperationRoutesOptions,
): void {
  const { pool, ajv, maxBatchPixels, adaptation, eventLoop } = options;
  const { operation, single, batch } = routes;
  const onRequest = admissionHook(pool, eventLoop);
  const prepare = createWorkPreparer(ajv);
  /** The body made ready: by the body worker when it was large, here otherwise. */
  const prepared = (route: WorkRoute, body: unknown): PreparedWork => {
    const work = body instanceof PreparedBody ? body.work : prepare(route, body);
    if (work.kind === 'refused') throw apiErrorFrom(work.error);
    return work;
  };
  const singleRoute: WorkRoute = { operation, batch: false };
  const batchRoute: WorkRoute = { operation, batch: true };

  app.post(
    routes.path,
    {
      schema: routeSchema(single, SINGLE_ERRORS_DOC, adaptivePredictRequestSchema),
      validatorCompiler: checkedByPreparer,
      config: { workRoute: singleRoute },
      onRequest,
    },
    async (request, reply): Promise<Answer> => {
      const work = prepared(singleRoute, request.body);
      if (work.kind !== 'single') throw new Error('a single image was prepared as a batch');
      const { input, user } = work;
      const run = runOptions(request, reply);
      if (!user || !adaptation) {
        const [result] = await pool.run(operation, [input], run);
        return routes.answerOf(succeeded(result));
      }
      const adaptable = routes.adaptableInput?.(input) ?? input;
      const [[result], memory] = await adaptation.withMemory(
        user,
        pool.run(operation, [adaptable], run),
        run.client,
      );
      const answered = succeeded(result);
      if (!memory) return routes.answerOf(answered);
      return routes.adapt(adaptation, answered, memory, run);
    },
  );

  app.post(
    `${routes.path}/batch`,
    {
      // The documented schema describes the items; the preparer checks the envelope first,
      // then each item on its own, so that one bad item gets its own error.
      schema: routeSchema(batch, BATCH_ERRORS_DOC, batchRequestSchema),
      validatorCompiler: checkedByPreparer,
      config: { workRoute: batchRoute },
      onRequest,
    },
    async (request, reply): Promise<string> => {
      const work = prepared(batchRoute, request.body);
      if (work.kind !== 'batch') throw new Error('a batch was prepared as a single image');
      const results = await answerBatch(
        work.items,
        maxBatchPixels,
        (inputs) => pool.run(operation, inputs, runOptions(request, reply)),
        (result) => routes.answerOf(result),
      );
      // Serialized a few answers at a time (a batch's 256 answers at once held the event
      // loop tens of milliseconds), with the route's own schema.
      const serialize = reply.compileSerializationSchema(batchResultSchema(batch)) as (
        result: Answer | ErrorBody,
      ) => string;
      reply.type('application/json; charset=utf-8');
      return serializeBatch(results, serialize);
    },
  );
}
