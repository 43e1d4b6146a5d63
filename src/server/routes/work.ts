/**
 * What the recognition routes share: a worker's input error as the contract's error, and
 * the answers of a batch, whose bad items each get their own error object.
 */
import { ApiError, type ErrorBody } from '../errors.ts';
import type { WorkError, WorkInput } from '../inference-protocol.ts';
import type { ItemCheck } from '../validation.ts';

const STATUS: Record<WorkError['code'], number> = {
  invalid_request: 400,
  invalid_image: 422,
  empty_image: 422,
  internal_error: 500,
};

export function workError(result: WorkError): ApiError {
  return new ApiError(STATUS[result.code], result.code, result.message);
}

/**
 * Runs the items that passed their checks in one call, and answers every item in order:
 * its value, or its error (a failed check, or the worker's) naming the item.
 */
export async function answerBatch<Result extends { ok: true } | WorkError, Answer>(
  checks: readonly ItemCheck[],
  run: (inputs: WorkInput[]) => Promise<Result[]>,
  answer: (result: Exclude<Result, WorkError>) => Answer,
): Promise<(Answer | ErrorBody)[]> {
  const inputs = checks.flatMap((check) => (check.ok ? [check.input] : []));
  const results = await run(inputs);
  let next = 0;
  return checks.map((check, i): Answer | ErrorBody => {
    if (!check.ok) return check.error.body;
    const result = results[next++];
    if (result.ok) return answer(result as Exclude<Result, WorkError>);
    const error = workError(result as WorkError);
    return { error: { code: error.code, message: `items[${i}]: ${error.message}` } };
  });
}
