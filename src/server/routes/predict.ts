/**
 * POST /api/predict and POST /api/predict/batch: one handwritten digit per image, adapted to
 * a user's corrections when the request names one.
 */
import type { Recognition } from '../../recognizer/answers.ts';
import { adaptedRecognitionSchema } from '../corrections-schemas.ts';
import { batchResponseSchema, MAX_BATCH } from '../schemas.ts';
import type { OperationRoutes } from './operation-routes.ts';

export const predictRoutes: OperationRoutes<'recognize', Recognition> = {
  operation: 'recognize',
  path: '/api/predict',
  single: {
    summary: 'Recognize one handwritten digit',
    description:
      'Send `image` (a PNG or JPEG data URL, or bare base64) or `pixels` with `width` and `height`; optionally `user`, whose corrections then adapt the answer (see `adaptation`; unadapted if the corrections database is unavailable).',
    answerSchema: adaptedRecognitionSchema,
  },
  batch: {
    summary: `Recognize up to ${MAX_BATCH} digits at once`,
    description:
      "Each item is as for POST /api/predict and is checked on its own: `results` holds, in order, a recognition or an error object per item. The images share forward passes; a large batch is recognized in pieces that take turns with other clients' work.",
    answerSchema: batchResponseSchema,
  },
  answerOf: (result) => result.recognition,
  // Adaptation compares the drawing's features with the corrections': the same pass gives them.
  adaptableInput: (costed) => ({ ...costed, input: { ...costed.input, features: true } }),
  adapt: (adaptation, result, memory) =>
    result.features
      ? adaptation.answer(result.recognition, result.features, memory)
      : result.recognition,
};
