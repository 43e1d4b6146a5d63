/**
 * POST /api/read and POST /api/read/batch: a whole handwritten number per image (design.md,
 * "Numbers"). The same bodies and checks as /api/predict; the inference pool's workers
 * segment the drawing and recognize its candidate digits.
 */
import type { Reading } from '../../recognizer/answers.ts';
import { adaptedReadingSchema } from '../corrections-schemas.ts';
import { MAX_BATCH, readBatchResponseSchema } from '../schemas.ts';
import type { OperationRoutes } from './operation-routes.ts';

export const readRoutes: OperationRoutes<'read', Reading> = {
  operation: 'read',
  path: '/api/read',
  single: {
    summary: 'Read a handwritten number (one or more digits)',
    description:
      "The same body as POST /api/predict (with `user`, each digit is adapted to that user's corrections). The drawing is split into digits, left to right; each is recognized as /api/predict recognizes one digit and comes with its box in the image.",
    answerSchema: adaptedReadingSchema,
  },
  batch: {
    summary: `Read up to ${MAX_BATCH} handwritten numbers at once`,
    description:
      "Each item is as for POST /api/read and is checked on its own: `results` holds, in order, a reading or an error object per item; a large batch is read in pieces that take turns with other clients' work.",
    answerSchema: readBatchResponseSchema,
  },
  answerOf: (result) => result.reading,
  adapt: (adaptation, result, memory, run) => adaptation.adaptReading(result.reading, memory, run),
};
