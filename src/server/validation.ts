/**
 * Request validation: one Ajv configuration for every route (no type coercion, no silent
 * removal of unknown fields: a request is either right or refused with a message that says
 * what to fix), the per-item check of batches, and the rules a JSON schema cannot say well
 * (image or pixels, and the pixel count).
 */
import { Ajv, type ErrorObject } from 'ajv';
import type { FastifySchemaValidationError } from 'fastify';
import type { Ensemble } from '../core/vote.ts';
import { ApiError } from './errors.ts';
import type { WorkInput, WorkOperation } from './inference-protocol.ts';
import { MAX_BATCH, MAX_PIXELS, predictRequestSchema, type PredictRequest } from './schemas.ts';
import { MAX_SIDE } from '../node/decode.ts';

export function createAjv(): Ajv {
  return new Ajv({
    // Fastify's defaults coerce "12" to 12 and drop unknown fields; the contract wants
    // wrong types and extra fields refused.
    coerceTypes: false,
    removeAdditional: false,
    useDefaults: false,
    allErrors: false,
    // Our schemas carry OpenAPI annotations (description) only, which Ajv knows.
    strict: true,
  });
}

type ValidationError = Pick<ErrorObject, 'keyword' | 'instancePath' | 'params' | 'message'>;

/** What a body may hold, for "unknown field" messages. */
export type Subject = 'prediction' | 'batch' | 'correction' | 'query';

const FIELDS: Record<Subject, string> = {
  prediction:
    'a prediction takes `image`, or `pixels` with `width`, `height` and optional `ink`, and an optional `ensemble` and `user`',
  batch: 'a batch takes `items` (up to 256 predictions) and an optional `ensemble`',
  correction:
    'a correction takes `image`, or `pixels` with `width`, `height` and optional `ink`, and `label` (0-9) and `user`',
  query: 'the query takes `user` only',
};

/** A batch's item is a prediction without `user` (the batch is not adapted). */
const ITEM_FIELDS =
  'a batch item takes `image`, or `pixels` with `width`, `height` and optional `ink`, and an optional `ensemble`';

const USER_RULE = 'must be 8-64 characters of A-Z, a-z, 0-9, `_` and `-`';

/** "/items/2/pixels/3" -> "items[2].pixels[3]". */
function fieldPath(instancePath: string, extra?: string): string {
  const parts = instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (extra !== undefined) parts.push(extra);
  return parts.reduce(
    (path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path ? `${path}.${part}` : part),
    '',
  );
}

const TYPE_NAMES: Record<string, string> = {
  number: 'a number',
  integer: 'an integer',
  string: 'a string',
  array: 'an array',
  object: 'a JSON object',
  boolean: 'true or false',
};

const isPixel = (path: string) => /(^|\.)pixels\[\d+\]$/.test(path);

