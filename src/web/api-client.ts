/** The server's recognition API (design.md, "Numbers"): POST api/read with a PNG of the pad. */
import type { Reading, Recognition } from '../recognizer/answers.ts';
import type { Ensemble } from '../core/vote.ts';

/** The server answered with an error of the API contract (`{"error":{"code","message"}}`). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** No answer from the server at all, or not the API's answer (a proxy's error page). */
export class ServerUnreachableError extends Error {
  constructor(message = 'The recognition server cannot be reached.') {
    super(message);
    this.name = 'ServerUnreachableError';
  }
}

export interface ServerReading {
  readonly reading: Reading;
  /** From sending the request to the parsed answer, ms. */
  readonly roundTripMs: number;
  /** The server's own time for the request (its Server-Timing `app`), ms; null if not said. */
  readonly serverMs: number | null;
}

/** The `app` duration of a Server-Timing header, ms. */
export function serverTimingMs(header: string | null): number | null {
  const dur = header && /(?:^|,)\s*app\s*;[^,]*\bdur=([\d.]+)/.exec(header)?.[1];
  return dur ? Number(dur) : null;
}

/** Relative, so the page works wherever the server mounts it. */
const READ_URL = 'api/read';

function isNumberArray(value: unknown, length?: number): value is number[] {
  return (
    Array.isArray(value) &&
    (length === undefined || value.length === length) &&
    value.every((v) => typeof v === 'number')
  );
}

/** What the user's corrections did to an answer (absent when the request named no user). */
function isAdaptation(value: unknown): boolean {
  if (value === undefined) return true;
  if (typeof value !== 'object' || value === null) return false;
  const a = value as Record<string, unknown>;
  return (
    typeof a.corrections === 'number' &&
    typeof a.neighbours === 'number' &&
    typeof a.modelDigit === 'number'
  );
}

function isRecognition(body: unknown): body is Recognition {
  if (typeof body !== 'object' || body === null) return false;
  const r = body as Record<string, unknown>;
  return (
    typeof r.digit === 'number' &&
    typeof r.confidence === 'number' &&
    isNumberArray(r.probabilities, 10) &&
    isNumberArray(r.votes, 10) &&
    isNumberArray(r.input, 784) &&
    typeof r.ms === 'number' &&
    typeof r.unsure === 'boolean' &&
    isAdaptation(r.adaptation)
  );
}

function isReading(body: unknown): body is Reading {
  if (typeof body !== 'object' || body === null) return false;
  const r = body as Record<string, unknown>;
  return (
    typeof r.text === 'string' &&
    typeof r.ms === 'number' &&
    Array.isArray(r.digits) &&
    r.digits.length > 0 &&
    r.digits.every((d: unknown) => {
      const box = (d as { box?: unknown }).box;
      return isRecognition(d) && typeof box === 'object' && box !== null;
    })
  );
}

function errorOf(body: unknown): { code: string; message: string } | null {
  if (typeof body !== 'object' || body === null) return null;
  const error = (body as { error?: unknown }).error;
  if (typeof error !== 'object' || error === null) return null;
  const { code, message } = error as { code?: unknown; message?: unknown };
  return typeof code === 'string' && typeof message === 'string' ? { code, message } : null;
}

/**
 * fetch, with no answer at all (the server is gone, the network down) told as
 * ServerUnreachableError(`message`) rather than the browser's "Failed to fetch"; a request
 * its caller aborted rejects as it did.
 */
export async function reach(url: string, init: RequestInit, message?: string): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (err) {
    if (init.signal?.aborted) throw err;
    throw new ServerUnreachableError(message);
  }
}

/** POSTs a drawing to `url`; the answer if `valid` accepts it, else the contract's error. */
async function postDrawing<T>(
  url: string,
  image: string,
  ensemble: Ensemble,
  valid: (body: unknown) => body is T,
  /** Whose corrections adapt the answer (the page's random user ID). */
  user?: string,
  signal?: AbortSignal,
): Promise<{ body: T; roundTripMs: number; serverMs: number | null }> {
  const start = performance.now();
  const response = await reach(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify(user ? { image, ensemble, user } : { image, ensemble }),
    signal,
  });
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  const roundTripMs = performance.now() - start;
  const serverMs = serverTimingMs(response.headers.get('server-timing'));
  if (response.ok && valid(body)) return { body, roundTripMs, serverMs };
  const error = errorOf(body);
  if (error) throw new ApiError(response.status, error.code, error.message);
  throw new ServerUnreachableError(
    `The recognition server did not answer properly (HTTP ${response.status}).`,
  );
}

/** Reads the number in a drawing (POST api/read). */
export async function readOnServer(
  image: string,
  ensemble: Ensemble,
  /** Whose corrections adapt the answer (the page's random user ID). */
  user?: string,
  signal?: AbortSignal,
): Promise<ServerReading> {
  const { body, roundTripMs, serverMs } = await postDrawing(
    READ_URL,
    image,
    ensemble,
    isReading,
    user,
    signal,
  );
  return { reading: body, roundTripMs, serverMs };
}
