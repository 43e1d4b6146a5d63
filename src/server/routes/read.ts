/**
 * POST /api/read and POST /api/read/batch: a whole handwritten number per image (design.md,
 * "Numbers"). The same bodies and checks as /api/predict; the inference pool's workers
 * segment the drawing and recognize its candidate digits.
 */
import type { FastifyInstance } from 'fastify';
import type { Ajv } from 'ajv';
import type { ErrorBody } from '../errors.ts';
import type { InferencePool } from '../inference-pool.ts';
import type { Reading } from '../../recognizer/answers.ts';
import type { UserAdaptation } from '../adaptation.ts';
import {
  adaptedReadingSchema,
  adaptivePredictRequestSchema,
  type AdaptivePredictRequest,
} from '../corrections-schemas.ts';
import {
  batchEnvelopeSchema,
  batchRequestSchema,
  errorResponses,
  MAX_BATCH,
  readBatchResponseSchema,
  type BatchRequest,
} from '../schemas.ts';
import { createItemChecker, toWorkInput, validationFormatter } from '../validation.ts';
import { costOf } from '../cost.ts';
import { admissionHook } from '../admission.ts';
import { answerBatch, runOptions, workError, WORK_ERRORS } from './work.ts';

export interface ReadRoutesOptions {
  readonly pool: InferencePool;
  readonly ajv: Ajv;
  /** Pixels one batch may hold (413 beyond). */
  readonly maxBatchPixels: number;
  /** Adapts each digit to a user's corrections (POST /api/read with `user`). */
  readonly adaptation?: UserAdaptation;
}

export function registerReadRoutes(app: FastifyInstance, options: ReadRoutesOptions): void {
  const { pool, ajv, maxBatchPixels, adaptation } = options;
  const onRequest = admissionHook(pool);

  app.post<{ Body: AdaptivePredictRequest }>(
    '/api/read',
    {
      schema: {
        summary: 'Read a handwritten number (one or more digits)',
        description: `The same body as POST /api/predict (with \`user\`, each digit is adapted to that user's corrections). The drawing is split into digits, left to right; each is recognized as /api/predict recognizes one digit and comes with its box in the image. Errors: 400 invalid_request, 415 unsupported_media_type, 422 invalid_image (not a PNG or JPEG, or over 2048x2048, told from its header before decoding) or empty_image, ${WORK_ERRORS}`,
        tags: ['recognition'],
        body: adaptivePredictRequestSchema,
        response: { 200: adaptedReadingSchema, ...errorResponses },
      },
      schemaErrorFormatter: validationFormatter('prediction'),
      onRequest,
    },
    async (request, reply): Promise<Reading> => {
      const { user, ...body } = request.body;
      const input = costOf(toWorkInput(body, 'vote'), 'read');
      const run = runOptions(request, reply);
      const reading = pool.read([input], run);
      const [[result], memory] =
        user && adaptation
          ? await adaptation.withMemory(user, reading, run.client)
          : [await reading, null];
      if (!result.ok) throw workError(result);
      if (!memory || !adaptation) return result.reading;
      return adaptation.adaptReading(result.reading, memory, run);
    },
  );

  const checkItem = createItemChecker(ajv);
  const validateEnvelope = ajv.compile(batchEnvelopeSchema);

  app.post<{ Body: BatchRequest }>(
    '/api/read/batch',
    {
      schema: {
        summary: `Read up to ${MAX_BATCH} handwritten numbers at once`,
        description: `Each item is as for POST /api/read and is checked on its own: \`results\` holds, in order, a reading or an error object per item; a large batch is read in pieces that take turns with other clients' work. Errors of the whole batch: 400 invalid_request, 415 unsupported_media_type, ${WORK_ERRORS}`,
        tags: ['recognition'],
        body: batchRequestSchema,
        response: { 200: readBatchResponseSchema, ...errorResponses },
      },
      validatorCompiler: () => validateEnvelope,
      schemaErrorFormatter: validationFormatter('batch'),
      onRequest,
    },
    async (request, reply): Promise<{ results: (Reading | ErrorBody)[] }> => {
      const ensemble = request.body.ensemble ?? 'vote';
      const checks = request.body.items.map((item, i) => checkItem(item, i, ensemble));
      const results = await answerBatch(
        checks,
        { operation: 'read', maxPixels: maxBatchPixels },
        (inputs) => pool.read(inputs, runOptions(request, reply)),
        (result) => result.reading,
      );
      return { results };
    },
  );
}
