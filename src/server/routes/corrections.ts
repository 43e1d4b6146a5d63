/**
 * The corrections routes (design.md, "Corrections"): store a user's label for a drawing, list
 * and forget a user's corrections, and export them all for training (admin only).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { byteOfUnit, MODEL_PIXELS, unitOfByte } from '../../core/image.ts';
import { MNIST_CSV_HEADER, mnistCsvRow } from '../../data/mnist-csv.ts';
import {
  CorrectionLimitError,
  StoreUnavailableError,
  type Correction,
  type CorrectionsStore,
} from '../../store/store.ts';
import {
  CORRECTION_BODY_LIMIT,
  correctionCreatedSchema,
  correctionListSchema,
  correctionRequestSchema,
  userQuerySchema,
  type CorrectionItem,
  type CorrectionRequest,
  type UserQuery,
} from '../corrections-schemas.ts';
import { admissionHook } from '../admission.ts';
import { costOf } from '../cost.ts';
import type { UserAdaptation } from '../adaptation.ts';
import { ApiError } from '../errors.ts';
import type { InferencePool } from '../inference-pool.ts';
import { errorResponses } from '../schemas.ts';
import { toWorkInput, validationFormatter } from '../validation.ts';
import { apiErrorOf, runOptions } from './work.ts';

export interface CorrectionsRoutesOptions {
  readonly pool: InferencePool;
  /** Learns a stored correction at once, and forgets a user's when they are deleted. */
  readonly adaptation?: UserAdaptation;
  /** Bearer token for the export; without one the export does not exist (404). */
  readonly adminToken?: string;
}

function storeOf(app: FastifyInstance): CorrectionsStore {
  if (!app.corrections) {
    throw new ApiError(
      503,
      'corrections_unavailable',
      'this server keeps no corrections (it was started without a corrections store)',
    );
  }
  return app.corrections;
}

/** Seconds a client is asked to wait before trying a store that did not answer again. */
const STORE_RETRY_AFTER = 5;

/**
 * The store's own errors as the contract's answers; anything else is rethrown. `what` says
 * what did not happen ("the correction was not stored"), which for a write means nothing was
 * changed.
 */
function storeError(err: unknown, what: string): never {
  if (err instanceof CorrectionLimitError)
    throw new ApiError(409, 'too_many_corrections', err.message);
  if (err instanceof StoreUnavailableError) {
    throw new ApiError(
      503,
      'corrections_unavailable',
      `${what}: the corrections database is unavailable right now; try again shortly`,
      STORE_RETRY_AFTER,
    );
  }
  throw err;
}

/** 0..1 (ink = 1) to 0..255 bytes: the stored and exported form. */
export function toBytes(input: ArrayLike<number>): Uint8Array {
  const bytes = new Uint8Array(MODEL_PIXELS);
  for (let i = 0; i < MODEL_PIXELS; i++) bytes[i] = byteOfUnit(input[i]);
  return bytes;
}

/**
 * Stored bytes as the listing's 0..1, rounded to 4 decimals: the only conversion that rounds,
 * and rightly, as it is the wire form, not the network's input. It loses nothing (the 256
 * levels are 1/255 apart, 78 times the rounding, so Math.round(v * 255) gives each byte back)
 * and keeps the 784 numbers short ("0.5020", not "0.5019607843137255"). The server adapts from
 * the exact bytes / 255; the page, adapting in the browser with the listed corrections, sees
 * values at most 0.00005 off, too little to move a feature.
 */
const toUnit = (bytes: Uint8Array) =>
  Array.from(bytes, (b) => Math.round(unitOfByte(b) * 1e4) / 1e4);

const csvRows = (rows: Correction[]) =>
  rows.map((row) => mnistCsvRow(row.label, row.input)).join('');

const digest = (value: string) => createHash('sha256').update(value).digest();

