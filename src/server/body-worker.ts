/**
 * The body worker's task (json-body.ts): parses a large request body of work and prepares it
 * for the inference pool (work-body.ts), off the main thread. Pixel arrays go back moved, not
 * copied.
 */
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { ApiError } from './errors.ts';
import { parseJson, type BodyResult, type BodyTask } from './json-body.ts';
import { createAjv } from './validation.ts';
import { createWorkPreparer, errorData, transferablesOf } from './work-body.ts';

const prepare = createWorkPreparer(createAjv());

export default function prepareBody({
  body,
  route,
}: BodyTask): BodyResult | ReturnType<typeof move> {
  let value: unknown;
  try {
    value = parseJson(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch (err) {
    if (err instanceof ApiError) return { kind: 'unparsable', error: errorData(err) };
    throw err;
  }
  const result: BodyResult = { kind: 'prepared', work: prepare(route, value) };
  const buffers = transferablesOf(result.work);
  if (buffers.length === 0) return result;
  return move({
    get [transferableSymbol]() {
      return buffers;
    },
    get [valueSymbol]() {
      return result;
    },
  });
}
