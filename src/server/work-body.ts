/**
 * The body of a request of work made ready for the inference pool: checked against its
 * schema and the rules beyond it (validation.ts), each image's cost read from its header
 * (cost.ts), pixel arrays made Float32Arrays. A small body is prepared on the main thread, in
 * its route's handler; a large one in the body worker (body-worker.ts), so that its parsing
 * never holds the event loop that answers everyone (issue 26). Both run `createWorkPreparer`,
 * so both give the same answers and errors. What it returns is plain data that crosses
 * threads: errors as their status, code and message.
 */
import type { Ajv } from 'ajv';
import { InputError } from '../core/errors.ts';
import type { Ensemble } from '../core/vote.ts';
import {
  adaptivePredictRequestSchema,
  type AdaptivePredictRequest,
} from './corrections-schemas.ts';
import { costOf, type CostedInput } from './cost.ts';
import { ApiError, fromInputError, type ErrorBody } from './errors.ts';
import type { WorkOperation } from './inference-protocol.ts';
import { batchEnvelopeSchema, type BatchRequest } from './schemas.ts';
import {
  createItemChecker,
  toWorkInput,
  validationFormatter,
  type ItemCheck,
} from './validation.ts';

/** Which route's body: one image or a batch, for `operation`. */
export interface WorkRoute {
  readonly operation: WorkOperation;
  readonly batch: boolean;
}

/** An ApiError as data (it crosses threads). */
export interface ErrorData {
  readonly statusCode: number;
  readonly code: ErrorBody['error']['code'];
  readonly message: string;
}

export const errorData = (error: ApiError): ErrorData => ({
  statusCode: error.statusCode,
  code: error.code,
  message: error.message,
});

export const apiErrorFrom = (error: ErrorData): ApiError =>
  new ApiError(error.statusCode, error.code, error.message);

/** One batch item with its cost, or its own error. */
export type CostedItem =
  | { readonly ok: true; readonly input: CostedInput }
  | { readonly ok: false; readonly error: ErrorData };

export type PreparedWork =
  /** The whole request is refused (400, or 422 for a single image's header). */
  | { readonly kind: 'refused'; readonly error: ErrorData }
  | { readonly kind: 'single'; readonly input: CostedInput; readonly user?: string }
  | { readonly kind: 'batch'; readonly items: CostedItem[] };

/** A checked item with its cost, or the error of an image whose header refuses it. */
export function costItem(check: ItemCheck, index: number, operation: WorkOperation): CostedItem {
  if (!check.ok) return { ok: false, error: errorData(check.error) };
  try {
    return { ok: true, input: costOf(check.input, operation) };
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    const error = fromInputError(err);
    return {
      ok: false,
      error: { ...errorData(error), message: `items[${index}]: ${error.message}` },
    };
  }
}

/** The ArrayBuffers of a prepared body's pixel arrays: moved, not copied, between threads. */
export function transferablesOf(prepared: PreparedWork): ArrayBuffer[] {
  const inputs =
    prepared.kind === 'single'
      ? [prepared.input]
      : prepared.kind === 'batch'
        ? prepared.items.flatMap((item) => (item.ok ? [item.input] : []))
        : [];
  return inputs.flatMap(({ input }) =>
    input.kind === 'pixels' ? [input.pixels.buffer as ArrayBuffer] : [],
  );
}

/**
 * Prepares a parsed body for its route, checking what Fastify's schema validation, the
 * route's handler and the image headers check, in that order.
 */
export function createWorkPreparer(ajv: Ajv): (route: WorkRoute, body: unknown) => PreparedWork {
  const validateSingle = ajv.compile<AdaptivePredictRequest>(adaptivePredictRequestSchema);
  const validateEnvelope = ajv.compile<BatchRequest>(batchEnvelopeSchema);
  const checkers = {
    recognize: createItemChecker(ajv, 'recognize'),
    read: createItemChecker(ajv, 'read'),
  };
  const refused = (error: Error, statusCode = 400): PreparedWork => ({
    kind: 'refused',
    error:
      error instanceof ApiError
        ? errorData(error)
        : { statusCode, code: 'invalid_request', message: error.message },
  });

  return ({ operation, batch }, body) => {
    if (batch) {
      if (!validateEnvelope(body))
        return refused(validationFormatter('batch')(validateEnvelope.errors ?? []));
      const ensemble: Ensemble = body.ensemble ?? 'vote';
      const check = checkers[operation];
      return {
        kind: 'batch',
        items: body.items.map((item, i) => costItem(check(item, i, ensemble), i, operation)),
      };
    }
    if (!validateSingle(body))
      return refused(validationFormatter('prediction')(validateSingle.errors ?? []));
    const { user, ...request } = body;
    try {
      const input = costOf(toWorkInput(request, 'vote', '', operation), operation);
      return user === undefined ? { kind: 'single', input } : { kind: 'single', input, user };
    } catch (err) {
      if (err instanceof InputError) return refused(fromInputError(err));
      if (err instanceof ApiError) return refused(err);
      throw err;
    }
  };
}