/** One validation error as a sentence; `root` names the whole value ("the body"). */
function describeError(error: ValidationError, subject: Subject, root = 'the body'): string {
  const path = fieldPath(error.instancePath);
  const field = `\`${path}\``;
  const last = path.split(/[.[]/).pop() ?? '';
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return `missing \`${fieldPath(error.instancePath, String(params.missingProperty))}\``;
    case 'additionalProperties':
      return `unknown field \`${fieldPath(error.instancePath, String(params.additionalProperty))}\`: ${path ? ITEM_FIELDS : FIELDS[subject]}`;
    case 'pattern':
      if (last === 'user') return `${field} ${USER_RULE}`;
      return `${field} ${error.message ?? 'is invalid'}`;
    case 'type': {
      if (last === 'label') return `${field} must be a whole number from 0 to 9`;
      if (isPixel(path)) {
        return `${field} must be a number from 0 to 255 (JSON has no NaN or Infinity; null is not a number)`;
      }
      const type = TYPE_NAMES[String(params.type)] ?? String(params.type);
      return path ? `${field} must be ${type}` : `${root} must be ${type}`;
    }
    case 'enum':
      return `${field} must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'minimum':
    case 'maximum':
      if (isPixel(path)) {
        return `${field} must be a grayscale value between 0 and 255`;
      }
      if (last === 'label') return `${field} must be a digit from 0 to 9`;
      if (last === 'width' || last === 'height') {
        return `${field} must be between 1 and ${MAX_SIDE}`;
      }
      return `${field} ${error.message ?? 'is out of range'}`;
    case 'maxItems':
      if (last === 'items') return `${field} has more than ${MAX_BATCH} entries: split the batch`;
      if (last === 'pixels') {
        return `${field} has more than ${MAX_PIXELS} values (${MAX_SIDE}x${MAX_SIDE}): send a smaller image`;
      }
      return `${field} ${error.message ?? 'is too long'}`;
    case 'minLength':
      return `${field} must not be empty`;
    case 'maxLength':
      return last === 'user' ? `${field} ${USER_RULE}` : `${field} is too long`;
    default:
      return path
        ? `${field} ${error.message ?? 'is invalid'}`
        : `${root} ${error.message ?? 'is invalid'}`;
  }
}

/** The schemaErrorFormatter of a route: Fastify answers 400 with this message. */
export function validationFormatter(subject: Subject) {
  return (errors: FastifySchemaValidationError[]): Error => {
    // Ajv stops at the first error (allErrors: false); one precise message is enough.
    return new Error(errors.length ? describeError(errors[0], subject) : 'the body is invalid');
  };
}

const MAX_SIDE_HINT = `${MAX_SIDE}x${MAX_SIDE}`;

/**
 * The rules beyond the schema, and the conversion to what a worker needs. Throws an
 * ApiError (400 invalid_request) naming the field to fix; `where` prefixes batch items.
 */
export function toWorkInput(
  body: PredictRequest,
  defaultEnsemble: Ensemble,
  where = '',
  operation: WorkOperation = 'recognize',
): WorkInput {
  const fail = (message: string) => new ApiError(400, 'invalid_request', `${where}${message}`);
  const ensemble = body.ensemble ?? defaultEnsemble;
  const { image, pixels, width, height, ink, layout } = body;
  if (layout !== undefined && operation !== 'read')
    throw fail('`layout` is for POST /api/read: a prediction reads one digit');
  const read = layout === undefined ? {} : { layout };
  if (image !== undefined && pixels !== undefined) {
    throw fail('send either `image` or `pixels`, not both');
  }
  if (image !== undefined) {
    if (image === '') {
      throw fail(
        '`image` must not be empty: send a PNG or JPEG data URL, or bare base64 (or `pixels`)',
      );
    }
    const stray = (['width', 'height', 'ink'] as const).filter((k) => body[k] !== undefined);
    if (stray.length) {
      throw fail(
        `${stray.map((k) => `\`${k}\``).join(', ')} only go with \`pixels\`: an \`image\` carries its own size and is dark ink on light`,
      );
    }
    return { kind: 'image', image, ensemble, ...read };
  }
  if (pixels === undefined) {
    throw fail(
      'send either `image` (a PNG or JPEG data URL, or bare base64) or `pixels` with `width` and `height`',
    );
  }
  if (width === undefined || height === undefined) {
    throw fail('`pixels` needs `width` and `height` (row-major, width x height values)');
  }
  if (pixels.length !== width * height) {
    throw fail(
      `\`pixels\` has ${pixels.length} values but \`width\` x \`height\` is ${width}x${height} = ${width * height}: send exactly that many, row-major (at most ${MAX_SIDE_HINT})`,
    );
  }
  // Float32Array: transferred to the worker without a copy, and all the recognizer needs.
  return {
    kind: 'pixels',
    pixels: Float32Array.from(pixels),
    width,
    height,
    ink: ink ?? 'dark',
    ensemble,
    ...read,
  };
}

export type ItemCheck =
  | { readonly ok: true; readonly input: WorkInput }
  | { readonly ok: false; readonly error: ApiError };

/** Checks batch items one by one, so that a bad item gets its own error. */
export function createItemChecker(
  ajv: Ajv,
  operation: WorkOperation,
): (item: unknown, index: number, ensemble: Ensemble) => ItemCheck {
  const validate = ajv.compile<PredictRequest>(predictRequestSchema);
  return (item, index, ensemble) => {
    const where = `items[${index}]: `;
    if (!validate(item)) {
      const first = validate.errors?.[0];
      const message = first
        ? describeError(first, 'prediction', 'the item')
        : 'the item is invalid';
      return { ok: false, error: new ApiError(400, 'invalid_request', `${where}${message}`) };
    }
    try {
      return { ok: true, input: toWorkInput(item, ensemble, where, operation) };
    } catch (err) {
      if (err instanceof ApiError) return { ok: false, error: err };
      throw err;
    }
  };
}
