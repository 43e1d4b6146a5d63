/**
 * Every error the API gives is `{"error": {"code", "message"}}` with the contract's status
 * (design.md). This module turns whatever went wrong (our own errors, the recognizer's input
 * errors, Fastify's parser and validation errors, the rate limiter) into that answer.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { InputError } from '../core/errors.ts';

export type ErrorCode =
  | 'invalid_request'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'invalid_image'
  | 'empty_image'
  | 'rate_limited'
  | 'overloaded'
  /** 499 in the request log and metrics: the client went away; nobody reads the body. */
  | 'client_closed'
  | 'not_found'
  | 'page_not_built'
  | 'not_ready'
  | 'model_unavailable'
  | 'unauthorized'
  | 'too_many_corrections'
  | 'corrections_unavailable'
  | 'internal_error';

export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: ErrorCode,
    message: string,
    /** Seconds for a Retry-After header (429 and 503 answers that a retry may cure). */
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  get body(): ErrorBody {
    return { error: { code: this.code, message: this.message } };
  }
}

const INPUT_STATUS: Record<InputError['code'], number> = {
  invalid_request: 400,
  invalid_image: 422,
  empty_image: 422,
};

export function fromInputError(err: InputError): ApiError {
  return new ApiError(INPUT_STATUS[err.code], err.code, err.message);
}

function megabytes(bytes: number): string {
  return `${Math.round((bytes / (1024 * 1024)) * 10) / 10} MB`;
}

function isFastifyError(err: unknown): err is FastifyError {
  return err instanceof Error && 'code' in err;
}

/** What went wrong, as the contract's status, code and a message saying what to fix. */
export function toApiError(err: unknown, request: FastifyRequest, bodyLimit: number): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof InputError) return fromInputError(err);
  if (!(err instanceof Error)) return new ApiError(500, 'internal_error', 'unexpected failure');
  const fastifyError = isFastifyError(err) ? err : undefined;
  if (fastifyError?.validation) {
    // The message comes from formatValidationErrors (validation.ts).
    return new ApiError(400, 'invalid_request', err.message);
  }
  switch (fastifyError?.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': {
      const type = request.headers['content-type'];
      return new ApiError(
        415,
        'unsupported_media_type',
        `the body must be JSON sent with Content-Type: application/json${type ? ` (got ${type})` : ' (no Content-Type was sent)'}`,
      );
    }
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError(
        413,
        'payload_too_large',
        // A route may set a smaller limit of its own (a correction is one drawing).
        `the body is larger than the ${megabytes(request.routeOptions.bodyLimit ?? bodyLimit)} limit: send a smaller image (at most 2048x2048), or split the batch`,
      );
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ApiError(400, 'invalid_request', 'the body is empty: send a JSON object');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ApiError(400, 'invalid_request', 'the body does not match its Content-Length');
  }
  const status = fastifyError?.statusCode ?? 500;
  if (status === 429) return new ApiError(429, 'rate_limited', err.message);
  if (status === 404) return new ApiError(404, 'not_found', err.message);
  if (status === 413) return new ApiError(413, 'payload_too_large', err.message);
  if (status >= 400 && status < 500) return new ApiError(status, 'invalid_request', err.message);
  return new ApiError(
    500,
    'internal_error',
    'the server failed to answer this request; the failure has been logged',
  );
}

export function sendError(reply: FastifyReply, error: ApiError): FastifyReply {
  if (error.retryAfter !== undefined) reply.header('retry-after', String(error.retryAfter));
  return reply.code(error.statusCode).type('application/json; charset=utf-8').send(error.body);
}