export function registerCorrectionsRoutes(
  app: FastifyInstance,
  options: CorrectionsRoutesOptions,
): void {
  const { pool, adminToken, adaptation } = options;

  app.post<{ Body: CorrectionRequest }>(
    '/api/corrections',
    {
      bodyLimit: CORRECTION_BODY_LIMIT,
      schema: {
        summary: 'Store the right digit for a drawing the model read wrong',
        description:
          "The drawing as for POST /api/predict, its `label` and the `user`. The user's next predictions (with `user`) use it at once. 201 once it is stored durably. Errors: 400 invalid_request, 409 too_many_corrections (the user keeps 1,000 already), 413 payload_too_large (1 MB), 422 invalid_image or empty_image, 429 rate_limited or 503 overloaded (with Retry-After: the drawing is read by the same fairly shared workers as predictions), 503 corrections_unavailable (nothing was stored).",
        tags: ['corrections'],
        body: correctionRequestSchema,
        response: { 201: correctionCreatedSchema, ...errorResponses },
      },
      schemaErrorFormatter: validationFormatter('correction'),
      onRequest: admissionHook(pool),
    },
    async (request, reply) => {
      const store = storeOf(app);
      const { label, user } = request.body;
      const work = costOf({ ...toWorkInput(request.body, 'off'), features: true });
      const [result] = await pool.recognize([work], runOptions(request, reply));
      if (!result.ok) throw apiErrorOf(result);
      // Resolved once every instance has heard of it (SqlStore, acknowledgedWrite).
      const stored = await store
        .add({ user, label, input: toBytes(result.recognition.input) })
        .catch((err: unknown) =>
          storeError(err, 'the correction was not stored, nothing was changed'),
        );
      adaptation?.learned(stored, result.features);
      return reply.code(201).send({ id: stored.id, user: stored.user, label: stored.label });
    },
  );

  app.get<{ Querystring: UserQuery }>(
    '/api/corrections',
    {
      schema: {
        summary: "A user's corrections",
        description:
          'Oldest first. Errors: 400 invalid_request (a bad `user`), 503 corrections_unavailable.',
        tags: ['corrections'],
        querystring: userQuerySchema,
        response: { 200: correctionListSchema, ...errorResponses },
      },
      schemaErrorFormatter: validationFormatter('query'),
    },
    async (request): Promise<{ items: CorrectionItem[] }> => {
      const rows = await storeOf(app)
        .list(request.query.user)
        .catch((err: unknown) => storeError(err, 'the corrections could not be read'));
      return {
        items: rows.map((row) => ({
          id: row.id,
          label: row.label,
          created: row.created,
          input: toUnit(row.input),
        })),
      };
    },
  );

  app.delete<{ Querystring: UserQuery }>(
    '/api/corrections',
    {
      schema: {
        summary: "Forget a user's corrections",
        description:
          'Deletes every correction of the user; from then on none of them is kept or used. 204 also when there were none. Errors: 400 invalid_request, 503 corrections_unavailable (nothing was deleted: try again).',
        tags: ['corrections'],
        querystring: userQuerySchema,
        response: { 204: { type: 'null', description: 'Deleted.' }, ...errorResponses },
      },
      schemaErrorFormatter: validationFormatter('query'),
    },
    async (request, reply) => {
      const { user } = request.query;
      // Resolved once every instance has heard of it (SqlStore, acknowledgedWrite).
      await storeOf(app)
        .deleteUser(user)
        .catch((err: unknown) =>
          storeError(err, 'the corrections were not deleted, nothing was changed'),
        );
      adaptation?.forget(user);
      return reply.code(204).send();
    },
  );

  const expected = adminToken ? digest(adminToken) : null;
  app.get(
    '/api/corrections/export',
    {
      schema: {
        summary: 'Every stored correction as CSV (admin)',
        description:
          'The Kaggle MNIST layout: a header `label,pixel0,…,pixel783`, then one row per correction, 0-255 (ink = 255), oldest first. Needs `Authorization: Bearer <ADMIN_TOKEN>`: 401 without it, 404 when the server has no ADMIN_TOKEN. Train on it with `npm run train -- --corrections FILE.csv`.',
        tags: ['corrections'],
        security: [{ bearer: [] }],
        response: {
          200: {
            description: 'The corrections, as CSV.',
            content: { 'text/csv': { schema: { type: 'string' } } },
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      if (!expected) {
        throw new ApiError(404, 'not_found', 'the export is off: the server has no ADMIN_TOKEN');
      }
      // The scheme is case-insensitive (RFC 7235).
      const match = /^Bearer +(.+)$/i.exec(request.headers.authorization ?? '');
      if (!match || !timingSafeEqual(digest(match[1]), expected)) {
        reply.header('www-authenticate', 'Bearer');
        throw new ApiError(
          401,
          'unauthorized',
          'the export needs `Authorization: Bearer <ADMIN_TOKEN>`',
        );
      }
      const batches = storeOf(app).all()[Symbol.asyncIterator]();
      // The first batch is read before answering, so a database that is down is a 503, not
      // a CSV cut short.
      const first = await batches
        .next()
        .catch((err: unknown) => storeError(err, 'the corrections could not be exported'));
      async function* lines(): AsyncGenerator<string> {
        yield `${MNIST_CSV_HEADER}\n`;
        for (let next = first; !next.done; next = await batches.next()) yield csvRows(next.value);
      }
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', 'attachment; filename="corrections.csv"')
        .send(Readable.from(lines()));
    },
  );
}
