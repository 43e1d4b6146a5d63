/**
 * POST /api/predict and POST /api/predict/batch: validate, hand the work to the inference
 * pool, answer the recognition or the contract's error.
 */
import type { FastifyInstance } from 'fastify';
import type { Ajv } from 'ajv';
import type { ErrorBody } from '../errors.ts';
import type { InferencePool } from '../inference-pool.ts';
import type { Recognition } from '../../recognizer/answers.ts';
import type { UserAdaptation } from '../adaptation.ts';
import {
  adaptedRecognitionSchema,
  adaptivePredictRequestSchema,
  type AdaptivePredictRequest,
} from '../corrections-schemas.ts';
import {
  batchEnvelopeSchema,
  batchRequestSchema,
  batchResponseSchema,
  errorResponses,
  MAX_BATCH,
  type BatchRequest,
} from '../schemas.ts';
import { createItemChecker, toWorkInput, validationFormatter } from '../validation.ts';
import { costOf } from '../cost.ts';
import { admissionHook } from '../admission.ts';
import { answerBatch, runOptions, workError, WORK_ERRORS } from './work.ts';

export interface PredictRoutesOptions {
  readonly pool: InferencePool;
  readonly ajv: Ajv;
  /** Pixels one batch may hold (413 beyond). */
  readonly maxBatchPixels: number;
  /** Adapts answers to a user's corrections (POST /api/predict with `user`). */
  readonly adaptation?: UserAdaptation;
}

export function registerPredictRoutes(app: FastifyInstance, options: PredictRoutesOptions): void {
  const { pool, ajv, maxBatchPixels, adaptation } = options;
  const onRequest = admissionHook(pool);

  app.post<{ Body: AdaptivePredictRequest }>(
    '/api/predict',
    {
      schema: {
        summary: 'Recognize one handwritten digit',
        description: `Send \`image\` (a PNG or JPEG data URL, or bare base64) or \`pixels\` with \`width\` and \`height\`; optionally \`user\`, whose corrections then adapt the answer (see \`adaptation\`; unadapted if the corrections database is unavailable). Errors: 400 invalid_request, 415 unsupported_media_type, 422 invalid_image (not a PNG or JPEG, or over 2048x2048, told from its header before decoding) or empty_image, ${WORK_ERRORS}`,
        tags: ['recognition'],
        body: adaptivePredictRequestSchema,
        response: { 200: adaptedRecognitionSchema, ...errorResponses },
      },
      schemaErrorFormatter: validationFormatter('prediction'),
      onRequest,
    },
    async (request, reply): Promise<Recognition> => {
      const { user, ...body } = request.body;
      const input = costOf(toWorkInput(body, 'vote'), 'recognize');
      if (!user || !adaptation) {
        const [result] = await pool.recognize([input], runOptions(request, reply));
        if (!result.ok) throw workError(result);
        return result.recognition;
      }
      const run = runOptions(request, reply);
      const [[result], memory] = await adaptation.withMemory(
        user,
        pool.recognize([{ ...input, input: { ...input.input, features: true } }], run),
        run.client,
      );
      if (!result.ok) throw workError(result);
      if (!memory || !result.features) return result.recognition;
      return adaptation.answer(result.recognition, result.features, memory);
    },
  );

  const checkItem = createItemChecker(ajv);
  const validateEnvelope = ajv.compile(batchEnvelopeSchema);

  app.post<{ Body: BatchRequest }>(
    '/api/predict/batch',
    {
      schema: {
        summary: `Recognize up to ${MAX_BATCH} digits at once`,
        description: `Each item is as for POST /api/predict and is checked on its own: \`results\` holds, in order, a recognition or an error object per item. The images share forward passes; a large batch is recognized in pieces that take turns with other clients' work. Errors of the whole batch: 400 invalid_request, 415 unsupported_media_type, ${WORK_ERRORS}`,
        tags: ['recognition'],
        body: batchRequestSchema,
        response: { 200: batchResponseSchema, ...errorResponses },
      },
      // The documented schema describes the items; up front only the envelope is checked,
      // so that one bad item gets its own error instead of failing the batch.
      validatorCompiler: () => validateEnvelope,
      schemaErrorFormatter: validationFormatter('batch'),
      onRequest,
    },
    async (request, reply): Promise<{ results: (Recognition | ErrorBody)[] }> => {
      const ensemble = request.body.ensemble ?? 'vote';
      const checks = request.body.items.map((item, i) => checkItem(item, i, ensemble));
      const results = await answerBatch(
        checks,
        { operation: 'recognize', maxPixels: maxBatchPixels },
        (inputs) => pool.recognize(inputs, runOptions(request, reply)),
        (result) => result.recognition,
      );
      return { results };
    },
  );
}
