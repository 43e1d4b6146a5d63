/**
 * What the routes of work share: admission before the body is read, the client and its
 * going away, the cost of every input (an image its header refuses is that item's 422), a
 * batch's pixel limit (413), a worker's failure as the contract's error, and the answers
 * of a batch, whose bad items each get their own error object.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { InputError } from '../../core/errors.ts';
import { abandonedSignal, clientOf, declaredBytes } from '../admission.ts';
import { batchPixelsError, costOf, type CostedInput } from '../cost.ts';
import { ApiError, fromInputError, type ErrorBody } from '../errors.ts';
import type { RunOptions } from '../inference-pool.ts';
import type { WorkFailure, WorkOperation } from '../inference-protocol.ts';
import type { ItemCheck } from '../validation.ts';

const STATUS: Record<WorkFailure['code'], number> = {
  invalid_request: 400,
  invalid_image: 422,
  empty_image: 422,
  internal_error: 500,
};

/** The contract's error (status, code, message) for a worker's failure. */
export function apiErrorOf(failure: WorkFailure): ApiError {
  return new ApiError(STATUS[failure.code], failure.code, failure.message);
}

/** A worker's result when it answered; its failure is thrown as the contract's error. */
export function succeeded<Result extends { readonly ok: true } | WorkFailure>(
  result: Result,
): Exclude<Result, WorkFailure> {
  if (!result.ok) throw apiErrorOf(result);
  return result as Exclude<Result, WorkFailure>;
}

/** Who asks, and a signal for their going away: what the pool needs besides the inputs. */
export function runOptions(request: FastifyRequest, reply: FastifyReply): RunOptions {
  return {
    client: clientOf(request),
    signal: abandonedSignal(reply),
    bytes: declaredBytes(request),
  };
}

type CostedCheck =
  | { readonly ok: true; readonly input: CostedInput }
  | { readonly ok: false; readonly error: ApiError };

/** A checked item with its cost, or the error of an image whose header refuses it. */
function costItem(check: ItemCheck, index: number, operation: WorkOperation): CostedCheck {
  if (!check.ok) return check;
  try {
    return { ok: true, input: costOf(check.input, operation) };
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    const error = fromInputError(err);
    return {
      ok: false,
      error: new ApiError(error.statusCode, error.code, `items[${index}]: ${error.message}`),
    };
  }
}

/**
 * Costs the items that passed their checks, refuses the batch (413) if their pixels are over
 * `maxPixels`, runs them in one call, and answers every item in order: its value, or its
 * error (a failed check, its header's, or the worker's) naming the item.
 */
export async function answerBatch<Result extends { ok: true } | WorkFailure, Answer>(
  checks: readonly ItemCheck[],
  batch: { readonly operation: WorkOperation; readonly maxPixels: number },
  run: (inputs: CostedInput[]) => Promise<Result[]>,
  answer: (result: Exclude<Result, WorkFailure>) => Answer,
): Promise<(Answer | ErrorBody)[]> {
  const costed = checks.map((check, i) => costItem(check, i, batch.operation));
  const inputs = costed.flatMap((check) => (check.ok ? [check.input] : []));
  const tooLarge = batchPixelsError(inputs, batch.maxPixels);
  if (tooLarge) throw new ApiError(413, 'payload_too_large', tooLarge);
  const results = await run(inputs);
  let next = 0;
  return costed.map((check, i): Answer | ErrorBody => {
    if (!check.ok) return check.error.body;
    const result = results[next++];
    if (result.ok) return answer(result as Exclude<Result, WorkFailure>);
    const error = apiErrorOf(result as WorkFailure);
    return { error: { code: error.code, message: `items[${i}]: ${error.message}` } };
  });
}
