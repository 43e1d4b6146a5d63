/**
 * What the routes of work share: admission before the body is read, the client and its
 * going away, a batch's pixel limit (413), a worker's failure as the contract's error, and
 * the answers of a batch, whose bad items each get their own error object, serialized a few
 * at a time.
 */
import { setImmediate as turn } from 'node:timers/promises';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { abandonedSignal, clientOf, declaredBytes } from '../admission.ts';
import { batchPixelsError, type CostedInput } from '../cost.ts';
import { ApiError, type ErrorBody } from '../errors.ts';
import type { RunOptions } from '../inference-pool.ts';
import type { WorkFailure } from '../inference-protocol.ts';
import type { CostedItem } from '../work-body.ts';

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

/**
 * Refuses the batch (413) if the pixels of the items that passed their checks are over
 * `maxPixels`, runs them in one call, and answers every item in order: its value, or its
 * error (a failed check, its header's, or the worker's) naming the item.
 */
export async function answerBatch<Result extends { ok: true } | WorkFailure, Answer>(
  costed: readonly CostedItem[],
  maxPixels: number,
  run: (inputs: CostedInput[]) => Promise<Result[]>,
  answer: (result: Exclude<Result, WorkFailure>) => Answer,
): Promise<(Answer | ErrorBody)[]> {
  const inputs = costed.flatMap((check) => (check.ok ? [check.input] : []));
  const tooLarge = batchPixelsError(inputs, maxPixels);
  if (tooLarge) throw new ApiError(413, 'payload_too_large', tooLarge);
  const results = await run(inputs);
  let next = 0;
  return costed.map((check, i): Answer | ErrorBody => {
    if (!check.ok) return { error: { code: check.error.code, message: check.error.message } };
    const result = results[next++];
    if (result.ok) return answer(result as Exclude<Result, WorkFailure>);
    const error = apiErrorOf(result as WorkFailure);
    return { error: { code: error.code, message: `items[${i}]: ${error.message}` } };
  });
}

/** How long serializing a batch's answers holds the event loop before others get a turn. */
const SERIALIZE_SLICE_MS = 2;

/**
 * A batch's answer as JSON, `{"results":[...]}`, each result serialized by `serialize` (the
 * route's schema for one result), yielding to the event loop every SERIALIZE_SLICE_MS.
 */
export async function serializeBatch<Result>(
  results: readonly Result[],
  serialize: (result: Result) => string,
): Promise<string> {
  const parts: string[] = [];
  let slice = performance.now();
  for (const result of results) {
    parts.push(serialize(result));
    if (performance.now() - slice > SERIALIZE_SLICE_MS) {
      await turn();
      slice = performance.now();
    }
  }
  return `{"results":[${parts.join(',')}]}`;
}
