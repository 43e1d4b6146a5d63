/** Assertions on the HTTP contract of design.md, shared by the API tests. */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { buildApp, type AppOptions } from '../../src/server/app.ts';
import { dataUrl, drawDigit, SEVEN } from './images.ts';

export interface RecognitionBody {
  digit: number;
  confidence: number;
  probabilities: number[];
  votes: number[];
  variants: number;
  ensemble: string;
  input: number[];
  ms: number;
  unsure: boolean;
  reason: 'not_a_digit' | 'ambiguous' | null;
  alternatives?: { digit: number; confidence: number }[];
}

export interface ErrorBody {
  error: { code: string; message: string };
}

/**
 * `ofNumber`: a digit of a number of several, which is answered from the plain pass alone
 * (one variant) when both models are sure of it.
 */
export function expectRecognition(
  body: unknown,
  ensemble = 'vote',
  ofNumber = false,
): RecognitionBody {
  const r = body as RecognitionBody;
  const keys = ['confidence', 'digit', 'ensemble', 'input', 'ms', 'probabilities', 'reason'];
  keys.push('unsure', 'variants', 'votes', ...(r.reason === 'ambiguous' ? ['alternatives'] : []));
  expect(Object.keys(r).sort()).toEqual(keys.sort());
  expect(r.unsure).toBe(r.reason !== null);
  for (const a of r.alternatives ?? []) {
    expect(a.digit).not.toBe(r.digit);
    expect(a.confidence).toBeCloseTo(r.probabilities[a.digit], 6);
  }
  expect(Number.isInteger(r.digit) && r.digit >= 0 && r.digit <= 9).toBe(true);
  expect(r.ensemble).toBe(ensemble);
  if (ensemble === 'off') expect(r.variants).toBe(1);
  else if (ofNumber) expect([1, 10]).toContain(r.variants);
  else expect(r.variants).toBe(10);
  expect(r.probabilities).toHaveLength(10);
  expect(r.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
  expect(r.confidence).toBeCloseTo(r.probabilities[r.digit], 6);
  expect(r.votes).toHaveLength(10);
  expect(r.votes.every(Number.isInteger)).toBe(true);
  expect(r.votes.reduce((a, b) => a + b, 0)).toBe(r.variants);
  expect(r.input).toHaveLength(784);
  expect(r.input.every((v) => v >= 0 && v <= 1)).toBe(true);
  expect(r.ms).toBeGreaterThanOrEqual(0);
  return r;
}

export function expectError(res: LightMyRequestResponse, status: number, code: string): string {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  const body = res.json<ErrorBody>();
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe('string');
  expect(body.error.message.length).toBeGreaterThan(10);
  return body.error.message;
}

const goodImage = dataUrl(drawDigit(SEVEN).png());

/** The server still answers a good prediction (after a bad one). */
export async function expectHealthy(app: FastifyInstance): Promise<void> {
  const res = await app.inject({
    method: 'POST',
    url: '/api/predict',
    payload: { image: goodImage },
  });
  expect(res.statusCode, res.body).toBe(200);
  expectRecognition(res.json());
}

export function postJson(app: FastifyInstance, url: string, payload: unknown) {
  return app.inject({ method: 'POST', url, payload: payload as object });
}

/** An app as the API tests use it (no rate limit unless asked), its workers warmed up. */
export async function readyApp(options: AppOptions = { rateLimit: 0 }): Promise<FastifyInstance> {
  const app = await buildApp(options);
  await app.inference.whenReady();
  return app;
}
