/**
 * POST /api/read and POST /api/read/batch: a whole handwritten number per image (design.md,
 * "Numbers"). The same bodies and checks as /api/predict; the inference pool's workers
 * segment the drawing and recognize its candidate digits.
 */
import type { FastifyInstance } from 'fastify';
import type { Ajv } from 'ajv';
import type { ErrorBody } from '../errors.ts';
import type { InferencePool } from '../inference-pool.ts';
import type { Reading } from '../../recognizer/recognizer.ts';
import {
  batchEnvelopeSchema,
  batchRequestSchema,
  errorResponses,
  MAX_BATCH,
  predictRequestSchema,
  readBatchResponseSchema,
  readingSchema,
  type BatchRequest,
  type PredictRequest,
} from '../schemas.ts';
import { createItemChecker, toWorkInput, validationFormatter } from '../validation.ts';
import { answerBatch, workError } from './work.ts';

export interface ReadRoutesOptions {
  readonly pool: InferencePool;
  readonly ajv: Ajv;
}

export function registerReadRoutes(app: FastifyInstance, options: ReadRoutesOptions): void {
  const { pool, ajv } = options;

  app.post<{ Body: PredictRequest }>(
    '/api/read',
    {
      schema: {
        summary: 'Read a handwritten number (one or more digits)',
        description:
          'The same body as POST /api/predict. The drawing is split into digits, left to right; each is recognized as /api/predict recognizes one digit and comes with its box in the image. Errors: 400 invalid_request, 413 payload_too_large, 415 unsupported_media_type, 422 invalid_image or empty_image, 429 rate_limited.',
        tags: ['recognition'],
        body: predictRequestSchema,
        response: { 200: readingSchema, ...errorResponses },
      },
      schemaErrorFormatter: validationFormatter('prediction'),
    },
    async (request): Promise<Reading> => {
      const input = toWorkInput(request.body, 'vote');
      const [result] = await pool.read([input]);
      if (!result.ok) throw workError(result);
      return result.reading;
    },
  );

  const checkItem = createItemChecker(ajv);
  const validateEnvelope = ajv.compile(batchEnvelopeSchema);

  app.post<{ Body: BatchRequest }>(
    '/api/read/batch',
    {
      schema: {
        summary: `Read up to ${MAX_BATCH} handwritten numbers at once`,
        description:
          'Each item is as for POST /api/read and is checked on its own: `results` holds, in order, a reading or an error object per item.',
        tags: ['recognition'],
        body: batchRequestSchema,
        response: { 200: readBatchResponseSchema, ...errorResponses },
      },
      validatorCompiler: () => validateEnvelope,
      schemaErrorFormatter: validationFormatter('batch'),
    },
    async (request): Promise<{ results: (Reading | ErrorBody)[] }> => {
      const ensemble = request.body.ensemble ?? 'vote';
      const checks = request.body.items.map((item, i) => checkItem(item, i, ensemble));
      const results = await answerBatch(
        checks,
        (inputs) => pool.read(inputs),
        (result) => result.reading,
      );
      return { results };
    },
  );
}
